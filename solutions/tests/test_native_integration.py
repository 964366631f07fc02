import pytest

from pytest_syncbench.generator import LIFECYCLE_STAGES
from solutions.native_integration import (
    BY_STAGE_METRIC,
    TOTAL_METRIC,
    Settings,
    metric_items,
    next_sync_ms,
    search_bodies,
)

HOUR = 3_600_000
# 2026-01-05 00:00:00 UTC
MIDNIGHT = 1_767_571_200_000


def test_paid_plan_waits_one_hour():
    assert next_sync_ms(Settings(), MIDNIGHT, MIDNIGHT + 60_000) == MIDNIGHT + HOUR


def test_paid_plan_after_overrun_syncs_now():
    now = MIDNIGHT + HOUR + 5_000
    assert next_sync_ms(Settings(), MIDNIGHT, now) == now


def test_free_plan_syncs_at_three_utc():
    assert (
        next_sync_ms(Settings(plan="free"), MIDNIGHT, MIDNIGHT + HOUR)
        == MIDNIGHT + 3 * HOUR
    )


def test_free_plan_after_three_waits_a_day():
    now = MIDNIGHT + 3 * HOUR
    assert next_sync_ms(Settings(plan="free"), now, now) == MIDNIGHT + 27 * HOUR


def test_free_plan_follows_the_account_time_zone():
    # 03:00 at UTC+2 is 01:00 UTC.
    settings = Settings(plan="free", tz_offset_hours=2)
    assert next_sync_ms(settings, MIDNIGHT, MIDNIGHT) == MIDNIGHT + 1 * HOUR


def test_free_plan_follows_a_negative_time_zone():
    # 03:00 at UTC-5 is 08:00 UTC.
    settings = Settings(plan="free", tz_offset_hours=-5)
    assert next_sync_ms(settings, MIDNIGHT, MIDNIGHT) == MIDNIGHT + 8 * HOUR


def test_searches_per_stage_and_total():
    bodies = search_bodies()
    assert len(bodies) == len(LIFECYCLE_STAGES) + 1
    assert bodies[0] == (None, {"limit": 1})


def test_stage_search_filters_by_stage():
    stage, body = search_bodies()[1]
    assert body == {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "lifecyclestage", "operator": "EQ", "value": stage}
                ]
            }
        ],
        "limit": 1,
    }


def test_items_carry_the_sync_start_as_date():
    items = metric_items({None: 10, "lead": 4}, "2026-01-05T09:00:00.000Z")
    assert items == [
        {"key": TOTAL_METRIC, "value": 10, "date": "2026-01-05T09:00:00.000Z"},
        {
            "key": BY_STAGE_METRIC,
            "value": 4,
            "date": "2026-01-05T09:00:00.000Z",
            "attributes": [{"key": "lifecyclestage", "value": "lead"}],
        },
    ]


def test_unknown_plan_is_rejected():
    with pytest.raises(ValueError, match="plan='gold'"):
        Settings(plan="gold")
