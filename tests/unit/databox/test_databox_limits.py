"""Configuration checks and the rolling-window limiter, without a server."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_syncbench.databox.config import DataboxConfig
from pytest_syncbench.databox.ratelimit import RollingWindowLimiter


def test_defaults_follow_the_documented_limits() -> None:
    config = DataboxConfig()
    assert config.push_rate_per_s == 10
    assert config.payload_limit_bytes == 1_000_000
    assert config.max_records_per_ingest == 100
    assert config.ingest_processing_s == 0
    assert config.latest_value_metrics == frozenset()
    assert config.upsert is True


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("push_token", "", "push_token=''"),
        (
            "push_rate_per_s",
            0,
            r"push_rate_per_s=0: must be a number in \(0, 1000000\]",
        ),
        ("ingest_rate_per_s", float("nan"), "ingest_rate_per_s=nan"),
        ("payload_limit_bytes", 10, r"payload_limit_bytes=10: .*\[1024, 100000000\]"),
        ("max_records_per_ingest", 0, r"max_records_per_ingest=0: .*\[1, 100000\]"),
        ("response_latency_s", -1, r"response_latency_s=-1: .*\[0, 60\]"),
        (
            "ingest_processing_s",
            -0.5,
            r"ingest_processing_s=-0.5: .*\[0, 86400\]",
        ),
        (
            "latest_value_metrics",
            ["companies"],
            r"latest_value_metrics=\['companies'\]: must be a frozenset",
        ),
        ("upsert", "yes", "upsert='yes'"),
        ("seed", 1.5, "seed=1.5"),
    ],
)
def test_invalid_setting_names_value_and_range(
    field: str, value: Any, expected: str
) -> None:
    with pytest.raises(ValueError, match=expected):
        DataboxConfig(**{field: value})


def test_limiter_admits_the_limit_within_one_window() -> None:
    limiter = RollingWindowLimiter(10)
    admitted = [limiter.try_acquire(0.01 * i) for i in range(11)]
    assert admitted == [True] * 10 + [False]


def test_limiter_window_slides_rather_than_resetting_each_second() -> None:
    limiter = RollingWindowLimiter(2)
    assert limiter.try_acquire(0.9)
    assert limiter.try_acquire(0.95)
    # A calendar-second limiter would admit this one at 1.0; a rolling one must not.
    assert not limiter.try_acquire(1.0)
    assert limiter.try_acquire(1.9)


def test_rejected_requests_take_no_slot() -> None:
    limiter = RollingWindowLimiter(1)
    limiter.try_acquire(0.0)
    limiter.try_acquire(0.5)
    assert limiter.try_acquire(1.0)


def test_request_exactly_one_window_later_is_admitted() -> None:
    limiter = RollingWindowLimiter(1)
    limiter.try_acquire(0.7)
    assert limiter.try_acquire(1.7)


def test_rate_below_one_per_second_spaces_requests() -> None:
    limiter = RollingWindowLimiter(0.5)
    limiter.try_acquire(0.0)
    assert not limiter.try_acquire(1.5)
    assert limiter.try_acquire(2.0)
