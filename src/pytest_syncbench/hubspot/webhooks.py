"""Webhook subscriptions of the mock app and the delivery of their events.

Behaviour from HubSpot's webhooks guide: events go out by ``POST targetUrl`` as a JSON array
of at most 100, with at most ``maxConcurrentRequests`` (10 by default) requests in flight.
A connection failure, a response slower than 5 s or any 4xx/5xx status is retried up to 10
times over about 24 hours, and a 429 is retried after its ``Retry-After``. Events still
failing after the last retry are dropped, since HubSpot has no replay. Order is not
guaranteed, an event may arrive twice, and a propertyChange may arrive before the creation
of its object. Deliveries do not count against API limits.

Settings and subscription changes made through the API show at once in the API's responses
but reach delivery only after ``webhook_settings_delay_s``, since HubSpot states they can
take up to 5 minutes to apply.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from pytest_syncbench.clock import Clock, iso_ms
from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.hubspot.signatures import signature_v1, signature_v3
from pytest_syncbench.hubspot.store import Change, ChangeKind, Store

logger = logging.getLogger(__name__)

MAX_BATCH = 100

CREATION = "company.creation"
DELETION = "company.deletion"
PROPERTY_CHANGE = "company.propertyChange"
RESTORE = "company.restore"
MERGE = "company.merge"
# Accepted as a subscription, but the store records no associations, so it never produces
# events.
ASSOCIATION_CHANGE = "company.associationChange"
EVENT_TYPES = frozenset(
    {CREATION, DELETION, PROPERTY_CHANGE, RESTORE, ASSOCIATION_CHANGE, MERGE}
)

# HubSpot rejects propertyChange subscriptions to properties it changes on every write.
UNSUBSCRIBABLE_PROPERTIES = frozenset({"hs_lastmodifieddate"})

# sourceId of writes made in the CRM user interface: HubSpot sends "userId:<id>".
UI_SOURCE_ID = "userId:51000000"

# Properties the survivor's merge update sets whatever was moved, so numberOfPropertiesMoved
# leaves them out.
MERGE_BOOKKEEPING_PROPERTIES = frozenset(
    {"hs_merged_object_ids", "hs_lastmodifieddate"}
)


class SubscriptionError(ValueError):
    """Raised for a subscription or settings request that HubSpot would reject with 400."""


def retry_delays(span_s: float, max_retries: int, rng: random.Random) -> list[float]:
    """Draw the waits before each retry: doubling, jittered by +-25%, summing to about ``span_s``.

    HubSpot does not publish its schedule (older docs list 2, 4, 8 minutes and so on). With
    the defaults (10 retries over 86,400 s) the base is 84.5 s and the nominal waits are
    1.4 min, 2.8 min, 5.6 min, 11 min, 23 min, 45 min, 1.5 h, 3 h, 6 h and 12 h.
    """
    if max_retries == 0:
        return []
    base = span_s / (2**max_retries - 1)
    return [
        base * 2**attempt * rng.uniform(0.75, 1.25) for attempt in range(max_retries)
    ]


@dataclass(slots=True)
class Subscription:
    id: int
    event_type: str
    property_name: str | None
    active: bool
    created_ms: int
    updated_ms: int

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": str(self.id),
            "eventType": self.event_type,
            "active": self.active,
            "createdAt": iso_ms(self.created_ms),
            "updatedAt": iso_ms(self.updated_ms),
        }
        if self.property_name is not None:
            body["propertyName"] = self.property_name
        return body


@dataclass(slots=True)
class WebhookSettings:
    target_url: str
    max_concurrent_requests: int
    period: str
    created_ms: int
    updated_ms: int

    def to_json(self) -> dict[str, Any]:
        return {
            "targetUrl": self.target_url,
            "throttling": {
                "maxConcurrentRequests": self.max_concurrent_requests,
                "period": self.period,
            },
            "createdAt": iso_ms(self.created_ms),
            "updatedAt": iso_ms(self.updated_ms),
        }


class WebhookDispatcher:
    """Turns store changes into webhook events and delivers them to the app's target URL."""

    def __init__(self, store: Store, clock: Clock, config: HubSpotConfig) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        # Settings and subscriptions as the management API shows them.
        self.settings: WebhookSettings | None = None
        self.subscriptions: dict[int, Subscription] = {}
        # The state delivery uses, which follows the API's after webhook_settings_delay_s.
        self._live_settings: WebhookSettings | None = None
        self._live_subscriptions: dict[int, Subscription] = {}
        # Snapshots of the API's state, each with the epoch ms at which it goes live.
        self._pending: list[
            tuple[int, WebhookSettings | None, dict[int, Subscription]]
        ] = []
        self._next_subscription_id = 1_000
        self._next_event_id = 1
        self._rng = random.Random(f"hubspot-webhooks:{config.seed}")
        # Events waiting for the next batch, each with whether its random duplicate and
        # late-creation draws were already made (true for copies and held-back events).
        self._queue: list[tuple[dict[str, Any], bool]] = []
        self._queued = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._runner: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self._in_flight = 0
        self._slot_freed: asyncio.Condition | None = None

        self.events_created = 0
        self.delivered_batches = 0
        self.delivered_events = 0
        self.failed_attempts = 0
        self.retries = 0
        self.duplicates = 0
        self.late_creations = 0
        self.max_in_flight = 0
        # While True, every delivery attempt fails as a refused connection does, without
        # sending: the app's receiver is unreachable. Failed attempts are retried as usual.
        self.receiver_unreachable = False
        # Events that got a 2xx response more than once: a duplicate copy or a retried batch whose
        # events had been delivered before. Counted by event id.
        self.redelivered_events = 0
        self._delivered_ids: set[int] = set()
        # Ids of events given up on after the last retry.
        self.dropped: list[int] = []
        store.add_listener(self._on_change)

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._slot_freed = asyncio.Condition()
        self._runner = asyncio.create_task(self._run(), name="hubspot-webhook-batcher")

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.store.remove_listener(self._on_change)
        tasks = [task for task in (self._runner, *self._deliveries) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._runner = None
        self._deliveries.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def queued(self) -> int:
        """Number of events waiting for the next batch."""
        return len(self._queue)

    @property
    def dropped_events(self) -> int:
        """Number of events given up on after the last retry."""
        return len(self.dropped)

    @property
    def busy(self) -> bool:
        """Whether events are queued or a delivery (including one waiting to retry) is open."""
        return bool(self._queue) or bool(self._deliveries)

    # -- settings and subscriptions -----------------------------------------------------

    def configure(
        self,
        target_url: str,
        max_concurrent_requests: int | None = None,
        period: str = "SECONDLY",
    ) -> WebhookSettings:
        """Set the target URL and throttling, as ``PUT /webhooks/v3/{appId}/settings`` does."""
        if not target_url.startswith(("http://", "https://")):
            raise SubscriptionError(
                f"Invalid targetUrl {target_url!r}: expected an http(s) URL."
            )
        concurrency = max_concurrent_requests or self.config.max_concurrent_requests
        if concurrency < 1:
            raise SubscriptionError(
                f"Invalid maxConcurrentRequests {concurrency!r}: expected an integer >= 1."
            )
        if period not in ("SECONDLY", "ROLLING_MINUTE"):
            raise SubscriptionError(
                f"Invalid period {period!r}: expected SECONDLY or ROLLING_MINUTE."
            )
        now = self.clock.now_ms()
        created = self.settings.created_ms if self.settings else now
        self.settings = WebhookSettings(target_url, concurrency, period, created, now)
        self._schedule_live_state()
        logger.info(
            "webhook target set to %s (max %d in flight)", target_url, concurrency
        )
        return self.settings

    def clear_settings(self) -> None:
        self.settings = None
        self._schedule_live_state()

    def subscribe(
        self, event_type: str, property_name: str | None = None, active: bool = False
    ) -> Subscription:
        """Add a subscription, paused unless ``active`` is set, as HubSpot creates them."""
        if event_type not in EVENT_TYPES:
            accepted = ", ".join(sorted(EVENT_TYPES))
            raise SubscriptionError(
                f"Invalid eventType {event_type!r}: expected one of {accepted}."
            )
        if event_type == PROPERTY_CHANGE:
            if not property_name:
                raise SubscriptionError(
                    "A company.propertyChange subscription needs propertyName."
                )
            if property_name in UNSUBSCRIBABLE_PROPERTIES:
                raise SubscriptionError(
                    f"The property {property_name} cannot be subscribed to."
                )
        else:
            property_name = None
        for existing in self.subscriptions.values():
            if (existing.event_type, existing.property_name) == (
                event_type,
                property_name,
            ):
                raise SubscriptionError(
                    f"A subscription to {event_type} {property_name or ''} already exists "
                    f"(id {existing.id})."
                )
        now = self.clock.now_ms()
        subscription = Subscription(
            self._next_subscription_id, event_type, property_name, active, now, now
        )
        self._next_subscription_id += 1
        self.subscriptions[subscription.id] = subscription
        self._schedule_live_state()
        return subscription

    def set_active(self, subscription_id: int, active: bool) -> Subscription:
        subscription = self.subscriptions[subscription_id]
        subscription.active = active
        subscription.updated_ms = self.clock.now_ms()
        self._schedule_live_state()
        return subscription

    def unsubscribe(self, subscription_id: int) -> None:
        del self.subscriptions[subscription_id]
        self._schedule_live_state()

    def _schedule_live_state(self) -> None:
        """Queue the API's current state to go live after the settings delay.

        Changes go live in the order they were made, even if the delay shrinks between
        them.
        """
        subscriptions = {
            key: dataclasses.replace(value) for key, value in self.subscriptions.items()
        }
        live_at = self.clock.now_ms() + round(
            self.config.webhook_settings_delay_s * 1000
        )
        if self._pending:
            live_at = max(live_at, self._pending[-1][0])
        self._pending.append((live_at, self.settings, subscriptions))
        self._apply_live_state()

    def _apply_live_state(self) -> None:
        now = self.clock.now_ms()
        while self._pending and self._pending[0][0] <= now:
            _, self._live_settings, self._live_subscriptions = self._pending.pop(0)

    # -- turning changes into events ----------------------------------------------------

    def _on_change(self, change: Change) -> None:
        self._apply_live_state()
        if self._live_settings is None:
            return
        events = self._events_for(change)
        if events:
            self.events_created += len(events)
            self._queue.extend((event, False) for event in events)
            self._queued.set()

    def _events_for(self, change: Change) -> list[dict[str, Any]]:
        kind = change.kind
        events: list[dict[str, Any]] = []
        for subscription in self._live_subscriptions.values():
            if not subscription.active:
                continue
            event_type = subscription.event_type
            if event_type == PROPERTY_CHANGE:
                if kind is not ChangeKind.CREATE and kind is not ChangeKind.UPDATE:
                    continue
                name = subscription.property_name
                if name is None or name not in change.properties:
                    continue
                if name in self.config.unwebhooked_properties:
                    continue
                value = change.properties[name]
                # A creation reports the properties it set; unset ones produce no event.
                if kind is ChangeKind.CREATE and value is None:
                    continue
                event = self._event(subscription, change)
                event["propertyName"] = name
                # HubSpot reports a cleared property as an empty string.
                event["propertyValue"] = value if value is not None else ""
                events.append(event)
            elif event_type == CREATION and kind is ChangeKind.CREATE:
                event = self._event(subscription, change)
                event["changeFlag"] = "CREATED"
                events.append(event)
            elif event_type == DELETION and kind is ChangeKind.ARCHIVE:
                event = self._event(subscription, change)
                event["changeFlag"] = "DELETED"
                events.append(event)
            elif event_type == RESTORE and kind is ChangeKind.RESTORE:
                events.append(self._event(subscription, change))
            elif event_type == MERGE and kind is ChangeKind.MERGE:
                events.append(self._merge_event(subscription, change))
        return events

    def _merge_event(
        self, subscription: Subscription, change: Change
    ) -> dict[str, Any]:
        """Build a company.merge event from the merged-away company's MERGE change.

        The event's objectId is the survivor, as are primaryObjectId and newObjectId,
        since merging companies keeps the primary's id.
        """
        survivor = change.merged_into
        if survivor is None:
            raise ValueError(
                f"MERGE change {change.seq} of company {change.company_id} has no "
                "merged_into id"
            )
        event = self._event(subscription, change)
        event["objectId"] = survivor
        event["primaryObjectId"] = survivor
        event["mergedObjectIds"] = [change.company_id]
        event["newObjectId"] = survivor
        event["numberOfPropertiesMoved"] = self._properties_moved(change, survivor)
        return event

    def _properties_moved(self, change: Change, survivor: int) -> int:
        """Count the properties the survivor took over in the merge.

        Store.merge commits the survivor's UPDATE right after the MERGE change, in the
        same millisecond, and logs both before it notifies listeners.
        """
        changes = self.store.changes
        following = changes[change.seq + 1] if change.seq + 1 < len(changes) else None
        if (
            following is None
            or following.company_id != survivor
            or following.kind is not ChangeKind.UPDATE
            or following.committed_ms != change.committed_ms
        ):
            # NOTE: a merge logged without the survivor's update reports 0 moved.
            return 0
        moved = following.properties.keys() - MERGE_BOOKKEEPING_PROPERTIES
        return len(moved)

    def _event(self, subscription: Subscription, change: Change) -> dict[str, Any]:
        event_id = self._next_event_id
        self._next_event_id += 1
        source_id = (
            str(self.config.app_id) if change.source == "INTEGRATION" else UI_SOURCE_ID
        )
        return {
            "eventId": event_id,
            "subscriptionId": subscription.id,
            "portalId": self.config.portal_id,
            "appId": self.config.app_id,
            "occurredAt": change.committed_ms,
            "subscriptionType": subscription.event_type,
            "attemptNumber": 0,
            "objectId": change.company_id,
            "changeSource": change.source,
            "sourceId": source_id,
        }

    # -- batching and delivery ----------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._queued.wait()
            # Events gather for one batch window before they are sent.
            await asyncio.sleep(self.config.batch_window_s)
            self._queued.clear()
            queued, self._queue = self._queue, []
            queued = self._hold_back_creations(queued)
            events = self._with_duplicates(queued)
            if self.config.reorder:
                self._rng.shuffle(events)
            for start in range(0, len(events), MAX_BATCH):
                batch = events[start : start + MAX_BATCH]
                task = asyncio.create_task(
                    self._deliver(batch), name="hubspot-webhook-delivery"
                )
                self._deliveries.add(task)
                task.add_done_callback(self._deliveries.discard)

    def _hold_back_creations(
        self, queued: list[tuple[dict[str, Any], bool]]
    ) -> list[tuple[dict[str, Any], bool]]:
        """Move a share of new creation events to the next batch; return the rest."""
        rate = self.config.late_creation_rate
        if rate <= 0:
            return queued
        sending: list[tuple[dict[str, Any], bool]] = []
        for event, drawn in queued:
            is_creation = event["subscriptionType"] == CREATION
            if is_creation and not drawn and self._rng.random() < rate:
                self._queue.append((event, True))
                self.late_creations += 1
            else:
                sending.append((event, drawn))
        if self._queue:
            self._queued.set()
        return sending

    def _with_duplicates(
        self, queued: list[tuple[dict[str, Any], bool]]
    ) -> list[dict[str, Any]]:
        """Return the events to send now, queueing copies of some for a later batch."""
        rate = self.config.duplicate_rate
        events = [event for event, _ in queued]
        if rate <= 0:
            return events
        for event, is_duplicate in queued:
            if not is_duplicate and self._rng.random() < rate:
                self._queue.append((dict(event), True))
                self.duplicates += 1
        if self._queue:
            self._queued.set()
        return events

    async def _deliver(self, events: list[dict[str, Any]]) -> None:
        delays = retry_delays(
            self.config.retry_span_s, self.config.max_retries, self._rng
        )
        for attempt in range(len(delays) + 1):
            for event in events:
                event["attemptNumber"] = attempt
            succeeded, retry_after = await self._post(events)
            if succeeded:
                self.delivered_batches += 1
                self.delivered_events += len(events)
                self._count_redelivered(events)
                return
            self.failed_attempts += 1
            if attempt == len(delays):
                break
            # A 429's Retry-After replaces the scheduled wait but still uses up a retry.
            wait = retry_after if retry_after is not None else delays[attempt]
            self.retries += 1
            logger.info(
                "webhook batch of %d events failed (attempt %d); retrying in %.1f s",
                len(events),
                attempt,
                wait,
            )
            await asyncio.sleep(wait)
        ids = [event["eventId"] for event in events]
        self.dropped.extend(ids)
        logger.warning(
            "dropped %d webhook events after %d retries: event ids %s",
            len(ids),
            len(delays),
            ids,
        )

    def _count_redelivered(self, events: list[dict[str, Any]]) -> None:
        delivered = self._delivered_ids
        for event in events:
            event_id = event["eventId"]
            if event_id in delivered:
                self.redelivered_events += 1
            else:
                delivered.add(event_id)

    async def _post(self, events: list[dict[str, Any]]) -> tuple[bool, float | None]:
        """Send one attempt; return whether it succeeded and any Retry-After in seconds."""
        self._apply_live_state()
        settings = self._live_settings
        session = self._session
        if settings is None or session is None:
            return False, None
        url = settings.target_url
        if self.receiver_unreachable:
            logger.info("webhook delivery to %s failed: receiver unreachable", url)
            return False, None
        body = orjson.dumps(events)
        timestamp = self.clock.now_ms()
        secret = self.config.client_secret
        headers = {
            "Content-Type": "application/json",
            "X-HubSpot-Signature": signature_v1(secret, body),
            "X-HubSpot-Signature-Version": "v1",
            "X-HubSpot-Signature-v3": signature_v3(
                secret, "POST", url, body, timestamp
            ),
            "X-HubSpot-Request-Timestamp": str(timestamp),
        }
        timeout = aiohttp.ClientTimeout(total=self.config.webhook_timeout_s)
        async with self._slot(settings.max_concurrent_requests):
            try:
                # A redirect counts as a failure: HubSpot documents retries for 4xx and
                # 5xx but not what a 3xx does, so the mock neither follows nor accepts one.
                async with session.post(
                    url,
                    data=body,
                    headers=headers,
                    timeout=timeout,
                    allow_redirects=False,
                ) as reply:
                    await reply.read()
                    status = reply.status
                    retry_after = reply.headers.get("Retry-After")
            except (aiohttp.ClientError, TimeoutError) as error:
                logger.info("webhook delivery to %s failed: %r", url, error)
                return False, None
        if 200 <= status < 300:
            return True, None
        logger.info("webhook delivery to %s got HTTP %d", url, status)
        if status == 429 and retry_after is not None:
            return False, _parse_retry_after(retry_after)
        return False, None

    @contextlib.asynccontextmanager
    async def _slot(self, limit: int) -> AsyncIterator[None]:
        condition = self._slot_freed
        if condition is None:
            raise RuntimeError(
                "WebhookDispatcher.start() must be awaited before delivery"
            )
        async with condition:
            await condition.wait_for(lambda: self._in_flight < limit)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            yield
        finally:
            async with condition:
                self._in_flight -= 1
                condition.notify_all()


def _parse_retry_after(value: str) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
