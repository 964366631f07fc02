"""Workload primitives of the failure modes: bulk edits, merges, follow-up edits."""

import pytest

from pytest_syncbench.clock import DEFAULT_EPOCH_MS, Clock
from pytest_syncbench.generator import (
    EventKind,
    Pattern,
    StreamSpec,
    WorkloadEvent,
    generate_companies,
    generate_stream,
)
from pytest_syncbench.hubspot.store import ChangeKind, Store
from pytest_syncbench.loop import run_virtual
from pytest_syncbench.workload import apply_events


def _seeded_store(count):
    clock = Clock()
    store = Store(clock)
    store.seed(generate_companies(count, 1, DEFAULT_EPOCH_MS))
    return clock, store


def _apply(clock, store, events):
    async def main():
        clock.start()
        return await apply_events(store, clock, events)

    return run_virtual(main)


def _lookup(store):
    return lambda cid: store.companies[cid].properties


def test_bulk_edits_distinct_companies_in_id_order():
    spec = StreamSpec(300, 0.0, 60.0, Pattern.BULK)

    events = generate_stream(spec, 1, list(range(1, 1001)), 1001)

    ids = [e.company_id for e in events]
    assert len(events) == 300
    assert len(set(ids)) == 300
    assert ids == sorted(ids)
    assert {e.at_s for e in events} == {60.0}
    assert {e.kind for e in events} == {EventKind.UPDATE}


def test_bulk_commits_in_one_millisecond():
    clock, store = _seeded_store(500)
    spec = StreamSpec(400, 0.0, 30.0, Pattern.BULK)
    events = generate_stream(spec, 2, list(store.companies), 501, _lookup(store))
    before = len(store.changes)

    applied = _apply(clock, store, events)

    changes = store.changes[before:]
    assert applied == 400
    assert len(changes) == 400
    assert {c.committed_ms for c in changes} == {DEFAULT_EPOCH_MS + 30_000}


def test_bulk_spread_over_duration():
    spec = StreamSpec(100, 5.0, 10.0, Pattern.BULK, id_range=(1, 100))

    events = generate_stream(spec, 1, list(range(1, 201)), 201)

    assert [e.company_id for e in events] == list(range(1, 101))
    assert events[0].at_s == 10.0
    assert events[-1].at_s == pytest.approx(14.95)


def test_bulk_larger_than_range_is_rejected():
    spec = StreamSpec(50, 0.0, 0.0, Pattern.BULK, id_range=(1, 10))

    with pytest.raises(ValueError, match="widen id_range"):
        generate_stream(spec, 1, list(range(1, 101)), 101)


def test_id_range_limits_targets():
    spec = StreamSpec(300, 600.0, create_share=0.0, archive_share=0.0, id_range=(1, 20))

    events = generate_stream(spec, 1, list(range(1, 501)), 501)

    assert all(1 <= e.company_id <= 20 for e in events)


def test_properties_limit_edits():
    spec = StreamSpec(
        200, 600.0, create_share=0.0, archive_share=0.0, properties=("city",)
    )

    events = generate_stream(spec, 1, list(range(1, 101)), 101)

    assert {p for e in events for p in e.properties} == {"city"}


def test_merges_name_two_live_companies():
    spec = StreamSpec(500, 600.0, create_share=0.0, archive_share=0.0, merge_share=0.2)

    events = generate_stream(spec, 3, list(range(1, 201)), 201)

    merges = [e for e in events if e.kind is EventKind.MERGE]
    merged_away: set[int] = set()
    assert merges
    for event in events:
        assert event.company_id not in merged_away
        if event.kind is EventKind.MERGE:
            assert event.primary_id not in merged_away
            assert event.primary_id != event.company_id
            merged_away.add(event.company_id)


def test_merge_event_merges_in_store():
    clock, store = _seeded_store(10)
    events = [WorkloadEvent(5.0, EventKind.MERGE, 3, primary_id=7)]

    applied = _apply(clock, store, events)

    assert applied == 1
    assert store.companies[3].merged_into == 7
    assert store.changes[-2].kind is ChangeKind.MERGE
    assert "3" in store.companies[7].properties["hs_merged_object_ids"]


def test_merge_event_without_primary_is_rejected():
    clock, store = _seeded_store(5)

    with pytest.raises(ValueError, match="no primary_id"):
        _apply(clock, store, [WorkloadEvent(1.0, EventKind.MERGE, 2)])


def test_creation_followed_by_edit():
    spec = StreamSpec(
        400, 600.0, create_share=0.3, archive_share=0.1, edit_after_create_s=0.3
    )

    events = generate_stream(spec, 5, list(range(1, 101)), 101)

    created = {e.company_id: e.at_s for e in events if e.kind is EventKind.CREATE}
    edits = {
        e.company_id: e.at_s
        for e in events
        if e.kind is EventKind.UPDATE and e.company_id in created
    }
    archived = {e.company_id: e.at_s for e in events if e.kind is EventKind.ARCHIVE}
    assert len(events) == 400
    assert created
    for company_id, at_s in created.items():
        if company_id in edits:
            assert edits[company_id] >= at_s + 0.3 - 1e-9
        if company_id in archived:
            assert archived[company_id] > edits.get(company_id, at_s)
    assert sum(1 for c in created if c in edits) >= len(created) - 1


def test_invalid_shares_are_rejected():
    with pytest.raises(ValueError, match="together at most 1"):
        StreamSpec(10, 60.0, create_share=0.6, archive_share=0.3, merge_share=0.2)


def test_unknown_property_is_rejected():
    with pytest.raises(ValueError, match="invalid properties"):
        StreamSpec(10, 60.0, properties=("hs_lastmodifieddate",))
