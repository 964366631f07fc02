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
    ({"limit_increase_packs": 3}, "limit_increase_packs"),
    ({"limit_increase_packs": -1}, "limit_increase_packs"),
    ({"limit_increase_packs": True}, "limit_increase_packs"),
    ({"expired_tokens": "pat-one"}, "expired_tokens"),
    ({"expired_tokens": {""}}, "expired_tokens"),
    ({"scopes": "crm.objects.companies.read"}, "scopes"),
    ({"access_token_expires_s": -5}, "access_token_expires_s"),
    ({"late_creation_rate": 2}, "late_creation_rate"),
    ({"webhook_settings_delay_s": -1}, "webhook_settings_delay_s"),
]


def test_invalid_values_name_the_field() -> None:
    for kwargs, name in INVALID_CASES:
        with pytest.raises(ValueError, match=name):
            HubSpotConfig(**kwargs)  # type: ignore[arg-type]


def test_defaults_change_nothing() -> None:
    config = HubSpotConfig()
    assert config.limit_increase_packs == 0
    assert config.scopes is None
    assert config.expired_tokens == frozenset()
    assert config.access_token_expires_s is None
    assert config.late_creation_rate == 0.0
    assert config.webhook_settings_delay_s == 0.0


def test_token_sets_become_frozensets() -> None:
    config = HubSpotConfig(
        scopes=["crm.objects.companies.read"],  # type: ignore[arg-type]
        expired_tokens={"pat-old"},  # type: ignore[arg-type]
    )
    assert config.scopes == frozenset({"crm.objects.companies.read"})
    assert config.expired_tokens == frozenset({"pat-old"})


def test_overrides_apply_after_packs() -> None:
    limits = HubSpotConfig(limit_increase_packs=2, burst_limit=7).limits
    assert limits.burst_per_10s == 7
    assert limits.daily == 2_625_000
