"""webhook-sync: one full copy, then HubSpot's webhooks drive every later change.

The sequence on start:

1. Start the webhook receiver on 127.0.0.1 and point the app's subscriptions at it
   (creation, deletion, restore and one propertyChange per synced property). This comes
   first so that a change committed while the copy runs still arrives as an event.
2. Page the company listing once, upserting each page's rows as it arrives.
3. Apply events from the receiver's queue:

   - duplicates are dropped by :class:`~solutions.common.events.Deduplicator`;
   - an event older than what is applied to its object is dropped as stale;
   - a propertyChange is applied to the row kept in memory without any API call, and
     ``hs_lastmodifieddate`` becomes the newest ``occurredAt`` seen for the object;
   - creations, restores and property changes of objects not yet known (HubSpot may
     deliver them before the creation) are read back with batch read, gathered for
     ``batch_read_delay_s`` so that one call serves up to 100 objects;
   - a deletion becomes an archived row;
   - with ``subscribe_merges``, a merge makes the merged-away ids archived rows and
     reads the survivor back.

Changed rows are written to Databox every ``flush_interval_s`` or as soon as
``flush_rows`` are waiting.

Traces (``context.tracer``): ``webhook setup`` and ``initial sync`` are one trace each.
Every delivery is a ``webhook batch`` trace (see
:mod:`solutions.common.webhook_receiver`) whose ``webhook process`` span is added when
the worker applies it. Read-backs are ``read back`` traces. A flush outside the initial
sync is a ``flush`` trace, linked to the batches processed since the previous flush.
Both contain their requests and ``databox write`` spans.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_syncbench.clock import iso_ms, parse_iso_ms
from pytest_syncbench.solution import Delivery, Solution, SolutionContext
from pytest_syncbench.tracing import MAX_LINKS, NULL_TRACER, Parent, SyncTracer
from solutions.common.databox_client import DataboxClient, DataboxError
from solutions.common.events import (
    CREATION,
    DELETION,
    MERGE,
    PROPERTY_CHANGE,
    RESTORE,
    Deduplicator,
    ObjectVersions,
    Verdict,
    WebhookEvent,
)
from solutions.common.hubspot_client import (
    HubSpotClient,
    HubSpotError,
    HubSpotUnavailable,
)
from solutions.common.rows import archived_row, to_row
from solutions.common.settings import load_settings
from solutions.common.webhook_receiver import WebhookReceiver

if TYPE_CHECKING:
    from pytest_syncbench.clock import Clock

MODIFIED = "hs_lastmodifieddate"
LIFECYCLE_TYPES = (CREATION, DELETION, RESTORE)
# HubSpot takes at most 100 ids per batch read; Databox at most 100 records per call.
BATCH_LIMIT = 100
# Seconds a graceful stop spends writing what is still pending before giving up.
STOP_FLUSH_TIMEOUT_S = 30.0

STAT_NAMES = (
    "events_received",
    "events_duplicate",
    "events_stale",
    "events_ignored",
    "events_refetched",
    "events_dropped",
    "rows_written",
    "api_calls",
    "batch_reads",
    "flushes",
    "failed_flushes",
    "failed_fetches",
    "failed_setups",
)


@dataclass
class Settings:
    """webhook-sync's knobs; a scenario overrides them by name."""

    # Seconds between writes of changed rows to Databox.
    flush_interval_s: float = 5.0
    # Write at once when this many rows are waiting (Databox takes 100 per call).
    flush_rows: int = 100
    # Seconds to gather objects to read back, so that one batch read serves many.
    batch_read_delay_s: float = 2.0
    # Properties to subscribe to; None subscribes to every synced property.
    webhook_properties: tuple[str, ...] | None = None
    # Seconds to wait before trying a failed setup, page or batch read again.
    retry_delay_s: float = 10.0
    # How long an event key is remembered; HubSpot retries for up to 24 hours.
    dedup_window_s: float = 26 * 3600.0
    # HubSpot's maxConcurrentRequests for deliveries to the receiver.
    max_concurrent_requests: int = 10
    # Subscribe to company.merge and mark merged-away companies deleted. Off by
    # default: without it the merged-away rows stay live in Databox.
    subscribe_merges: bool = False
    receiver_port: int = 0

    def __post_init__(self) -> None:
        for name in ("flush_interval_s", "dedup_window_s", "retry_delay_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"{name}={value!r}: expected seconds > 0")
        if not isinstance(self.batch_read_delay_s, int | float) or (
            self.batch_read_delay_s < 0
        ):
            raise ValueError(
                f"batch_read_delay_s={self.batch_read_delay_s!r}: expected seconds >= 0"
            )
        if not isinstance(self.flush_rows, int) or not 1 <= self.flush_rows:
            raise ValueError(
                f"flush_rows={self.flush_rows!r}: expected an integer >= 1"
            )
        if self.webhook_properties is not None:
            self.webhook_properties = tuple(self.webhook_properties)


class WebhookSync(Solution):
    """Initial copy plus webhook-driven updates, with rows held in memory."""

    name: ClassVar[str] = "webhook-sync"
    delivers: ClassVar[Delivery] = Delivery.RECORDS
    settings_class: ClassVar[type[Settings]] = Settings
    # Failures a flush survives by keeping its rows for the next one.
    flush_errors: ClassVar[tuple[type[Exception], ...]] = (DataboxError, OSError)

    def __init__(self) -> None:
        self.counters: Counter[str] = Counter(dict.fromkeys(STAT_NAMES, 0))
        self._tasks: list[asyncio.Task[Any]] = []
        self._started = False
        # One row per company as HubSpot last showed it, and the ids known deleted.
        self._rows: dict[int, dict[str, Any]] = {}
        self._deleted: set[int] = set()
        self._dirty: set[int] = set()
        # Each delivery's events, with the span of the delivery to trace processing under.
        self._queue: asyncio.Queue[tuple[list[WebhookEvent], Parent]] = asyncio.Queue()
        self._queued_events = 0
        self._versions = ObjectVersions()
        # Objects to read back, with the number of the delivery that asked first, and
        # the events held for them until the read answers.
        self._fetch_wanted: dict[int, int] = {}
        self._in_flight: set[int] = set()
        self._held: dict[int, list[WebhookEvent]] = {}
        self._deliveries = 0
        self._flush_lock = asyncio.Lock()
        self._flush_now = asyncio.Event()
        self._fetch_signal = asyncio.Event()
        self._ignored_types: set[str] = set()
        self.tracer: SyncTracer = NULL_TRACER
        # Spans whose changes the next flush writes, to link it to them.
        self._write_links: list[Parent] = []

    # -- Solution interface ------------------------------------------------------------

    async def start(self, context: SolutionContext) -> None:
        if self._started:
            raise RuntimeError(f"{self.name} is already started")
        self._started = True
        self.context = context
        self.settings = load_settings(self.settings_class, context.settings)
        self.clock: Clock = context.clock
        self.log: logging.Logger = context.logger
        self.tracer = context.tracer
        self.properties = tuple(context.properties)
        self._synced = frozenset(self.properties)
        self._dedup = Deduplicator(ttl_ms=round(self.settings.dedup_window_s * 1000))
        self.hubspot = HubSpotClient(
            context.hubspot, self.clock, self.log, seed=self.name, tracer=self.tracer
        )
        self.databox = DataboxClient(
            context.databox, self.clock, self.log, seed=self.name, tracer=self.tracer
        )
        self.receiver = WebhookReceiver(
            context.hubspot.client_secret,
            self.clock,
            self._on_delivery,
            port=self.settings.receiver_port,
            tracer=self.tracer,
        )
        await self._restore()
        await self.receiver.start()
        self._spawn(self._main(), "main")

    async def stop(self) -> None:
        """Stop taking deliveries, write what is pending, then shut down."""
        if not self._started:
            return
        await self.receiver.stop()
        try:
            await asyncio.wait_for(self._drain(), STOP_FLUSH_TIMEOUT_S)
        except TimeoutError:
            self.log.warning(
                "%s stopped with %d rows unwritten", self.name, self.backlog()
            )
        await self._shutdown()

    async def crash(self) -> None:
        """Stop at once without writing anything pending, as a killed process would.

        The receiver closes with its connections, queued events and unwritten rows are
        lost, and nothing is flushed.
        """
        if self._started:
            await self._shutdown()

    def backlog(self) -> int:
        return self._queued_events + len(self._dirty) + len(self._fetch_wanted)

    @property
    def stats(self) -> dict[str, int]:
        counters = dict(self.counters)
        hubspot = getattr(self, "hubspot", None)
        counters["api_calls"] = sum(hubspot.calls.values()) if hubspot else 0
        return counters

    # -- lifecycle ---------------------------------------------------------------------

    async def _restore(self) -> None:
        """Load durable state before deliveries arrive; webhook-sync keeps none."""

    async def _main(self) -> None:
        with self.tracer.cycle("webhook setup"):
            await self._retry_until_done("webhook setup", self._configure_webhooks)
        await self._catch_up()
        self._spawn(self._work(), "worker")
        self._spawn(self._fetch_loop(), "fetcher")
        self._spawn(self._flush_loop(), "flusher")

    async def _catch_up(self) -> None:
        """Bring the destination level with HubSpot before events are applied."""
        with self.tracer.cycle("initial sync"):
            await self._initial_sync()

    async def _configure_webhooks(self) -> None:
        """Point the app's webhooks here and subscribe to what is not yet subscribed.

        HubSpot answers 400 to a subscription that already exists, as it does after a
        restart, so only the missing ones are created.
        """
        properties = self.settings.webhook_properties
        if properties is None:
            properties = self.properties
        existing = await self._existing_subscriptions()
        await self.hubspot.configure_webhooks(
            self.receiver.url,
            [p for p in properties if (PROPERTY_CHANGE, p) not in existing],
            event_types=[t for t in self._event_types() if (t, None) not in existing],
            max_concurrent=self.settings.max_concurrent_requests,
        )
        self.log.info("%s subscribed webhooks at %s", self.name, self.receiver.url)

    def _event_types(self) -> tuple[str, ...]:
        if self.settings.subscribe_merges:
            return (*LIFECYCLE_TYPES, MERGE)
        return LIFECYCLE_TYPES

    async def _existing_subscriptions(self) -> set[tuple[str, str | None]]:
        access = self.context.hubspot
        body = await self.hubspot.request(
            "GET",
            f"/webhooks/v3/{access.app_id}/subscriptions",
            params={"hapikey": access.developer_api_key},
        )
        existing: set[tuple[str, str | None]] = set()
        for subscription in (body or {}).get("results") or []:
            key = (subscription.get("eventType"), subscription.get("propertyName"))
            existing.add(key)
            if not subscription.get("active", True):
                self.log.warning("webhook subscription %s exists but is paused", key)
        return existing

    async def _initial_sync(self) -> None:
        """Page the listing once; each page's rows are written as the page arrives."""
        after: str | None = None
        pages = 0
        while True:
            read_ms = self.clock.now_ms()
            try:
                results, cursor = await self.hubspot.list_page(self.properties, after)
            except HubSpotError as exc:
                self.counters["failed_setups"] += 1
                self.log.warning(
                    "initial sync page after=%s failed: %s; retrying in %.0fs",
                    after,
                    exc,
                    self.settings.retry_delay_s,
                )
                await asyncio.sleep(self.settings.retry_delay_s)
                continue
            for company in results:
                self._apply_snapshot(company, read_ms, consistent=True)
            pages += 1
            await self._flush()
            if cursor is None:
                break
            after = cursor
        self.log.info(
            "%s initial sync read %d pages, %d companies",
            self.name,
            pages,
            len(self._rows),
        )

    async def _drain(self) -> None:
        while not self._queue.empty():
            await self._process_traced(*self._queue.get_nowait())
        await self._flush()

    async def _shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.receiver.stop()
        await self.hubspot.aclose()
        await self.databox.aclose()
        self._started = False

    def _spawn(self, coro: Awaitable[Any], role: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(f"{self.name}:{role}")
        task.add_done_callback(self._task_done)
        self._tasks.append(task)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.log.error(
                "%s task %s died", self.name, task.get_name(), exc_info=task.exception()
            )

    async def _retry_until_done(
        self, what: str, operation: Callable[[], Awaitable[None]]
    ) -> None:
        while True:
            try:
                await operation()
                return
            except HubSpotError as exc:
                self.counters["failed_setups"] += 1
                self.log.warning(
                    "%s failed: %s; retrying in %.0fs",
                    what,
                    exc,
                    self.settings.retry_delay_s,
                )
                await asyncio.sleep(self.settings.retry_delay_s)

    # -- receiving ---------------------------------------------------------------------

    async def _on_delivery(self, events: list[WebhookEvent], body: bytes) -> None:
        """Queue one delivery; called inside the receiver's request handler."""
        self._enqueue(events)

    def _enqueue(self, events: list[WebhookEvent]) -> None:
        self.counters["events_received"] += len(events)
        self._queued_events += len(events)
        self._queue.put_nowait((events, self.tracer.current()))

    async def _work(self) -> None:
        while True:
            events, batch = await self._queue.get()
            try:
                await self._process_traced(events, batch)
            except Exception:
                # One bad delivery must not stop the worker; the rest still apply.
                self.log.exception("%s failed to process a delivery", self.name)
            if len(self._dirty) >= self.settings.flush_rows:
                self._flush_now.set()

    async def _process_traced(self, events: list[WebhookEvent], batch: Parent) -> None:
        """Apply one delivery in a ``webhook process`` span under its ``batch``."""
        with self.tracer.span(
            "webhook process", parent=batch, **{"syncbench.events": len(events)}
        ) as span:
            await self._process(events)
            self._link_next_write(span.handle)

    def _link_next_write(self, handle: Parent) -> None:
        """Link the next flush to ``handle``, a span whose changes it writes."""
        if handle is not None and len(self._write_links) < MAX_LINKS:
            self._write_links.append(handle)

    async def _process(self, events: list[WebhookEvent]) -> None:
        """Apply one delivery; deliveries are numbered in the order they arrived."""
        self._queued_events -= len(events)
        try:
            now_ms = self.clock.now_ms()
            earlier = await self._seen_before(events, now_ms)
            for event in events:
                if self._dedup.check_and_add(event.key, now_ms) or (
                    earlier and event.key_text in earlier
                ):
                    self.counters["events_duplicate"] += 1
                    continue
                self._note_applied(event)
                self._apply_event(event)
        finally:
            self._deliveries += 1

    async def _seen_before(self, events: list[WebhookEvent], now_ms: int) -> set[str]:
        """Return keys applied by an earlier run; webhook-sync remembers none."""
        return set()

    def _note_applied(self, event: WebhookEvent) -> None:
        """Hook: called for each event that passed de-duplication."""

    # -- applying events ---------------------------------------------------------------

    def _apply_event(self, event: WebhookEvent) -> None:
        object_id = event.object_id
        if object_id in self._fetch_wanted:
            # Its read-back is pending: apply the event on top of what it returns.
            self._held.setdefault(object_id, []).append(event)
            return
        kind = event.subscription_type
        if kind == PROPERTY_CHANGE:
            self._apply_property(event)
        elif kind in (CREATION, RESTORE):
            if self._versions.check_lifecycle(event) is Verdict.STALE:
                self.counters["events_stale"] += 1
                return
            self._versions.record_lifecycle(object_id, event.occurred_at)
            self._request_fetch(object_id)
        elif kind == DELETION:
            if self._versions.check_lifecycle(event) is Verdict.STALE:
                self.counters["events_stale"] += 1
                return
            self._versions.record_lifecycle(object_id, event.occurred_at)
            self._mark_deleted(object_id)
        elif kind == MERGE:
            self._apply_merge(event)
        else:
            self.counters["events_ignored"] += 1
            if kind not in self._ignored_types:
                self._ignored_types.add(kind)
                self.log.info("%s ignores %s events", self.name, kind)

    def _apply_property(self, event: WebhookEvent) -> None:
        object_id = event.object_id
        name = event.property_name
        if name not in self._synced:
            self.counters["events_ignored"] += 1
            return
        if object_id in self._deleted:
            if event.occurred_at < self._versions.lifecycle(object_id):
                # Written before the deletion already applied.
                self.counters["events_stale"] += 1
                return
        row = self._rows.get(object_id)
        if row is None or object_id in self._deleted:
            # Unknown (its creation may still be on its way) or written after a
            # deletion, so restored: read the object and apply the event over it.
            self._request_fetch(object_id)
            self._held.setdefault(object_id, []).append(event)
            return

        verdict = self._versions.check_property(event)
        if verdict is Verdict.STALE:
            self.counters["events_stale"] += 1
            return
        if verdict is Verdict.REFETCH:
            self.counters["events_refetched"] += 1
            self._request_fetch(object_id)
            return
        self._versions.record_property(event)
        assert name is not None
        # HubSpot reports a cleared property as "", and reads it back as null.
        value = event.property_value or None
        changed = row.get(name) != value
        row[name] = value
        if MODIFIED in self._synced:
            modified = iso_ms(self._versions.max_seen(object_id))
            changed |= row.get(MODIFIED) != modified
            row[MODIFIED] = modified
        if changed:
            self._dirty.add(object_id)

    def _apply_merge(self, event: WebhookEvent) -> None:
        """Mark the merged-away companies deleted and read the survivor back.

        The survivor (``objectId``) may have taken values from the merged companies,
        and no propertyChange event reports them.
        """
        for merged_id in event.merged_object_ids:
            self._apply_merged_away(merged_id, event.occurred_at)
        self._request_fetch(event.object_id)

    def _apply_merged_away(self, object_id: int, merged_ms: int) -> None:
        """Mark a company merged into another at ``merged_ms`` as deleted.

        A merged-away id can never be restored, so no later event revives it.
        """
        if object_id in self._deleted:
            return
        self._versions.record_lifecycle(object_id, merged_ms)
        self._mark_deleted(object_id)

    def _mark_deleted(self, object_id: int) -> None:
        if object_id not in self._deleted:
            self._deleted.add(object_id)
            self._dirty.add(object_id)

    def _apply_snapshot(
        self, company: dict[str, Any], read_ms: int, *, consistent: bool
    ) -> bool:
        """Take a full company object as the row; return whether it was taken.

        ``consistent`` reads (list, batch read) show HubSpot's state at ``read_ms``. A
        search result may be older than that, so it is taken only if it is not older
        than what is applied and was modified after any deletion applied since.
        """
        object_id = int(company["id"])
        row = to_row(company, self.properties)
        modified = modified_ms(company)
        if not consistent:
            known = object_id in self._rows or object_id in self._deleted
            if known and modified < self._versions.max_seen(object_id):
                return False
            if object_id in self._deleted and modified <= self._versions.lifecycle(
                object_id
            ):
                return False
            read_ms = modified
        self._versions.record_snapshot(object_id, modified, read_ms)
        was_deleted = object_id in self._deleted
        self._deleted.discard(object_id)
        if was_deleted or self._rows.get(object_id) != row:
            self._rows[object_id] = row
            self._dirty.add(object_id)
        return True

    def _apply_missing(self, object_id: int, read_ms: int) -> None:
        """A read at ``read_ms`` did not find the object: it is deleted or merged."""
        self._versions.record_lifecycle(object_id, read_ms)
        self._mark_deleted(object_id)

    # -- reading objects back ----------------------------------------------------------

    def _request_fetch(self, object_id: int) -> None:
        self._fetch_wanted.setdefault(object_id, self._deliveries)
        self._fetch_signal.set()

    async def _fetch_loop(self) -> None:
        while True:
            await self._fetch_signal.wait()
            self._fetch_signal.clear()
            if self.settings.batch_read_delay_s:
                await asyncio.sleep(self.settings.batch_read_delay_s)
            while waiting := [
                i for i in self._fetch_wanted if i not in self._in_flight
            ]:
                chunk = waiting[:BATCH_LIMIT]
                with self.tracer.cycle(
                    "read back", **{"syncbench.objects": len(chunk)}
                ) as span:
                    done = await self._fetch(chunk)
                    if not done:
                        span.fail("ReadBackFailed", "retried later")
                    self._link_next_write(span.handle)
                if not done:
                    await asyncio.sleep(self.settings.retry_delay_s)

    async def _fetch(self, object_ids: list[int]) -> bool:
        """Read objects back and apply them with their held events; False on failure."""
        read_ms = self.clock.now_ms()
        self._in_flight.update(object_ids)
        try:
            companies = await self.hubspot.batch_read(
                [str(i) for i in object_ids], self.properties
            )
        except HubSpotUnavailable as exc:
            self.counters["failed_fetches"] += 1
            self.log.warning(
                "batch read of %d companies failed: %s; retrying in %.0fs",
                len(object_ids),
                exc,
                self.settings.retry_delay_s,
            )
            return False
        except HubSpotError as exc:
            # No retry can fix a refused request: drop these reads and their events.
            self.counters["failed_fetches"] += 1
            self._drop_fetches(object_ids, exc)
            return True
        finally:
            self._in_flight.difference_update(object_ids)
        self.counters["batch_reads"] += 1

        found = set()
        for company in companies:
            # A merged-away id answers with the surviving company under its own id.
            self._apply_snapshot(company, read_ms, consistent=True)
            found.add(int(company["id"]))
        for object_id in object_ids:
            if object_id not in found:
                self._apply_missing(object_id, read_ms)
            self._fetch_wanted.pop(object_id, None)
            for event in self._held.pop(object_id, []):
                self._apply_event(event)
        if len(self._dirty) >= self.settings.flush_rows:
            self._flush_now.set()
        return True

    def _drop_fetches(self, object_ids: Iterable[int], exc: Exception) -> None:
        for object_id in object_ids:
            self._fetch_wanted.pop(object_id, None)
            held = self._held.pop(object_id, [])
            self.counters["events_dropped"] += len(held)
            self.log.error(
                "dropped the read of company %s and %d events: %s",
                object_id,
                len(held),
                exc,
            )

    # -- writing -----------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(
                    self._flush_now.wait(), self.settings.flush_interval_s
                )
            except TimeoutError:
                pass
            self._flush_now.clear()
            if not await self._flush():
                await asyncio.sleep(self.settings.retry_delay_s)

    async def _flush(self) -> bool:
        """Write every changed row; return False if Databox could not take them."""
        async with self._flush_lock:
            ids = self._dirty
            self._dirty = set()
            rows = [self._row_out(i) for i in ids]
            commit = self._prepare_commit()
            if not rows and commit is None:
                return True
            links, self._write_links = self._write_links, []
            with self.tracer.span(
                "flush", links=links, **{"syncbench.rows": len(rows)}
            ) as span:
                written = 0
                try:
                    rows = await self._unwritten(rows)
                    for start in range(0, len(rows), BATCH_LIMIT):
                        chunk = rows[start : start + BATCH_LIMIT]
                        await self.databox.upsert_rows(chunk)
                        written += len(chunk)
                    await self._commit(rows, commit)
                except self.flush_errors as exc:
                    self.counters["failed_flushes"] += 1
                    self._dirty |= ids
                    self._abort_commit(commit)
                    self.log.warning(
                        "flush of %d rows failed after %d written: %s",
                        len(rows),
                        written,
                        exc,
                    )
                    span.fail(type(exc).__qualname__, str(exc))
                    return False
                finally:
                    self.counters["rows_written"] += written
                    span.set("syncbench.rows_written", written)
            if rows:
                self.counters["flushes"] += 1
            return True

    def _row_out(self, object_id: int) -> dict[str, Any]:
        if object_id in self._deleted or object_id not in self._rows:
            return archived_row(str(object_id))
        return dict(self._rows[object_id])

    async def _unwritten(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Return the rows that differ from what Databox holds; all of them here."""
        return rows

    def _prepare_commit(self) -> Any:
        """Hook: capture what a successful flush makes durable; None when nothing."""
        return None

    async def _commit(self, rows: list[dict[str, Any]], commit: Any) -> None:
        """Hook: make a successful flush durable."""

    def _abort_commit(self, commit: Any) -> None:
        """Hook: give back what :meth:`_prepare_commit` took after a failed flush."""


def modified_ms(company: dict[str, Any]) -> int:
    """Return a company object's ``hs_lastmodifieddate`` in epoch milliseconds."""
    value = (company.get("properties") or {}).get(MODIFIED) or company.get("updatedAt")
    return parse_iso_ms(value) if value else 0
