"""When each source change became visible in the destination.

A change is one committed write to one company in the mock HubSpot. For a solution that
writes records, the change is visible at the arrival time of the first destination write
after which the company's row holds, for every property the change set, the value that
change set or a value set by a later change already committed at that time. A deletion sets
the pseudo-property ``archived`` to ``"true"``, and so does a merge for the merged-away
company (its id no longer exists on its own in HubSpot); the survivor's update is an update
like any other. For a solution that writes aggregates, the
change is visible at the arrival of the first push whose items are dated at or after the
change's commit time, because such an aggregate was computed from a source state that
includes it.

A company created (or edited) and deleted (or merged away) before any row of it reached the
destination leaves nothing to write: the destination's lack of a row already matches the
source's newest state from the moment of the deletion. Those changes become visible at the
deletion's commit time, so their latency is capped by how long the company lived. This
applies to records only, since an aggregate counts every creation and deletion.

The tracker is fed online, as the scenario runs, so that the harness can stop as soon as no
change is left undelivered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pytest_syncbench.hubspot.store import Change, ChangeKind, Store

ARCHIVED = "archived"
# Changes after which the company's id is gone from HubSpot's live objects.
DELETIONS = frozenset({ChangeKind.ARCHIVE, ChangeKind.MERGE})


def change_values(change: Change, synced: frozenset[str]) -> dict[str, str | None]:
    """Return the destination values a change requires, by property."""
    if change.kind in DELETIONS:
        return {ARCHIVED: "true"}
    if change.kind is ChangeKind.RESTORE:
        return {ARCHIVED: "false"}
    values = {k: v for k, v in change.properties.items() if k in synced}
    if change.kind is ChangeKind.CREATE:
        values[ARCHIVED] = "false"
    return values


def row_value(row: Mapping[str, Any], prop: str) -> str | None:
    if prop == ARCHIVED:
        return "true" if str(row.get(ARCHIVED, "false")).lower() == "true" else "false"
    value = row.get(prop)
    return None if value is None else str(value)


class DeliveryTracker:
    """Visibility time of every tracked change, in simulated seconds."""

    def __init__(
        self,
        store: Store,
        synced: Iterable[str],
        scenario_start_ms: int,
        records: bool = True,
    ) -> None:
        self.store = store
        self.records = records
        # Companies of which the destination has received at least one row.
        self._written: set[int] = set()
        self.synced = frozenset(synced)
        self.start_ms = scenario_start_ms
        self.visible_s: dict[int, float] = {}
        # The seqs of ``visible_s`` in the order they became visible, so that a reader can
        # take the new ones since its last look.
        self.resolved_order: list[int] = []
        # Unresolved change seqs per company, oldest first.
        self._pending: dict[int, list[int]] = {}
        self._pending_count = 0
        # For aggregates: every change with a seq below this is resolved.
        self._aggregate_cursor = 0

    # -- feeding ------------------------------------------------------------------------

    def track_existing(self) -> None:
        """Track every change already in the store (the seeded companies)."""
        for change in self.store.changes:
            self.track(change)

    def track(self, change: Change) -> None:
        company_id = change.company_id
        seqs = self._pending.setdefault(company_id, [])
        seqs.append(change.seq)
        self._pending_count += 1
        if (
            self.records
            and change.kind in DELETIONS
            and company_id not in self._written
        ):
            deleted_s = (change.committed_ms - self.start_ms) / 1000
            for seq in seqs:
                self.visible_s[seq] = deleted_s
                self.resolved_order.append(seq)
            self._pending_count -= len(seqs)
            del self._pending[company_id]

    def on_rows(self, arrival_s: float, rows: Iterable[Mapping[str, Any]]) -> None:
        arrival_ms = self.start_ms + round(arrival_s * 1000)
        for row in rows:
            try:
                company_id = int(row["id"])
            except (KeyError, TypeError, ValueError):
                continue
            self._written.add(company_id)
            seqs = self._pending.get(company_id)
            if seqs:
                self._resolve_row(company_id, seqs, row, arrival_s, arrival_ms)

    def on_aggregates(self, arrival_s: float, dates_ms: Iterable[int]) -> None:
        """Resolve every change committed at or before the oldest date of a push's items."""
        dates = list(dates_ms)
        if not dates:
            return
        as_of_ms = min(dates)
        changes = self.store.changes
        cursor = self._aggregate_cursor
        while cursor < len(changes) and changes[cursor].committed_ms <= as_of_ms:
            self._mark(changes[cursor], arrival_s)
            cursor += 1
        self._aggregate_cursor = cursor

    # -- reading ------------------------------------------------------------------------

    @property
    def unresolved(self) -> int:
        return self._pending_count

    def oldest_unresolved_seq(self) -> int | None:
        """Return the seq of the oldest change not yet visible, or None if none is pending.

        Seqs follow commit order and each company's list is oldest first, so the oldest
        pending change heads one of the lists.
        """
        return min((seqs[0] for seqs in self._pending.values()), default=None)

    def unresolved_changes(self) -> list[Change]:
        changes = self.store.changes
        return [changes[seq] for seqs in self._pending.values() for seq in seqs]

    def latencies_s(self, since_seq: int = 0) -> list[float]:
        """Return change-to-visibility latencies of resolved changes with seq >= since_seq.

        A change committed before the scenario started (a seeded company) counts from the
        start, since no solution could have seen it earlier.
        """
        changes = self.store.changes
        out = []
        for seq, seen in self.visible_s.items():
            if seq < since_seq:
                continue
            committed_s = max(0.0, (changes[seq].committed_ms - self.start_ms) / 1000)
            out.append(max(0.0, seen - committed_s))
        return out

    # -- internals ----------------------------------------------------------------------

    def _mark(self, change: Change, arrival_s: float) -> None:
        if change.seq in self.visible_s:
            return
        self.visible_s[change.seq] = arrival_s
        self.resolved_order.append(change.seq)
        seqs = self._pending.get(change.company_id)
        if seqs and change.seq in seqs:
            seqs.remove(change.seq)
            self._pending_count -= 1
            if not seqs:
                del self._pending[change.company_id]

    def _resolve_row(
        self,
        company_id: int,
        seqs: list[int],
        row: Mapping[str, Any],
        arrival_s: float,
        arrival_ms: int,
    ) -> None:
        changes = self.store.changes
        history = self.store.companies[company_id].change_seqs
        resolved: list[int] = []
        for seq in seqs:
            change = changes[seq]
            if change.committed_ms > arrival_ms:
                break
            later = [
                changes[s]
                for s in history
                if s >= seq and changes[s].committed_ms <= arrival_ms
            ]
            if self._superseded_by_deletion(row, later) or all(
                self._matches(row, prop, later)
                for prop in change_values(change, self.synced)
            ):
                resolved.append(seq)
        for seq in resolved:
            self.visible_s[seq] = arrival_s
            self.resolved_order.append(seq)
            seqs.remove(seq)
        self._pending_count -= len(resolved)
        if not seqs:
            del self._pending[company_id]

    @staticmethod
    def _superseded_by_deletion(row: Mapping[str, Any], later: list[Change]) -> bool:
        """Return whether the row shows a deletion that came after the change.

        A company created or edited and then deleted before the sync saw it is correct in
        the destination as a deleted row: the deletion is the newer state.
        """
        if row_value(row, ARCHIVED) != "true":
            return False
        return any(c.kind in DELETIONS for c in later)

    def _matches(self, row: Mapping[str, Any], prop: str, later: list[Change]) -> bool:
        value = row_value(row, prop)
        for change in later:
            required = change_values(change, self.synced)
            if prop in required and required[prop] == value:
                return True
        return False
