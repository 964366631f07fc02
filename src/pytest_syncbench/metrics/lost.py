"""Which source changes never reached the destination: a sample and counts by kind.

``data_loss`` counts the changes the delivery tracker still has unresolved at the end
of a run. This module lists which ones they were, so that a result shows exactly what a
solution lost (an edit of one property, a deletion, a merge), not only how many.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from pytest_syncbench.hubspot.store import Change

MODIFIED = "hs_lastmodifieddate"
# Entries kept in the sample; the counts by kind cover every lost change.
SAMPLE_SIZE = 20


def lost_changes(
    changes: Iterable[Change],
    synced: Iterable[str],
    start_ms: int,
    limit: int = SAMPLE_SIZE,
) -> list[dict[str, Any]]:
    """Return up to ``limit`` lost changes, oldest commit first, one entry per property.

    Each entry contains ``company_id``, ``kind`` (create, update, archive, restore,
    merge), ``property`` (a synced property the change set, or None for a lifecycle
    change), ``committed_s`` (simulated seconds since the run started) and, for a
    merge, ``merged_into``. An update counts as lost when any property it set did not arrive,
    and it is listed once for each property it set.
    """
    if limit < 0:
        raise ValueError(f"invalid limit {limit!r}: expected an integer >= 0")
    names = frozenset(synced)
    sample: list[dict[str, Any]] = []
    for change in sorted(changes, key=lambda c: c.seq):
        for name in _lost_properties(change, names):
            if len(sample) >= limit:
                return sample
            entry: dict[str, Any] = {
                "company_id": change.company_id,
                "kind": change.kind.value,
                "property": name,
                "committed_s": round((change.committed_ms - start_ms) / 1000, 3),
            }
            if change.merged_into is not None:
                entry["merged_into"] = change.merged_into
            sample.append(entry)
    return sample


def _lost_properties(change: Change, names: frozenset[str]) -> list[str | None]:
    """Return the synced properties an update set, without the timestamp HubSpot bumps.

    ``hs_lastmodifieddate`` is named only when nothing else was set, as in a merge
    survivor's update. Other kinds of change get one entry with no property.
    """
    if change.kind.value != "update":
        return [None]
    properties = sorted(p for p in change.properties if p in names)
    edited = [p for p in properties if p != MODIFIED]
    return list(edited or properties or [None])


def lost_by_kind(changes: Iterable[Change]) -> dict[str, int]:
    """Count lost changes by kind, for example ``{"update": 12, "merge": 3}``."""
    counts = Counter(change.kind.value for change in changes)
    return dict(sorted(counts.items()))
