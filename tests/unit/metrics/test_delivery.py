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
