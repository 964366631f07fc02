"""Delivery tracking against hand-computed cases."""

import asyncio

from pytest_syncbench.clock import Clock
from pytest_syncbench.generator import SYNCED_PROPERTIES
from pytest_syncbench.hubspot.store import Store
from pytest_syncbench.loop import run_virtual
from pytest_syncbench.metrics.delivery import DeliveryTracker


def _row(company, **overrides):
    row = {"id": str(company.id), "archived": "false"}
    row.update({p: company.properties.get(p) for p in SYNCED_PROPERTIES})
    row.update(overrides)
    return row


def _scenario(steps):
    """Run ``steps(store, tracker)`` on a virtual clock and return the tracker."""
    clock = Clock()
    store = Store(clock)

    async def main():
        clock.start()
        tracker = DeliveryTracker(store, SYNCED_PROPERTIES, clock.epoch_ms)
        store.add_listener(tracker.track)
        await steps(store, tracker)
        return tracker

    return run_virtual(main)


def test_update_visible_at_first_matching_write():
    async def steps(store, tracker):
        company = store.create({"name": "Acme", "city": "Boston"})
        tracker.on_rows(0.0, [_row(company)])
        await asyncio.sleep(10)
        store.update(company.id, {"city": "Austin"})
        await asyncio.sleep(5)
        tracker.on_rows(15.0, [_row(company, city="Boston")])  # still the old value
        tracker.on_rows(42.0, [_row(company)])

    tracker = _scenario(steps)

    assert tracker.latencies_s(since_seq=1) == [32.0]
    assert tracker.unresolved == 0


def test_superseded_change_resolves_with_newer_value():
    async def steps(store, tracker):
        company = store.create({"name": "Acme", "city": "Boston"})
        tracker.on_rows(0.0, [_row(company)])
        await asyncio.sleep(10)
        store.update(company.id, {"city": "Austin"})
        await asyncio.sleep(10)
        store.update(company.id, {"city": "Berlin"})
        await asyncio.sleep(10)
        tracker.on_rows(30.0, [_row(company)])

    tracker = _scenario(steps)

    assert sorted(tracker.latencies_s(since_seq=1)) == [10.0, 20.0]
    assert tracker.unresolved == 0


def test_write_before_commit_does_not_count():
    async def steps(store, tracker):
        company = store.create({"name": "Acme", "city": "Boston"})
        tracker.on_rows(0.0, [_row(company)])
        await asyncio.sleep(10)
        # A row that happens to hold the future value, arriving before the change.
        tracker.on_rows(5.0, [_row(company, city="Austin")])
        store.update(company.id, {"city": "Austin"})

    tracker = _scenario(steps)

    assert tracker.unresolved == 1


def test_deletion_needs_archived_row():
    async def steps(store, tracker):
        company = store.create({"name": "Acme"})
        tracker.on_rows(0.0, [_row(company)])
        await asyncio.sleep(60)
        store.archive(company.id)
        tracker.on_rows(70.0, [_row(company)])
        tracker.on_rows(90.0, [{"id": str(company.id), "archived": "true"}])

    tracker = _scenario(steps)

    assert tracker.latencies_s(since_seq=1) == [30.0]


def test_create_then_delete_resolved_by_deleted_row():
    async def steps(store, tracker):
        company = store.create({"name": "Short-lived"})
        await asyncio.sleep(1)
        store.archive(company.id)
        await asyncio.sleep(1)
        tracker.on_rows(2.0, [{"id": str(company.id), "archived": "true"}])

    tracker = _scenario(steps)

    assert tracker.unresolved == 0


def test_aggregate_push_resolves_changes_up_to_its_date():
    async def steps(store, tracker):
        a = store.create({"name": "A"})
        await asyncio.sleep(100)
        store.update(a.id, {"lifecyclestage": "lead"})
        await asyncio.sleep(100)
        # A push computed from the state at 50 s covers only the creation.
        tracker.on_aggregates(200.0, [store.clock.epoch_ms + 50_000])
        await asyncio.sleep(100)
        tracker.on_aggregates(300.0, [store.clock.epoch_ms + 250_000])

    tracker = _scenario(steps)

    assert sorted(tracker.latencies_s()) == [200.0, 200.0]
    assert tracker.unresolved == 0


