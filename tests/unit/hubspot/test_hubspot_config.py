"""Validation and tier limits of the mock HubSpot settings."""

from __future__ import annotations

import pytest

from pytest_syncbench.hubspot.config import HubSpotConfig, Tier

TIER_CASES = [
    ("free", 100, 250_000),
    ("starter", 100, 250_000),
    ("professional", 190, 625_000),
    ("enterprise", 190, 1_000_000),
    ("oauth", 110, None),
]


def test_tier_limits_follow_usage_guidelines() -> None:
    for tier, burst, daily in TIER_CASES:
        limits = HubSpotConfig(tier=tier).limits
        assert limits.burst_per_10s == burst, tier
        assert limits.daily == daily, tier


def test_tier_accepts_enum_and_any_case() -> None:
    assert HubSpotConfig(tier="Enterprise").tier is Tier.ENTERPRISE


def test_overrides_replace_tier_limits() -> None:
    limits = HubSpotConfig(tier="free", burst_limit=5, daily_limit=9).limits
    assert limits.burst_per_10s == 5
    assert limits.daily == 9


INVALID_CASES = [
    ({"tier": "gold"}, "tier"),
    ({"index_lag_s": -1}, "index_lag_s"),
    ({"duplicate_rate": 1.5}, "duplicate_rate"),
    ({"search_per_second": 0}, "search_per_second"),
    ({"max_concurrent_requests": 0}, "max_concurrent_requests"),
    ({"webhook_timeout_s": 0}, "webhook_timeout_s"),
    ({"max_retries": -1}, "max_retries"),
    ({"burst_limit": 0}, "burst_limit"),
    ({"list_over_limit": "ignore"}, "list_over_limit"),
    ({"access_token": ""}, "access_token"),
    ({"tz_offset_minutes": 2000}, "tz_offset_minutes"),
]


def test_invalid_values_name_the_field() -> None:
    for kwargs, name in INVALID_CASES:
        with pytest.raises(ValueError, match=name):
            HubSpotConfig(**kwargs)  # type: ignore[arg-type]
