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
