"""The CRM search index: eventually consistent with the store, fast for timestamp queries.

HubSpot's search index lags writes: the CRM search guide says "a few moments" and reports
range from seconds to a minute. GET and list see a write at once. The index here receives
every committed change from a store listener, holds it in a pending queue, and applies it
only once the scenario clock reaches ``committed + index_lag_s``. Pending changes are applied
lazily, at the start of each search. A company with pending changes is seen as it was after
its last applied change, rebuilt from its change history. Archived companies never appear
in search, and a MERGE change removes the merged-away company as an ARCHIVE does (after
the same lag); the survivor's UPDATE is indexed like any update.

Change-data-capture clients filter on ``hs_lastmodifieddate`` (GT, GTE, BETWEEN), sort by
it ascending and break ties with an ``hs_object_id`` filter. For those queries the index
keeps a sorted list of ``modified_ms * ID_SPAN + id`` keys of live indexed companies and
narrows each filter group to a range of positions by bisection. A group of only timestamp
filters (or one millisecond plus id filters) then costs O(log n + page size) however many
companies match, while other filters in a group are tested on each key of its range. Groups
without a timestamp filter scan every indexed company.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sortedcontainers import SortedList

from pytest_syncbench.clock import Clock
from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.hubspot.filters import (
    MODIFIED,
    OBJECT_ID,
    Candidate,
    Filter,
    Operator,
    Predicate,
    SearchRequest,
    Sort,
    candidate_value,
    property_kind,
    query_predicate,
)
from pytest_syncbench.hubspot.objects import company_object, property_names
from pytest_syncbench.hubspot.store import Change, ChangeKind, Store

logger = logging.getLogger(__name__)

# Company ids stay below 2**32, so one integer key orders by (modified_ms, id).
ID_SPAN = 1 << 32
_ID_MASK = ID_SPAN - 1
_UNBOUNDED_LOW = -(1 << 62)
_UNBOUNDED_HIGH = 1 << 62


@dataclass(slots=True)
class GroupPlan:
    """One filter group narrowed to key positions ``[start, end)``, plus what is left to test."""

    start: int
    end: int
    residual: list[Predicate]

    @property
    def pure(self) -> bool:
        return not self.residual


class SearchIndex:
    """Search view of one store, lagging it by ``config.index_lag_s``."""

    def __init__(self, store: Store, clock: Clock, config: HubSpotConfig) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self._pending: deque[Change] = deque()
        self._pending_seqs: set[int] = set()
        self._pending_per_company: dict[int, int] = {}
        self._built = False
        self._known_companies = 0
        # Indexed state: last applied modification time of every indexed company, the archived
        # ones among them, and the sorted keys of the live ones.
        self._modified: dict[int, int] = {}
        self._archived: set[int] = set()
        self._keys: SortedList = SortedList()
        # While set, changes committed get this lag instead of config.index_lag_s.
        self.lag_spike_s: float | None = None
        # Searchable times (epoch ms) of pending changes committed during a lag spike.
        self._spiked_ready_ms: dict[int, int] = {}
        store.add_listener(self._on_change)

    def close(self) -> None:
        # Closing twice is harmless: the listener is already gone.
        with contextlib.suppress(ValueError):
            self.store.remove_listener(self._on_change)

    @property
    def pending(self) -> int:
        """Number of committed changes not yet searchable."""
        return len(self._pending)

    # -- keeping up with the store -------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        if self.lag_spike_s is not None:
            ready_ms = change.committed_ms + round(self.lag_spike_s * 1000)
            self._spiked_ready_ms[change.seq] = ready_ms
        self._pending.append(change)
        self._pending_seqs.add(change.seq)
        company_id = change.company_id
        self._pending_per_company[company_id] = (
            self._pending_per_company.get(company_id, 0) + 1
        )
        if change.kind is ChangeKind.CREATE:
            self._known_companies += 1

    def catch_up(self, now_ms: int) -> None:
        """Apply every pending change whose lag has passed at ``now_ms``.

        Changes are applied in commit order, so a change committed after a lag spike
        waits until the spike's changes are searchable, as behind a backed-up indexer.
        """
        lag_ms = round(self.config.index_lag_s * 1000)
        pending = self._pending
        spiked = self._spiked_ready_ms
        while pending:
            head = pending[0]
            ready_ms = spiked.get(head.seq, head.committed_ms + lag_ms)
            if ready_ms > now_ms:
                break
            spiked.pop(head.seq, None)
            self._apply(pending.popleft())
        if self._built and len(self.store.companies) != self._known_companies:
            # Companies were seeded after the index was built, and Store.seed notifies no listener.
            logger.info("search index rebuilt after companies were seeded")
            self._built = False
        if not self._built:
            self._build()

    def _apply(self, change: Change) -> None:
        company_id = change.company_id
        self._pending_seqs.discard(change.seq)
        left = self._pending_per_company[company_id] - 1
        if left:
            self._pending_per_company[company_id] = left
        else:
            del self._pending_per_company[company_id]
        if not self._built:
            return
        kind = change.kind
        live = company_id not in self._archived
        old = self._modified.get(company_id)
        if kind is ChangeKind.CREATE or kind is ChangeKind.UPDATE:
            if old is not None and live:
                self._keys.remove(old * ID_SPAN + company_id)
            self._modified[company_id] = change.committed_ms
            if live:
                self._keys.add(change.committed_ms * ID_SPAN + company_id)
        elif kind is ChangeKind.ARCHIVE or kind is ChangeKind.MERGE:
            # A merged-away company leaves search as an archived one does, for good.
            if old is not None and live:
                self._keys.remove(old * ID_SPAN + company_id)
                self._archived.add(company_id)
        elif kind is ChangeKind.RESTORE and old is not None and not live:
            self._archived.discard(company_id)
            self._keys.add(old * ID_SPAN + company_id)

    def _build(self) -> None:
        self._modified = {}
        self._archived = set()
        keys: list[int] = []
        for company_id, company in self.store.companies.items():
            if company_id in self._pending_per_company:
                state = self._replay(company_id)
                if state is None:
                    continue
                _, modified, archived = state
            else:
                modified, archived = company.updated_ms, company.archived
            self._modified[company_id] = modified
            if archived:
                self._archived.add(company_id)
            else:
                keys.append(modified * ID_SPAN + company_id)
        self._keys = SortedList(keys)
        self._known_companies = len(self.store.companies)
        self._built = True

    def _replay(
        self, company_id: int
    ) -> tuple[dict[str, str | None], int, bool] | None:
        """Rebuild a company's indexed state from its applied changes; None if none applied."""
        company = self.store.companies[company_id]
        props: dict[str, str | None] | None = None
        modified = 0
        archived = False
        for seq in company.change_seqs:
            if seq in self._pending_seqs:
                # A company's changes are applied in commit order, so the rest are pending too.
                break
            change = self.store.changes[seq]
            if change.kind is ChangeKind.CREATE:
                props = dict(change.properties)
                modified = change.committed_ms
            elif change.kind is ChangeKind.UPDATE and props is not None:
                props.update(change.properties)
                modified = change.committed_ms
            elif change.kind is ChangeKind.ARCHIVE or change.kind is ChangeKind.MERGE:
                archived = True
            elif change.kind is ChangeKind.RESTORE:
                archived = False
        if props is None:
            return None
        return props, modified, archived

    def candidate(self, company_id: int, modified_ms: int) -> Candidate:
        company = self.store.companies[company_id]
        if company_id in self._pending_per_company:
            state = self._replay(company_id)
            if state is not None:
                return Candidate(company_id, state[0], company.created_ms, modified_ms)
        return Candidate(
            company_id, company.properties, company.created_ms, modified_ms
        )

    # -- searching ----------------------------------------------------------------------

    def search(self, request: SearchRequest) -> dict[str, Any]:
        """Run a validated search and build the response body."""
        self.catch_up(self.clock.now_ms())
        extra = [query_predicate(request.query)] if request.query else []
        groups = request.groups or [[]]
        plans = [self._plan(group, extra) for group in groups]
        sort = request.sort
        if all(plan is not None for plan in plans):
            runs = self._matching_runs([plan for plan in plans if plan is not None])
            if sort is not None and sort.property_name == MODIFIED:
                total, page = self._page_of_runs(
                    runs, request.after, request.limit, sort
                )
            else:
                matched = [self._key_candidate(key) for key in self._keys_of_runs(runs)]
                total, page = _sort_and_page(
                    matched, sort, request.after, request.limit
                )
        else:
            predicates = [_group_predicates(group, extra) for group in groups]
            matched = list(self._scan(predicates))
            total, page = _sort_and_page(matched, sort, request.after, request.limit)
        names = property_names(request.properties)
        response: dict[str, Any] = {
            "total": total,
            "results": [company_object(c.properties, names) for c in page],
        }
        next_after = request.after + len(page)
        if page and next_after < total:
            response["paging"] = {"next": {"after": str(next_after)}}
        return response

    def _plan(self, group: list[Filter], extra: list[Predicate]) -> GroupPlan | None:
        """Narrow a group to a key range, or return None when it has no timestamp filter."""
        low, high = _UNBOUNDED_LOW, _UNBOUNDED_HIGH
        residual: list[Filter] = []
        narrowed = False
        for flt in group:
            bounds = _bounds(flt) if flt.property_name == MODIFIED else None
            if bounds is None:
                residual.append(flt)
                continue
            narrowed = True
            low, high = max(low, bounds[0]), min(high, bounds[1])
        if not narrowed:
            return None
        low_key, high_key = low * ID_SPAN, high * ID_SPAN + _ID_MASK
        if low == high:
            # Within one millisecond the keys are ordered by id, so an id filter narrows too.
            id_low, id_high = 0, _ID_MASK
            remaining: list[Filter] = []
            for flt in residual:
                bounds = _bounds(flt) if flt.property_name == OBJECT_ID else None
                if bounds is None:
                    remaining.append(flt)
                    continue
                id_low, id_high = max(id_low, bounds[0]), min(id_high, bounds[1])
            residual = remaining
            low_key, high_key = low * ID_SPAN + max(0, id_low), low * ID_SPAN + id_high
        if low > high or low_key > high_key:
            return GroupPlan(0, 0, [])
        start = self._keys.bisect_left(low_key)
        end = self._keys.bisect_right(high_key)
        return GroupPlan(start, end, [flt.predicate for flt in residual] + extra)

    def _matching_runs(self, plans: list[GroupPlan]) -> list[tuple[int, int]]:
        """Return the ascending position runs ``[start, end)`` that match any group.

        The position line is cut at every group boundary. A segment covered by a group with
        nothing left to test matches whole. Otherwise each key in it is tested.
        """
        bounds = [(plan.start, plan.end) for plan in plans if plan.start < plan.end]
        cuts = sorted({position for pair in bounds for position in pair})
        runs: list[tuple[int, int]] = []
        for low, high in zip(cuts, cuts[1:], strict=False):
            covering = [
                plan for plan in plans if plan.start <= low and high <= plan.end
            ]
            if not covering:
                continue
            if any(plan.pure for plan in covering):
                _extend_runs(runs, low, high)
                continue
            for position, key in enumerate(self._keys.islice(low, high), start=low):
                candidate = self._key_candidate(key)
                if any(
                    all(test(candidate) for test in plan.residual) for plan in covering
                ):
                    _extend_runs(runs, position, position + 1)
        return runs

    def _page_of_runs(
        self, runs: list[tuple[int, int]], after: int, limit: int, sort: Sort
    ) -> tuple[int, list[Candidate]]:
        total = sum(high - low for low, high in runs)
        page: list[Candidate] = []
        skip = after
        ordered = reversed(runs) if sort.descending else iter(runs)
        for low, high in ordered:
            if len(page) >= limit:
                break
            size = high - low
            if skip >= size:
                skip -= size
                continue
            need = limit - len(page)
            if sort.descending:
                stop = high - skip
                keys = self._keys.islice(max(low, stop - need), stop, reverse=True)
            else:
                begin = low + skip
                keys = self._keys.islice(begin, min(high, begin + need))
            page.extend(self._key_candidate(key) for key in keys)
            skip = 0
        return total, page

    def _keys_of_runs(self, runs: list[tuple[int, int]]) -> Iterator[int]:
        for low, high in runs:
            yield from self._keys.islice(low, high)

    def _key_candidate(self, key: int) -> Candidate:
        return self.candidate(key & _ID_MASK, key // ID_SPAN)

    def _scan(self, groups: list[list[Predicate]]) -> Iterator[Candidate]:
        archived = self._archived
        for company_id, modified in self._modified.items():
            if company_id in archived:
                continue
            candidate = self.candidate(company_id, modified)
            if any(all(test(candidate) for test in group) for group in groups):
                yield candidate


def _bounds(flt: Filter) -> tuple[int, int] | None:
    """Return the inclusive integer range a range filter allows, or None for other filters."""
    op = flt.operator
    if op is Operator.BETWEEN:
        return _ceil(flt.value), _floor(flt.high_value)
    if op is Operator.EQ:
        if flt.value != int(flt.value):
            return 1, 0
        return int(flt.value), int(flt.value)
    if op is Operator.GT:
        return _floor(flt.value) + 1, _UNBOUNDED_HIGH
    if op is Operator.GTE:
        return _ceil(flt.value), _UNBOUNDED_HIGH
    if op is Operator.LT:
        return _UNBOUNDED_LOW, _ceil(flt.value) - 1
    if op is Operator.LTE:
        return _UNBOUNDED_LOW, _floor(flt.value)
    return None


def _floor(value: float) -> int:
    return int(value // 1)


def _ceil(value: float) -> int:
    return -int(-value // 1)


def _extend_runs(runs: list[tuple[int, int]], low: int, high: int) -> None:
    if runs and runs[-1][1] == low:
        runs[-1] = (runs[-1][0], high)
    else:
        runs.append((low, high))


def _group_predicates(group: list[Filter], extra: list[Predicate]) -> list[Predicate]:
    return [flt.predicate for flt in group] + extra


def _sort_and_page(
    matched: list[Candidate], sort: Sort | None, after: int, limit: int
) -> tuple[int, list[Candidate]]:
    ordered = _sorted(matched, sort)
    return len(matched), ordered[after : after + limit]


def _sorted(matched: Iterable[Candidate], sort: Sort | None) -> list[Candidate]:
    """Order by the sort rule, ties by id; unset values go last in either direction.

    NOTE: where HubSpot puts records without the sort property is undocumented.
    """
    if sort is None:
        return sorted(matched, key=lambda c: c.id)
    name = sort.property_name
    kind = property_kind(name)
    present: list[tuple[Any, int, Candidate]] = []
    missing: list[Candidate] = []
    for candidate in matched:
        value = candidate_value(candidate, name, kind)
        if value is None:
            missing.append(candidate)
        else:
            present.append((value, candidate.id, candidate))
    present.sort(key=lambda item: (item[0], item[1]), reverse=sort.descending)
    missing.sort(key=lambda c: c.id)
    return [item[2] for item in present] + missing