def test_company_deleted_before_any_write_visible_at_deletion():
    async def steps(store, tracker):
        company = store.create({"name": "Never synced"})
        await asyncio.sleep(30)
        store.archive(company.id)

    tracker = _scenario(steps)

    assert tracker.unresolved == 0
    assert sorted(tracker.latencies_s()) == [0.0, 30.0]


def test_merge_needs_archived_row_for_the_merged_away_id():
    async def steps(store, tracker):
        keep = store.create({"name": "Keep"})
        gone = store.create({"name": "Gone", "city": "Oslo"})
        tracker.on_rows(0.0, [_row(keep), _row(gone)])
        await asyncio.sleep(10)
        store.merge(keep.id, gone.id)
        # The survivor's new values alone do not deliver the merge.
        tracker.on_rows(20.0, [_row(keep), _row(gone)])
        assert tracker.unresolved == 1
        tracker.on_rows(30.0, [{"id": str(gone.id), "archived": "true"}])

    tracker = _scenario(steps)

    assert tracker.unresolved == 0
    # The merge (seq 2) took 20 s, the survivor's update (seq 3) 10 s.
    assert sorted(tracker.latencies_s(since_seq=2)) == [10.0, 20.0]


def test_survivor_update_needs_the_survivor_row():
    async def steps(store, tracker):
        keep = store.create({"name": "Keep", "city": None})
        gone = store.create({"name": "Gone", "city": "Oslo"})
        tracker.on_rows(0.0, [_row(keep), _row(gone)])
        await asyncio.sleep(10)
        store.merge(keep.id, gone.id)
        tracker.on_rows(15.0, [{"id": str(gone.id), "archived": "true"}])
        assert tracker.unresolved == 1  # the survivor's city is still stale
        tracker.on_rows(25.0, [_row(keep)])

    tracker = _scenario(steps)

    assert tracker.unresolved == 0
    assert sorted(tracker.latencies_s(since_seq=2)) == [5.0, 15.0]


def test_company_merged_before_any_write_visible_at_merge():
    async def steps(store, tracker):
        keep = store.create({"name": "Keep"})
        gone = store.create({"name": "Never synced"})
        tracker.on_rows(0.0, [_row(keep)])
        await asyncio.sleep(30)
        store.merge(keep.id, gone.id)
        tracker.on_rows(40.0, [_row(keep)])

    tracker = _scenario(steps)

    assert tracker.unresolved == 0
    # Creation and merge of the never-written company resolve at the merge (30 s).
    changes = tracker.store.changes
    gone_seqs = [c.seq for c in changes if c.company_id == 2]
    assert sorted(tracker.visible_s[s] for s in gone_seqs) == [30.0, 30.0]


def test_update_then_merge_resolved_by_archived_row():
    async def steps(store, tracker):
        keep = store.create({"name": "Keep"})
        gone = store.create({"name": "Gone"})
        tracker.on_rows(0.0, [_row(keep), _row(gone)])
        await asyncio.sleep(5)
        store.update(gone.id, {"city": "Lima"})
        await asyncio.sleep(5)
        store.merge(keep.id, gone.id)
        tracker.on_rows(20.0, [_row(keep), {"id": str(gone.id), "archived": "true"}])

    tracker = _scenario(steps)

    assert tracker.unresolved == 0


def test_oldest_unresolved_seq_follows_delivery():
    oldest: list[int | None] = []

    async def steps(store, tracker):
        first = store.create({"name": "Acme", "city": "Boston"})
        await asyncio.sleep(5)
        second = store.create({"name": "Beta", "city": "Denver"})
        oldest.append(tracker.oldest_unresolved_seq())
        tracker.on_rows(10.0, [_row(first)])
        oldest.append(tracker.oldest_unresolved_seq())
        tracker.on_rows(12.0, [_row(second)])
        oldest.append(tracker.oldest_unresolved_seq())

    _scenario(steps)

    assert oldest == [0, 1, None]
