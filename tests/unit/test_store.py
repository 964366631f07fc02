"""The company store's change history and HubSpot timestamp rules."""

import asyncio

import pytest

from pytest_syncbench.clock import Clock, iso_ms
from pytest_syncbench.hubspot.store import ChangeKind, CompanyNotFound, Store
from pytest_syncbench.loop import run_virtual


def _run(steps):
    clock = Clock()
    store = Store(clock)

    async def main():
        clock.start()
        await steps(store)
        return store

    return run_virtual(main)


def test_update_bumps_last_modified():
    async def steps(store):
        company = store.create({"name": "Acme"})
        await asyncio.sleep(90)
        store.update(company.id, {"city": "Oslo"})

    store = _run(steps)

    company = store.companies[1]
    assert company.properties["hs_lastmodifieddate"] == iso_ms(
        store.clock.epoch_ms + 90_000
    )
    assert company.updated_ms == store.clock.epoch_ms + 90_000


def test_archive_does_not_bump_last_modified():
    async def steps(store):
        store.create({"name": "Acme"})
        await asyncio.sleep(60)
        store.archive(1)

    store = _run(steps)

    company = store.companies[1]
    assert company.archived
    assert company.updated_ms == store.clock.epoch_ms
    assert company.archived_ms == store.clock.epoch_ms + 60_000


def test_unchanged_update_is_no_change():
    async def steps(store):
        store.create({"name": "Acme"})
        assert store.update(1, {"name": "Acme"}) is None

    store = _run(steps)

    assert len(store.changes) == 1


def test_read_only_properties_ignored_on_write():
    async def steps(store):
        store.create({"name": "Acme"})
        store.update(1, {"hs_lastmodifieddate": "2001-01-01T00:00:00.000Z"})

    store = _run(steps)

    assert len(store.changes) == 1


def test_history_in_commit_order_and_listeners_told():
    seen = []

    async def steps(store):
        store.add_listener(seen.append)
        store.create({"name": "Acme"})
        await asyncio.sleep(1)
        store.update(1, {"name": "Acme Two"})
        store.archive(1)
        store.restore(1)

    store = _run(steps)

    kinds = [c.kind for c in store.history(1)]
    assert kinds == [
        ChangeKind.CREATE,
        ChangeKind.UPDATE,
        ChangeKind.ARCHIVE,
        ChangeKind.RESTORE,
    ]
    assert [c.seq for c in seen] == [0, 1, 2, 3]


def test_update_of_archived_company_raises():
    async def steps(store):
        store.create({"name": "Acme"})
        store.archive(1)
        with pytest.raises(CompanyNotFound):
            store.update(1, {"name": "Ghost"})

    _run(steps)


def test_merge_archives_the_merged_company_and_fills_the_survivor():
    seen = []

    async def steps(store):
        store.add_listener(seen.append)
        store.create({"name": "Keep", "city": None})
        store.create({"name": "Gone", "city": "Oslo", "phone": "1"})
        await asyncio.sleep(5)
        gone, kept = store.merge(1, 2)
        assert (gone.kind, gone.company_id) == (ChangeKind.MERGE, 2)
        assert gone.merged_into == 1
        assert (kept.kind, kept.company_id) == (ChangeKind.UPDATE, 1)

    store = _run(steps)

    survivor, merged = store.companies[1], store.companies[2]
    assert survivor.properties["name"] == "Keep"  # the survivor keeps its own values
    assert survivor.properties["city"] == "Oslo"  # and takes the ones it lacks
    assert survivor.properties["hs_merged_object_ids"] == "2"
    assert survivor.updated_ms == store.clock.epoch_ms + 5_000
    assert merged.archived and merged.merged_into == 1
    assert merged.archived_ms == store.clock.epoch_ms + 5_000
    # The merged company's last modification is not bumped, as for an archive.
    assert merged.updated_ms == store.clock.epoch_ms
    assert [c.kind for c in seen[-2:]] == [ChangeKind.MERGE, ChangeKind.UPDATE]
    assert store.resolve(2) is survivor


def test_merge_rules():
    async def steps(store):
        for name in ("A", "B", "C", "D"):
            store.create({"name": name})
        with pytest.raises(ValueError):
            store.merge(1, 1)
        store.archive(4)
        with pytest.raises(CompanyNotFound):
            store.merge(1, 4)
        with pytest.raises(CompanyNotFound):
            store.merge(1, 99)
        store.merge(2, 3)
        store.merge(1, 2)
        with pytest.raises(ValueError):
            store.restore(3)  # merged away: never restorable
        store.restore(4)

    store = _run(steps)

    assert store.resolve(3).id == 1
    assert store.companies[1].properties["hs_merged_object_ids"] == "2;3"
    assert not store.companies[4].archived


def test_archived_company_is_purged_after_the_retention():
    async def steps(store):
        store.create({"name": "A"})
        store.create({"name": "B"})
        store.archive(1)
        store.archive(2)
        company = store.companies[1]
        assert not store.is_purged(company, store.clock.now_ms())
        await asyncio.sleep(90 * 86_400 - 1)
        assert not store.is_purged(company, store.clock.now_ms())
        store.restore(2)
        await asyncio.sleep(1)
        assert store.is_purged(company, store.clock.now_ms())
        assert not store.is_purged(company, store.clock.now_ms(), retention_ms=10**12)
        with pytest.raises(CompanyNotFound):
            store.restore(1)
        store.restore(1, retention_ms=10**12)

    store = _run(steps)

    assert not store.companies[1].archived
