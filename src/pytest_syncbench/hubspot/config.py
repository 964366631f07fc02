"""Settings of the mock HubSpot account: tier, latency, search lag and webhook delivery.

Defaults follow HubSpot's developer docs as of 2026 (usage guidelines, CRM search guide,
webhooks guide). Where the docs are silent the default is a guess, marked as such, and is a
field so that a scenario can change it. The server reads these fields on every request, so
a scenario may change latencies or limits while the mock runs.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar


class Tier(enum.StrEnum):
    """Rate-limit tier of the account, as HubSpot's usage guidelines name them."""

    FREE = "free"
    STARTER = "starter"
    PROFESSIONAL = "professional"
    ENTERPRISE = "enterprise"
    OAUTH = "oauth"


@dataclass(frozen=True, slots=True)
class TierLimits:
    burst_per_10s: int
    # None for OAuth public apps, which HubSpot does not give a daily limit.
    daily: int | None


# Private app limits from HubSpot's API usage guidelines (2024 and later): the 10-second
# burst is per app and the daily limit per account. OAuth apps get 110 per 10 s per
# installing account and no daily limit. Professional uses 625,000 a day, the value in the
# usage guidelines table, although a 2024 changelog entry gives 650,000.
TIER_LIMITS: dict[Tier, TierLimits] = {
    Tier.FREE: TierLimits(100, 250_000),
    Tier.STARTER: TierLimits(100, 250_000),
    Tier.PROFESSIONAL: TierLimits(190, 625_000),
    Tier.ENTERPRISE: TierLimits(190, 1_000_000),
    Tier.OAUTH: TierLimits(110, None),
}

# The API limit increase capacity pack (HubSpot changelog "Increasing our API limits",
# 2024). Each pack adds 1,000,000 requests a day, and an account can buy at most two. Any
# number of packs raises a private app's burst to 250 per 10 s, because that raise does
# not stack.
MAX_LIMIT_INCREASE_PACKS = 2
PACK_BURST_PER_10S = 250
PACK_DAILY = 1_000_000


# Scopes a private app or OAuth token needs for the companies API (HubSpot scopes reference).
COMPANIES_READ_SCOPE = "crm.objects.companies.read"
COMPANIES_WRITE_SCOPE = "crm.objects.companies.write"


class ListOverLimit(enum.StrEnum):
    """Policy for a list ``limit`` above 100, which HubSpot does not document."""

    CAP = "cap"
    ERROR = "error"


