"""Settings of the mock Databox account, with the published limits as defaults."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# The push API documents 10 requests per second per account.
DOCUMENTED_PUSH_RATE_PER_S = 10.0
# The ingestion API has a rate limit but publishes no number. The push API's figure is
# the nearest documented one, so the mock uses it until a measured value is known.
ASSUMED_INGEST_RATE_PER_S = 10.0
# developers.databox.com/responses-errors has given 500 kB per request and 1 MB. Neither
# version is dated. The 500 kB one still lists errors returned with HTTP 200, as the API
# did before the status codes that the 2.x SDKs act on, so 1 MB is taken as the newer.
# Set the field to 500_000 to test the older figure.
DOCUMENTED_PAYLOAD_LIMIT_BYTES = 1_000_000
# The ingestion API takes at most 100 records per call.
DOCUMENTED_MAX_RECORDS_PER_INGEST = 100


@dataclass
class DataboxConfig:
    """Credentials, limits and simulated server behaviour of one mock account."""

    push_token: str = "push-token-0001"
    api_key: str = "ingest-key-0001"
    push_rate_per_s: float = DOCUMENTED_PUSH_RATE_PER_S
    ingest_rate_per_s: float = ASSUMED_INGEST_RATE_PER_S
    payload_limit_bytes: int = DOCUMENTED_PAYLOAD_LIMIT_BYTES
    max_records_per_ingest: int = DOCUMENTED_MAX_RECORDS_PER_INGEST
    # Whether a row whose primary key is already stored replaces that row (True) or is
    # appended beside it (False). The docs confirm neither, so upsert is the default.
    upsert: bool = True
    # Simulated seconds from an accepted ingestion call until its rows are readable and
    # its status is "completed". The service processes ingestions asynchronously but
    # publishes no duration, so 0 (readable at once) is the default.
    ingest_processing_s: float = 0.0
    # Metric keys whose daily value is the latest data point rather than the sum of the
    # day's points. Databox sums pushed points by default.
    latest_value_metrics: frozenset[str] = field(default_factory=frozenset)
    # Simulated server time before each response, slept on the loop's (virtual) clock.
    response_latency_s: float = 0.05
    # Seeds the generator of push ids, dataset ids and ingestion ids.
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("push_token", "api_key"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name}={value!r}: must be a non-empty string")
        for name in ("push_rate_per_s", "ingest_rate_per_s"):
            rate = getattr(self, name)
            if not _is_number(rate) or not 0 < rate <= 1_000_000:
                raise ValueError(f"{name}={rate!r}: must be a number in (0, 1000000]")
        if not _is_int(self.payload_limit_bytes) or not (
            1_024 <= self.payload_limit_bytes <= 100_000_000
        ):
            raise ValueError(
                f"payload_limit_bytes={self.payload_limit_bytes!r}: "
                "must be an integer in [1024, 100000000]"
            )
        if not _is_int(self.max_records_per_ingest) or not (
            1 <= self.max_records_per_ingest <= 100_000
        ):
            raise ValueError(
                f"max_records_per_ingest={self.max_records_per_ingest!r}: "
                "must be an integer in [1, 100000]"
            )
        if not isinstance(self.upsert, bool):
            raise ValueError(f"upsert={self.upsert!r}: must be True or False")
        if (
            not _is_number(self.ingest_processing_s)
            or not 0 <= self.ingest_processing_s <= 86_400
        ):
            raise ValueError(
                f"ingest_processing_s={self.ingest_processing_s!r}: "
                "must be a number of seconds in [0, 86400]"
            )
        if not isinstance(self.latest_value_metrics, frozenset) or not all(
            isinstance(key, str) for key in self.latest_value_metrics
        ):
            raise ValueError(
                f"latest_value_metrics={self.latest_value_metrics!r}: "
                "must be a frozenset of metric keys"
            )
        if (
            not _is_number(self.response_latency_s)
            or not 0 <= self.response_latency_s <= 60
        ):
            raise ValueError(
                f"response_latency_s={self.response_latency_s!r}: "
                "must be a number of seconds in [0, 60]"
            )
        if not _is_int(self.seed):
            raise ValueError(f"seed={self.seed!r}: must be an integer")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )
