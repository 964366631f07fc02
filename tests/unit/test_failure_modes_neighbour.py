"""The shared-budget neighbour and the lost-changes sample."""

import asyncio

import pytest

from pytest_syncbench.clock import DEFAULT_EPOCH_MS, Clock
from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.hubspot.errors import CorrelationIds
from pytest_syncbench.hubspot.ratelimit import RateLimiter
from pytest_syncbench.hubspot.store import Change, ChangeKind
from pytest_syncbench.loop import run_virtual
from pytest_syncbench.metrics.lost import lost_by_kind, lost_changes
from pytest_syncbench.neighbour import NeighbourSpec, run_neighbour


def _run_neighbour(spec, probe_at_s):
    clock = Clock()
    config = HubSpotConfig()
    limiter = RateLimiter(config, CorrelationIds(0))

    async def main():
        clock.start()
        task = asyncio.ensure_future(run_neighbour(spec, limiter, clock))
        await asyncio.sleep(probe_at_s)
        now_ms = clock.now_ms()
        probe = (limiter.burst.count(now_ms), limiter.search.count(now_ms))
        usage = await task
        return probe, usage, limiter

    return run_virtual(main)


def test_neighbour_spends_burst_and_search_budget():
    spec = NeighbourSpec(5.0, 60.0, burst_per_10s=170, searches_per_second=4)

    (burst, search), usage, limiter = _run_neighbour(spec, 30.0)

    assert 160 <= burst <= 170
    assert search == 4
    assert usage.admitted == pytest.approx(170 * 6, abs=2)
    assert usage.rejected == 0
    assert limiter.rejected == {"TEN_SECONDLY_ROLLING": 0, "DAILY": 0, "SECONDLY": 0}


def test_neighbour_idle_outside_window():
    spec = NeighbourSpec(100.0, 10.0, burst_per_10s=100)

    (burst, search), usage, _ = _run_neighbour(spec, 50.0)

    assert burst == 0
    assert search == 0
    assert usage.admitted == 100


def test_neighbour_takes_no_more_than_the_limit():
    spec = NeighbourSpec(0.0, 20.0, burst_per_10s=400, searches_per_second=9)

    (burst, search), usage, _ = _run_neighbour(spec, 15.0)

    assert burst == 190
    assert search == 5
    assert usage.rejected > 0
    assert usage.searches_rejected > 0


def test_neighbour_rejects_negative_pace():
    with pytest.raises(ValueError, match="burst_per_10s"):
        NeighbourSpec(0.0, 10.0, burst_per_10s=-1)


def _change(seq, kind, props=None, company_id=1, merged_into=None):
    change = Change(seq, company_id, kind, DEFAULT_EPOCH_MS + seq * 1000, props or {})
    change.merged_into = merged_into
    return change


def test_lost_changes_names_property_and_time():
    changes = [
        _change(2, ChangeKind.MERGE, company_id=9, merged_into=4),
        _change(1, ChangeKind.UPDATE, {"city": "Oslo", "hs_lastmodifieddate": "x"}),
        _change(3, ChangeKind.UPDATE, {"hs_lastmodifieddate": "y"}, company_id=4),
    ]

    sample = lost_changes(changes, ["city", "hs_lastmodifieddate"], DEFAULT_EPOCH_MS)

    assert sample == [
        {"company_id": 1, "kind": "update", "property": "city", "committed_s": 1.0},
        {
            "company_id": 9,
            "kind": "merge",
            "property": None,
            "committed_s": 2.0,
            "merged_into": 4,
        },
        {
            "company_id": 4,
            "kind": "update",
            "property": "hs_lastmodifieddate",
            "committed_s": 3.0,
        },
    ]


def test_lost_changes_sample_is_capped():
    changes = [_change(i, ChangeKind.ARCHIVE, company_id=i) for i in range(50)]

    sample = lost_changes(changes, ["city"], DEFAULT_EPOCH_MS)

    assert len(sample) == 20
    assert lost_by_kind(changes) == {"archive": 50}