@dataclass
class HubSpotConfig:
    """Every knob of the mock HubSpot account."""

    tier: Tier | str = Tier.PROFESSIONAL
    # Overrides of the tier's limits, for staging a 429 storm or a nearly spent daily quota.
    burst_limit: int | None = None
    daily_limit: int | None = None
    # Search has its own limit of 5 requests per second per account (CRM search guide, 2026).
    search_per_second: int = 5
    # Offset of the account's time zone from UTC, in minutes; the daily quota resets at the
    # account's midnight.
    tz_offset_minutes: int = 0
    # Seconds until a write becomes searchable. The docs say "a few moments" and reports range
    # from seconds to a minute, so 3 s is a guess.
    index_lag_s: float = 3.0
    # Simulated server time per request, spent with asyncio.sleep so it costs virtual time.
    # The values are guesses of typical HubSpot response times.
    read_latency_s: float = 0.08
    write_latency_s: float = 0.12
    search_latency_s: float = 0.15
    # Whether API 429 responses carry Retry-After; HubSpot does not document it either way.
    send_retry_after: bool = False
    # API limit increase packs bought for the account, 0 to 2. Packs are sold for private
    # apps, so they leave the OAuth tier's limits unchanged.
    limit_increase_packs: int = 0

    # Tokens that get 401 EXPIRED_AUTHENTICATION, as an expired OAuth access token does.
    # Each counts as expired since the clock started.
    expired_tokens: frozenset[str] = frozenset()
    # Simulated seconds after the clock starts at which access_token expires; None never.
    # OAuth access tokens live 30 minutes (expires_in 1800); private app tokens never expire.
    access_token_expires_s: float | None = None
    # Scopes granted to access_token; None grants every scope. Reading companies (list,
    # get, search, batch read) needs crm.objects.companies.read and writing them needs
    # crm.objects.companies.write, or the request gets 403 MISSING_SCOPES.
    scopes: frozenset[str] | None = None
    list_over_limit: ListOverLimit | str = ListOverLimit.CAP
    # Company properties with unique values (hasUniqueValue): a write that would give a
    # second live company the same value gets 409 CONFLICT, and batch upsert and batch
    # read accept them as idProperty. None by default, as in a new HubSpot account.
    unique_properties: frozenset[str] = frozenset()
    # Company properties the account defines, besides the unique ones and those HubSpot
    # maintains; a write that sets any other gets 400 PROPERTY_DOESNT_EXIST. None means
    # HubSpot's default company properties (hubspot.properties).
    company_properties: frozenset[str] | None = None
    # How long an archived company can be restored before it is purged: it then leaves the
    # archived=true listing, GET ?archived=true and batch read. HubSpot keeps deleted
    # records for 90 days.
    archive_retention_s: float = 90 * 86_400.0

    # Webhook delivery (HubSpot webhooks guide): at most 10 requests in flight, a 5 s timeout
    # and 10 retries spread over about 24 hours.
    max_concurrent_requests: int = 10
    webhook_timeout_s: float = 5.0
    max_retries: int = 10
    # Total span of the retry schedule; see webhooks.retry_delays for how it is split.
    retry_span_s: float = 86_400.0
    # How long events gather before a batch is sent. HubSpot does not publish it.
    batch_window_s: float = 1.0
    # Share of events delivered a second time, in a later batch.
    duplicate_rate: float = 0.0
    # Shuffle the events inside each batch, since HubSpot guarantees no order.
    reorder: bool = False
    # Share of company.creation events held back to the next batch, so that a receiver gets
    # the object's propertyChange events before its creation, as HubSpot's docs allow.
    late_creation_rate: float = 0.0
    # Seconds until a change to the webhook settings or subscriptions applies to delivery.
    # HubSpot states that a change can take up to 5 minutes to apply, and 0 applies it at
    # once.
    webhook_settings_delay_s: float = 0.0
    # Properties whose changes send no company.propertyChange event even to a subscription
    # for them, as HubSpot does for calculated properties. Their values still change, so
    # only a read of the company shows the change.
    unwebhooked_properties: frozenset[str] = frozenset()

    access_token: str = "pat-na1-00000000-0000-4000-8000-000000000000"
    portal_id: int = 62_515_535
    app_id: int = 3_112_233
    developer_api_key: str = "dev-00000000-0000-4000-8000-00000000000d"
    client_secret: str = "secret-00000000-0000-4000-8000-000000000005"
    seed: int = 0

    def __post_init__(self) -> None:
        self.tier = _parse_enum(Tier, self.tier, "tier")
        self.list_over_limit = _parse_enum(
            ListOverLimit, self.list_over_limit, "list_over_limit"
        )

        for name in ("burst_limit", "daily_limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(
                    f"invalid {name} {value!r}: expected None or an integer >= 1"
                )
        _require_positive_int("search_per_second", self.search_per_second)
        _require_positive_int("max_concurrent_requests", self.max_concurrent_requests)
        self._validate_limits_and_auth()

        if not -14 * 60 <= self.tz_offset_minutes <= 14 * 60:
            raise ValueError(
                f"invalid tz_offset_minutes {self.tz_offset_minutes!r}: expected -840 to 840"
            )
        for name in (
            "index_lag_s",
            "read_latency_s",
            "write_latency_s",
            "search_latency_s",
        ):
            _require_non_negative(name, getattr(self, name))
        for name in ("retry_span_s", "batch_window_s", "webhook_settings_delay_s"):
            _require_non_negative(name, getattr(self, name))
        if not 0.0 <= self.late_creation_rate <= 1.0:
            raise ValueError(
                f"invalid late_creation_rate {self.late_creation_rate!r}: expected a share "
                "from 0 to 1"
            )
        if not self.webhook_timeout_s > 0:
            raise ValueError(
                f"invalid webhook_timeout_s {self.webhook_timeout_s!r}: expected seconds > 0"
            )
        if self.max_retries < 0:
            raise ValueError(
                f"invalid max_retries {self.max_retries!r}: expected an integer >= 0"
            )
        if not 0.0 <= self.duplicate_rate <= 1.0:
            raise ValueError(
                f"invalid duplicate_rate {self.duplicate_rate!r}: expected a share from 0 to 1"
            )
        for name in ("access_token", "developer_api_key", "client_secret"):
            if not getattr(self, name):
                raise ValueError(f"invalid {name}: expected a non-empty string")
        _require_positive_int("portal_id", self.portal_id)
        _require_positive_int("app_id", self.app_id)
        if isinstance(self.unique_properties, str):
            raise ValueError(
                f"invalid unique_properties {self.unique_properties!r}: expected a set of "
                "property names, not one string"
            )
        self.unique_properties = frozenset(self.unique_properties)
        for name in self.unique_properties:
            if not isinstance(name, str) or not name or name == "hs_object_id":
                raise ValueError(
                    f"invalid unique_properties entry {name!r}: expected a property name "
                    "other than hs_object_id, which is always unique"
                )
        if self.company_properties is not None:
            if isinstance(self.company_properties, str):
                raise ValueError(
                    f"invalid company_properties {self.company_properties!r}: expected "
                    "a set of property names, not one string"
                )
            self.company_properties = frozenset(self.company_properties)
        _require_non_negative("archive_retention_s", self.archive_retention_s)
        self.unwebhooked_properties = _token_set(
            "unwebhooked_properties", self.unwebhooked_properties
        )

    def _validate_limits_and_auth(self) -> None:
        packs = self.limit_increase_packs
        if (
            isinstance(packs, bool)
            or not isinstance(packs, int)
            or not 0 <= packs <= MAX_LIMIT_INCREASE_PACKS
        ):
            raise ValueError(
                f"invalid limit_increase_packs {packs!r}: expected 0, 1 or 2, since "
                "HubSpot sells at most two packs per account"
            )
        self.expired_tokens = _token_set("expired_tokens", self.expired_tokens)
        if self.scopes is not None:
            self.scopes = _token_set("scopes", self.scopes)
        expires = self.access_token_expires_s
        if expires is not None:
            _require_non_negative("access_token_expires_s", expires)

    @property
    def limits(self) -> TierLimits:
        """Burst and daily limits in force, with packs and then the overrides applied."""
        base = TIER_LIMITS[Tier(self.tier)]
        burst, daily = base.burst_per_10s, base.daily
        if self.limit_increase_packs and self.tier != Tier.OAUTH and daily is not None:
            burst = max(burst, PACK_BURST_PER_10S)
            daily += self.limit_increase_packs * PACK_DAILY
        return TierLimits(
            self.burst_limit if self.burst_limit is not None else burst,
            self.daily_limit if self.daily_limit is not None else daily,
        )


E = TypeVar("E", bound=enum.StrEnum)


def _parse_enum(kind: type[E], value: object, name: str) -> E:
    try:
        return kind(str(value).lower())
    except ValueError:
        accepted = ", ".join(member.value for member in kind)
        raise ValueError(
            f"invalid {name} {value!r}: expected one of {accepted}"
        ) from None


def _token_set(name: str, values: Iterable[str]) -> frozenset[str]:
    if isinstance(values, str):
        raise ValueError(
            f"invalid {name} {values!r}: expected a set of strings, not one string"
        )
    result = frozenset(values)
    for value in result:
        if not isinstance(value, str) or not value:
            raise ValueError(
                f"invalid {name} entry {value!r}: expected a non-empty string"
            )
    return result


def _require_positive_int(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"invalid {name} {value!r}: expected an integer >= 1")


def _require_non_negative(name: str, value: float) -> None:
    if not isinstance(value, int | float) or math.isnan(value) or value < 0:
        raise ValueError(f"invalid {name} {value!r}: expected a number >= 0 (seconds)")
