"""Consistency counts against hand-computed cases."""

from pytest_syncbench.clock import Clock
from pytest_syncbench.generator import SYNCED_PROPERTIES
from pytest_syncbench.hubspot.store import Change, ChangeKind, Store
from pytest_syncbench.metrics.consistency import compare_rows, from_undelivered


def _store():
    store = Store(Clock())
    companies = [({"name": f"C{i}", "city": "Paris"}, 1_000, 2_000) for i in range(4)]
    store.seed(companies)
    return store


def _row(store, company_id, **overrides):
    props = store.companies[company_id].properties
    row = {"id": str(company_id), "archived": "false"}
    row.update({p: props.get(p) for p in SYNCED_PROPERTIES})
    row.update(overrides)
    return row


def test_identical_rows_are_consistent():
    store = _store()
    rows = {str(i): _row(store, i) for i in store.companies}

    result = compare_rows(store, rows, SYNCED_PROPERTIES)

    assert result.consistent


def test_missing_stale_and_ghost_counted():
    store = _store()
    store.companies[4].archived = True
    rows = {
        "1": _row(store, 1),
        "2": _row(store, 2, city="Rome"),  # stale
        # 3 is missing
        "4": _row(store, 4),  # deleted in the source: ghost
        "99": {"id": "99", "archived": "false"},  # never in the source: ghost
    }

    result = compare_rows(store, rows, SYNCED_PROPERTIES)

    assert result.missing == 1
    assert result.stale == 1
    assert result.ghost == 2


def test_archived_row_of_live_company_is_missing():
    store = _store()
    rows = {str(i): _row(store, i) for i in store.companies}
    rows["3"] = {"id": "3", "archived": "true"}

    result = compare_rows(store, rows, SYNCED_PROPERTIES)

    assert result.missing == 1


def test_undelivered_changes_counted_by_kind():
    changes = [
        Change(0, 1, ChangeKind.CREATE, 0, {}),
        Change(1, 2, ChangeKind.UPDATE, 0, {}),
        Change(2, 2, ChangeKind.UPDATE, 0, {}),
        Change(3, 3, ChangeKind.ARCHIVE, 0, {}),
    ]

    result = from_undelivered(changes)

    assert result.missing == 1
    assert result.stale == 1
    assert result.ghost == 1


def _merged_store():
    store = _store()
    store.companies[2].archived = True
    store.companies[2].merged_into = 1
    store.companies[1].properties["hs_merged_object_ids"] = "2"
    return store


def test_merged_away_company_must_be_deleted_downstream():
    store = _merged_store()
    rows = {str(i): _row(store, i) for i in store.companies}

    lingering = compare_rows(store, rows, SYNCED_PROPERTIES)

    assert (lingering.missing, lingering.stale, lingering.ghost) == (0, 0, 1)

    rows["2"] = {"id": "2", "archived": "true"}
    assert compare_rows(store, rows, SYNCED_PROPERTIES).consistent
    del rows["2"]
    assert compare_rows(store, rows, SYNCED_PROPERTIES).consistent


def test_undelivered_merge_counts_as_ghost_and_survivor_as_stale():
    changes = [
        Change(0, 2, ChangeKind.MERGE, 0, {}, merged_into=1),
        Change(1, 1, ChangeKind.UPDATE, 0, {"hs_merged_object_ids": "2"}),
    ]

    result = from_undelivered(changes)

    assert (result.missing, result.stale, result.ghost) == (0, 1, 1)
