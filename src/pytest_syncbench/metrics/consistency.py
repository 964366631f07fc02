"""Destination versus source truth at one moment.

For records: every company the source has ever held is compared with its destination row.
``missing``: live in the source, absent from the destination or marked deleted there.
``stale``: present in both, but some synced property differs from the source's value.
``ghost``: deleted in the source (or never in it), but live in the destination. A company
merged into another counts as deleted: its row must be marked deleted, and the survivor's
row must hold the survivor's values.

For aggregates there are no rows to compare, so the same three counts are derived from the
changes the latest aggregate does not yet include: creations (missing), edits (stale, one per
company) and deletions or merges (ghost, for the merged-away company).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pytest_syncbench.hubspot.store import Change, ChangeKind, Store
from pytest_syncbench.metrics.delivery import ARCHIVED, DELETIONS, row_value


@dataclass(slots=True)
class Consistency:
    missing: int = 0
    stale: int = 0
    ghost: int = 0
    # Data stored twice for one fact: data points repeating the date and attributes of
    # an earlier point of the same metric (Databox sums them, so the figure is counted
    # twice), or rows of a dataset beyond one per primary key.
    duplicated: int = 0

    @property
    def consistent(self) -> bool:
        return self.missing == self.stale == self.ghost == self.duplicated == 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def compare_rows(
    store: Store, rows: Mapping[str, Mapping[str, Any]], synced: Iterable[str]
) -> Consistency:
    """Compare destination rows, keyed by company id string, with the store."""
    props = tuple(synced)
    result = Consistency()
    for company_id, company in store.companies.items():
        row = rows.get(str(company_id))
        deleted_there = row is None or row_value(row, ARCHIVED) == "true"
        if company.archived:
            if not deleted_there:
                result.ghost += 1
            continue
        if deleted_there:
            result.missing += 1
            continue
        assert row is not None
        if any(row_value(row, p) != company.properties.get(p) for p in props):
            result.stale += 1
    for key, row in rows.items():
        known = key.isdigit() and int(key) in store.companies
        if not known and row_value(row, ARCHIVED) != "true":
            result.ghost += 1
    return result


def from_undelivered(changes: Iterable[Change]) -> Consistency:
    """Derive consistency counts from the changes an aggregate does not include yet."""
    result = Consistency()
    edited: set[int] = set()
    for change in changes:
        if change.kind is ChangeKind.CREATE:
            result.missing += 1
        elif change.kind in DELETIONS:
            result.ghost += 1
        elif change.company_id not in edited:
            edited.add(change.company_id)
            result.stale += 1
    return result
