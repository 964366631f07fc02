"""hybrid-cdc: webhooks, timestamp change data capture and reconciliation, in Redis.

Webhook events are handled as in :mod:`solutions.webhook_sync`, with three additions:

- Change data capture through the search API, every ``cdc_interval_s``: companies with
  ``hs_lastmodifieddate`` at or after ``watermark - lookback_s``, sorted ascending. It
  catches what webhooks miss (unsubscribed properties, dropped deliveries, downtime).
  The lookback re-reads the recent window, because the search index lags writes and a
  write committed just before a search may not be in it yet. For the same reason the
  watermark only moves to the newest timestamp older than ``now - lookback_s``.
  HubSpot refuses to page past 10,000 results, and a bulk update can give more than
  that one millisecond, so a scan that reaches the cap restarts from the last
  ``(hs_lastmodifieddate, hs_object_id)`` it saw, with the id as a filter.
- Merges: it subscribes to ``company.merge``, and CDC also reads each survivor's
  ``hs_merged_object_ids``, so a merged-away id becomes a deleted row even when the
  merge event is lost. Merged-away ids leave search and the archived listing alike.
- Reconciliation every ``reconcile_interval_s``: archiving does not bump
  ``hs_lastmodifieddate`` and drops the company from search, so deletions the webhooks
  missed are found by paging the archived listing; companies marked deleted that are
  no longer archived were restored and are read back.
- Durable state (:mod:`solutions.common.state`): each delivery is pushed to a Redis list
  before the receiver answers 200 and trimmed once its rows are in Databox; content
  hashes skip rows Databox already holds; event keys and the watermark are committed
  with the rows they produced. A restarted instance replays the list and resumes CDC
  from the watermark instead of copying everything again.

Traces: those of webhook-sync, plus a ``cdc cycle`` trace per scan and a ``reconcile``
trace per reconciliation, each with its requests. The flush that writes their rows links
to them. Deliveries replayed from Redis are ``webhook process`` traces of their own.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson
from redis.exceptions import RedisError

from solutions.common.databox_client import DataboxError
from solutions.common.events import WebhookEvent, parse_events
from solutions.common.hubspot_client import HubSpotError
from solutions.common.rows import content_hash, to_row
from solutions.common.state import ARCHIVED_MARKER, DEFAULT_PREFIX, Cursor, SyncState
from solutions.webhook_sync import MODIFIED, WebhookSync, modified_ms
from solutions.webhook_sync import Settings as WebhookSettings

OBJECT_ID = "hs_object_id"
# The survivor of a merge lists every id merged into it here, ``;``-separated.
MERGED_IDS = "hs_merged_object_ids"
# HubSpot rejects with 400 a search whose ``after`` reaches 10,000, whatever the limit.
SEARCH_CAP = 10_000
# HubSpot's largest search page.
SEARCH_PAGE_LIMIT = 200

SearchFn = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass
class Settings(WebhookSettings):
    """hybrid-cdc's knobs: webhook-sync's plus CDC, reconciliation and state."""

    # Seconds between change data capture scans of the search API.
    cdc_interval_s: float = 60.0
    # Seconds re-read before the watermark, for writes the index had not yet seen.
    lookback_s: float = 120.0
    # Seconds between scans of the archived listing for missed deletions.
    reconcile_interval_s: float = 900.0
    search_limit: int = SEARCH_PAGE_LIMIT
    state_prefix: str = DEFAULT_PREFIX
    subscribe_merges: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("cdc_interval_s", "reconcile_interval_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"{name}={value!r}: expected seconds > 0")
        if not isinstance(self.lookback_s, int | float) or self.lookback_s < 0:
            raise ValueError(f"lookback_s={self.lookback_s!r}: expected seconds >= 0")
        if not 1 <= self.search_limit <= SEARCH_PAGE_LIMIT:
            raise ValueError(
                f"search_limit={self.search_limit!r}: expected 1 to {SEARCH_PAGE_LIMIT}"
            )


@dataclass(slots=True)
class _Commit:
    """What one flush makes durable besides row hashes."""

    # Deliveries numbered below this have every row written once the flush succeeds.
    safe_delivery: int
    seen: list[tuple[int, str]] = field(default_factory=list)
    watermark: Cursor | None = None


class HybridCdc(WebhookSync):
    """Webhooks plus search-based CDC and reconciliation, with state in Redis."""

    name: ClassVar[str] = "hybrid-cdc"
    settings_class: ClassVar[type[Settings]] = Settings
    flush_errors: ClassVar[tuple[type[Exception], ...]] = (
        DataboxError,
        OSError,
        RedisError,
    )
    settings: Settings

    def __init__(self) -> None:
        super().__init__()
        for name in ("cdc_cycles", "cdc_rows", "failed_cdc_cycles", "reconciles"):
            self.counters[name] = 0
        for name in ("cdc_unchanged", "reconcile_deletions", "events_recovered"):
            self.counters[name] = 0
        self._watermark: Cursor | None = None
        self._watermark_candidate: Cursor | None = None
        # Keys of applied events, by delivery number, not yet committed to Redis.
        self._uncommitted_seen: deque[tuple[int, str]] = deque()
        # Number of the delivery at the head of the Redis pending list.
        self._trimmed = 0
        self._sink_lock = asyncio.Lock()
        self._resumed = False
        # Ids known to be merged away. They stay deleted: HubSpot cannot restore them.
        self._merged: set[int] = set()

    async def crash(self) -> None:
        """Stop at once without writing anything pending, as a killed process would."""
        if self._started:
            await self._shutdown()

    # -- state -------------------------------------------------------------------------

    async def _restore(self) -> None:
        self.state = SyncState(self.context.redis, self.settings.state_prefix)
        self._watermark = await self.state.watermark()
        bodies = await self.state.pending()
        for body in bodies:
            events = _decode(body, self.log)
            self.counters["events_recovered"] += len(events)
            # Every stored delivery keeps its slot, so numbers match list positions.
            self._enqueue(events)
        self._resumed = self._watermark is not None
        if self._resumed or bodies:
            self.log.info(
                "%s resumes from watermark %s with %d stored deliveries",
                self.name,
                self._watermark.to_text() if self._watermark else None,
                len(bodies),
            )

    async def _on_delivery(self, events: list[WebhookEvent], body: bytes) -> None:
        # The lock keeps the Redis list and the queue in the same order.
        async with self._sink_lock:
            await self.state.push_pending(body)
            self._enqueue(events)

    async def _seen_before(self, events: list[WebhookEvent], now_ms: int) -> set[str]:
        try:
            return await self.state.seen([e.key_text for e in events], now_ms)
        except RedisError as exc:
            # Applying a repeat again is harmless: rows are upserted, hashes compared.
            self.log.warning("could not check seen events in Redis: %s", exc)
            return set()

    def _note_applied(self, event: WebhookEvent) -> None:
        self._uncommitted_seen.append((self._deliveries, event.key_text))

    def _prepare_commit(self) -> _Commit | None:
        safe = min(self._fetch_wanted.values(), default=self._deliveries)
        seen: list[tuple[int, str]] = []
        while self._uncommitted_seen and self._uncommitted_seen[0][0] < safe:
            seen.append(self._uncommitted_seen.popleft())
        watermark, self._watermark_candidate = self._watermark_candidate, None
        if safe <= self._trimmed and not seen and watermark is None:
            return None
        return _Commit(safe, seen, watermark)

    def _abort_commit(self, commit: _Commit | None) -> None:
        if commit is None:
            return
        self._uncommitted_seen.extendleft(reversed(commit.seen))
        if commit.watermark is not None:
            candidate = self._watermark_candidate
            if candidate is None or candidate < commit.watermark:
                self._watermark_candidate = commit.watermark

    async def _unwritten(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        stored = await self.state.hashes(int(row["id"]) for row in rows)
        return [row for row in rows if stored[int(row["id"])] != _row_hash(row)]

    async def _commit(self, rows: list[dict[str, Any]], commit: _Commit | None) -> None:
        safe = commit.safe_delivery if commit else self._trimmed
        await self.state.commit(
            now_ms=self.clock.now_ms(),
            hashes={int(row["id"]): _row_hash(row) for row in rows},
            consumed=max(0, safe - self._trimmed),
            seen=[key for _, key in commit.seen] if commit else (),
            watermark=commit.watermark if commit else None,
        )
        self._trimmed = max(self._trimmed, safe)
        if commit and commit.watermark is not None:
            self._watermark = commit.watermark
            self.log.info("%s watermark at %s", self.name, commit.watermark.to_text())

    # -- lifecycle ---------------------------------------------------------------------

    async def _main(self) -> None:
        await super()._main()
        self._spawn(self._cdc_loop(), "cdc")
        self._spawn(self._reconcile_loop(), "reconcile")

    async def _catch_up(self) -> None:
        if self._resumed:
            # CDC from the watermark and a reconciliation replace the full copy.
            return
        with self.tracer.cycle("initial sync"):
            started_ms = self.clock.now_ms()
            await self._initial_sync()
            self._watermark_candidate = Cursor(started_ms - self._lookback_ms, 0)
            await self._flush()

    @property
    def _lookback_ms(self) -> int:
        return round(self.settings.lookback_s * 1000)

    # -- change data capture -----------------------------------------------------------

    async def _cdc_loop(self) -> None:
        if not self._resumed:
            await asyncio.sleep(self.settings.cdc_interval_s)
        while True:
            try:
                with self.tracer.cycle("cdc cycle") as span:
                    await self._cdc_cycle()
                    self._link_next_write(span.handle)
            except (HubSpotError, RedisError) as exc:
                self.counters["failed_cdc_cycles"] += 1
                self.log.warning("CDC cycle failed: %s", exc)
            await asyncio.sleep(self.settings.cdc_interval_s)

    async def _cdc_cycle(self) -> None:
        """Read every company modified since the watermark minus the lookback."""
        watermark = self._watermark or Cursor(0, 0)
        horizon_ms = self.clock.now_ms() - self._lookback_ms
        newest = watermark
        properties = (*self.properties, MERGED_IDS)
        if self._lookback_ms:
            scan = scan_changes(
                self.hubspot.search,
                properties,
                self.clock.now_ms,
                since_ms=watermark.modified_ms - self._lookback_ms,
                limit=self.settings.search_limit,
            )
        else:
            scan = scan_changes(
                self.hubspot.search,
                properties,
                self.clock.now_ms,
                cursor=watermark,
                limit=self.settings.search_limit,
            )
        taken = 0
        async for companies, read_ms in scan:
            taken += await self._apply_search_page(companies, read_ms)
            for company in companies:
                position = Cursor(modified_ms(company), int(company["id"]))
                if position.modified_ms < horizon_ms and position > newest:
                    newest = position
        self.counters["cdc_cycles"] += 1
        self.counters["cdc_rows"] += taken
        if newest > watermark:
            candidate = self._watermark_candidate
            if candidate is None or candidate < newest:
                self._watermark_candidate = newest
        self._flush_now.set()

    async def _apply_search_page(
        self, companies: list[dict[str, Any]], read_ms: int
    ) -> int:
        """Apply one page of search results; return how many rows will be written."""
        ids = [int(c["id"]) for c in companies]
        stored = await self.state.hashes(ids)
        taken = self._apply_merged_ids(companies)
        for company, object_id in zip(companies, ids, strict=True):
            known = object_id in self._rows
            if stored[object_id] == ARCHIVED_MARKER and not known:
                # Deleted as far as Databox knows; the lagging index may still list
                # it, so let a consistent read decide.
                self._request_fetch(object_id)
                continue
            if stored[object_id] == content_hash(to_row(company, self.properties)):
                self.counters["cdc_unchanged"] += 1
                if not known and object_id not in self._dirty:
                    # Databox holds it already; keep it to apply later events to.
                    self._apply_snapshot(company, read_ms, consistent=False)
                    self._dirty.discard(object_id)
                continue
            taken += self._apply_snapshot(company, read_ms, consistent=False)
        return taken

    def _apply_merged_ids(self, companies: list[dict[str, Any]]) -> int:
        """Delete the ids each survivor lists as merged into it; return how many.

        This catches merges whose company.merge event was lost, since the survivor's
        merge update bumps ``hs_lastmodifieddate`` and so reaches CDC.
        """
        deleted = 0
        for company in companies:
            value = (company.get("properties") or {}).get(MERGED_IDS)
            for part in (value or "").split(";"):
                if not part.isdigit() or int(part) in self._merged:
                    continue
                self._merged.add(int(part))
                if int(part) not in self._deleted:
                    self._apply_merged_away(int(part), modified_ms(company))
                    deleted += 1
        return deleted

    def _apply_merged_away(self, object_id: int, merged_ms: int) -> None:
        self._merged.add(object_id)
        super()._apply_merged_away(object_id, merged_ms)

    # -- reconciliation ----------------------------------------------------------------

    async def _reconcile_loop(self) -> None:
        if not self._resumed:
            await asyncio.sleep(self.settings.reconcile_interval_s)
        while True:
            try:
                with self.tracer.cycle("reconcile") as span:
                    await self._reconcile()
                    self._link_next_write(span.handle)
            except (HubSpotError, RedisError) as exc:
                self.log.warning("reconciliation failed: %s", exc)
            await asyncio.sleep(self.settings.reconcile_interval_s)

    async def _reconcile(self) -> None:
        """Write deletions the webhooks missed and read back restored companies."""
        archived: set[int] = set()
        after: str | None = None
        while True:
            read_ms = self.clock.now_ms()
            companies, after = await self.hubspot.list_page(
                (OBJECT_ID,), after, archived=True
            )
            ids = [int(c["id"]) for c in companies]
            archived.update(ids)
            stored = await self.state.hashes(ids)
            for object_id in ids:
                if stored[object_id] == ARCHIVED_MARKER or object_id in self._deleted:
                    continue
                if object_id in self._fetch_wanted:
                    continue
                self._versions.record_lifecycle(object_id, read_ms)
                self._mark_deleted(object_id)
                self.counters["reconcile_deletions"] += 1
            if after is None:
                break
        # Merged-away ids leave the archived listing too, but are never restored.
        restored = sorted((await self.state.archived_ids()) - archived - self._merged)
        for object_id in restored:
            self._request_fetch(object_id)
        self.counters["reconciles"] += 1
        self.log.info(
            "%s reconciled %d archived companies, %d to read back",
            self.name,
            len(archived),
            len(restored),
        )
        self._flush_now.set()


def search_body(
    properties: Sequence[str],
    *,
    since_ms: int | None = None,
    cursor: Cursor | None = None,
    after: int = 0,
    limit: int = SEARCH_PAGE_LIMIT,
) -> dict[str, Any]:
    """Build a CDC search: modified at or after ``since_ms``, or after ``cursor``.

    The cursor form is two OR-ed groups, ``modified == ts AND id > id`` and
    ``modified > ts``: companies sharing the cursor's millisecond are resumed by id,
    so neither a tie is lost nor the same 10,000 read again.

    NOTE: this relies on ties coming back in ascending id order. The mock does so, and
    HubSpot documents no order among equal sort values.
    """
    if (since_ms is None) == (cursor is None):
        raise ValueError("search_body needs exactly one of since_ms and cursor")
    if cursor is not None:
        groups = [
            {
                "filters": [
                    _filter(MODIFIED, "EQ", cursor.modified_ms),
                    _filter(OBJECT_ID, "GT", cursor.object_id),
                ]
            },
            {"filters": [_filter(MODIFIED, "GT", cursor.modified_ms)]},
        ]
    else:
        assert since_ms is not None
        groups = [{"filters": [_filter(MODIFIED, "GTE", since_ms)]}]
    body: dict[str, Any] = {
        "filterGroups": groups,
        "sorts": [{"propertyName": MODIFIED, "direction": "ASCENDING"}],
        "properties": list(properties),
        "limit": limit,
    }
    if after:
        body["after"] = str(after)
    return body


async def scan_changes(
    search: SearchFn,
    properties: Sequence[str],
    now_ms: Callable[[], int],
    *,
    since_ms: int | None = None,
    cursor: Cursor | None = None,
    limit: int = SEARCH_PAGE_LIMIT,
) -> AsyncIterator[tuple[list[dict[str, Any]], int]]:
    """Yield ``(page, read_ms)`` for every company modified since the start point.

    Pages come in ``(hs_lastmodifieddate, hs_object_id)`` order. When the next page
    would start at HubSpot's 10,000-result cap, the scan restarts after the last
    company seen.
    """
    after = 0
    while True:
        read_ms = now_ms()
        body = search_body(
            properties, since_ms=since_ms, cursor=cursor, after=after, limit=limit
        )
        response = await search(body)
        companies = list(response.get("results") or [])
        yield companies, read_ms
        next_after = ((response.get("paging") or {}).get("next") or {}).get("after")
        if not companies or next_after in (None, ""):
            return
        after = int(next_after)
        if after >= SEARCH_CAP:
            last = companies[-1]
            restart = Cursor(modified_ms(last), int(last["id"]))
            if cursor is not None and restart <= cursor:
                raise HubSpotError(
                    f"search did not advance past {cursor.to_text()} at the cap"
                )
            cursor, since_ms, after = restart, None, 0


def _filter(name: str, operator: str, value: int) -> dict[str, str]:
    return {"propertyName": name, "operator": operator, "value": str(value)}


def _row_hash(row: dict[str, Any]) -> str:
    return ARCHIVED_MARKER if row.get("archived") == "true" else content_hash(row)


def _decode(body: bytes, log: Any) -> list[WebhookEvent]:
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        log.error("dropped a stored delivery that is not JSON: %s", exc)
        return []
    events, errors = parse_events(raw if isinstance(raw, list) else [])
    if errors:
        log.warning("dropped %d invalid stored events: %s", len(errors), errors[:3])
    return events
