"""HubSpot webhook events: parsing, de-duplication and per-object ordering.

HubSpot promises neither uniqueness nor order: the same event can be delivered twice
(a retry after a slow 200, or a plain duplicate), ``eventId`` is documented as not
guaranteed unique, and a batch can hold a ``propertyChange`` before the ``creation`` of
the same object (HubSpot webhooks guide). This module turns raw event
objects into :class:`WebhookEvent` values and decides, per event, whether it is new, a
repeat, or older than what the sync has already applied.

Usage::

    dedup = Deduplicator(ttl_ms=26 * 3600 * 1000)
    versions = ObjectVersions()
    event = WebhookEvent.from_json(raw)
    if dedup.check_and_add(event.key, now_ms):
        ...  # duplicate
    elif versions.check_property(event) is Verdict.STALE:
        ...  # an older write arrived after a newer one
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import orjson

CREATION = "company.creation"
DELETION = "company.deletion"
RESTORE = "company.restore"
PROPERTY_CHANGE = "company.propertyChange"
MERGE = "company.merge"

# (objectId, subscriptionType, propertyName, occurredAt, propertyValue): eventId alone
# is not a safe key, so an event is identified by what it says happened.
EventKey = tuple[int, str, str | None, int, str | None]


class InvalidEvent(ValueError):
    """Raised when a webhook event lacks a field the sync needs or has a wrong type."""


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One entry of a HubSpot webhook delivery."""

    subscription_type: str
    object_id: int
    occurred_at: int  # epoch milliseconds
    property_name: str | None = None
    property_value: str | None = None
    event_id: int | None = None
    attempt_number: int = 0
    change_source: str | None = None
    # For a company.merge: the ids merged into ``object_id`` (the survivor).
    merged_object_ids: tuple[int, ...] = ()

    @classmethod
    def from_json(cls, raw: Any) -> WebhookEvent:
        """Build an event from one decoded JSON object, checking what the sync uses."""
        if not isinstance(raw, dict):
            raise InvalidEvent(f"event must be a JSON object, got {type(raw).__name__}")
        subscription_type = raw.get("subscriptionType")
        if not isinstance(subscription_type, str) or not subscription_type:
            raise InvalidEvent(
                f"subscriptionType must be a string, got {subscription_type!r}"
            )
        object_id = _as_int(raw, "objectId")
        occurred_at = _as_int(raw, "occurredAt")
        property_name = raw.get("propertyName")
        if subscription_type.endswith(".propertyChange") and not isinstance(
            property_name, str
        ):
            raise InvalidEvent(
                f"a propertyChange needs a string propertyName, got {property_name!r}"
            )
        value = raw.get("propertyValue")
        event_id = raw.get("eventId")
        merged = raw.get("mergedObjectIds") or []
        if not isinstance(merged, list):
            raise InvalidEvent(f"mergedObjectIds must be a list, got {merged!r}")
        return cls(
            subscription_type=subscription_type,
            object_id=object_id,
            occurred_at=occurred_at,
            property_name=property_name if isinstance(property_name, str) else None,
            property_value=None if value is None else str(value),
            event_id=event_id if isinstance(event_id, int) else None,
            attempt_number=raw.get("attemptNumber") or 0,
            change_source=raw.get("changeSource"),
            merged_object_ids=tuple(_as_int({"id": m}, "id") for m in merged),
        )

    @property
    def key(self) -> EventKey:
        return (
            self.object_id,
            self.subscription_type,
            self.property_name,
            self.occurred_at,
            self.property_value,
        )

    @property
    def key_text(self) -> str:
        """The key as compact JSON, for storage in Redis."""
        return orjson.dumps(self.key).decode()


def _as_int(raw: dict[str, Any], name: str) -> int:
    value = raw.get(name)
    if isinstance(value, bool):
        raise InvalidEvent(f"{name} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise InvalidEvent(f"{name} must be an integer, got {value!r}")


def parse_events(raw_events: list[Any]) -> tuple[list[WebhookEvent], list[str]]:
    """Parse a delivery; return the valid events and one message per invalid one."""
    events: list[WebhookEvent] = []
    errors: list[str] = []
    for index, raw in enumerate(raw_events):
        try:
            events.append(WebhookEvent.from_json(raw))
        except InvalidEvent as exc:
            errors.append(f"event {index}: {exc}")
    return events, errors


class Deduplicator:
    """Remembers event keys for ``ttl_ms`` of clock time and answers "seen before?".

    HubSpot retries a delivery for up to 24 hours, so the default window is a little
    longer. ``max_keys`` bounds memory under a flood; the oldest keys go first.
    """

    def __init__(
        self, ttl_ms: int = 26 * 3600 * 1000, max_keys: int = 2_000_000
    ) -> None:
        if ttl_ms <= 0:
            raise ValueError(f"ttl_ms must be positive, got {ttl_ms!r}")
        self.ttl_ms = ttl_ms
        self.max_keys = max_keys
        self._seen: OrderedDict[EventKey, int] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, key: EventKey) -> bool:
        return key in self._seen

    def check_and_add(self, key: EventKey, now_ms: int) -> bool:
        """Return True if ``key`` was seen within the window; remember it either way."""
        self._expire(now_ms)
        if key in self._seen:
            return True
        self._seen[key] = now_ms
        return False

    def add(self, key: EventKey, now_ms: int) -> None:
        self._seen[key] = now_ms

    def forget(self, key: EventKey) -> None:
        self._seen.pop(key, None)

    def _expire(self, now_ms: int) -> None:
        cutoff = now_ms - self.ttl_ms
        seen = self._seen
        while seen and (
            len(seen) > self.max_keys or next(iter(seen.values())) < cutoff
        ):
            seen.popitem(last=False)


class Verdict(enum.Enum):
    """What to do with an event given what has been applied to its object."""

    APPLY = "apply"  # newer than anything applied: apply it
    STALE = "stale"  # older than what is applied: drop it
    # Same millisecond as the applied write but a different value: the order cannot be
    # told from the events, so the object must be read back from HubSpot.
    REFETCH = "refetch"


@dataclass(slots=True)
class _ObjectState:
    # hs_lastmodifieddate of the last snapshot read from HubSpot: every write at or
    # before it is already in that snapshot.
    floor_ms: int = 0
    # Newest occurredAt applied per property, with the value it set.
    properties: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    # Newest creation / deletion / restore, or the read time of the last snapshot.
    lifecycle_ms: int = 0
    max_seen_ms: int = 0


class ObjectVersions:
    """Per object and property, the newest ``occurredAt`` applied.

    An event older than what is applied is stale: HubSpot delivered it out of order and
    applying it would move the destination back in time.
    """

    def __init__(self) -> None:
        self._objects: dict[int, _ObjectState] = {}

    def __len__(self) -> int:
        return len(self._objects)

    def forget(self, object_id: int) -> None:
        self._objects.pop(object_id, None)

    def check_property(self, event: WebhookEvent) -> Verdict:
        state = self._objects.get(event.object_id)
        if state is None:
            return Verdict.APPLY
        if event.occurred_at < state.floor_ms:
            return Verdict.STALE
        assert event.property_name is not None
        applied = state.properties.get(event.property_name)
        if applied is None or event.occurred_at > applied[0]:
            return Verdict.APPLY
        if event.occurred_at < applied[0]:
            return Verdict.STALE
        # Same millisecond: a repeat with the same value is a no-op; another value is a
        # second write in that millisecond whose order the events do not tell.
        return Verdict.STALE if applied[1] == event.property_value else Verdict.REFETCH

    def record_property(self, event: WebhookEvent) -> None:
        assert event.property_name is not None
        state = self._objects.setdefault(event.object_id, _ObjectState())
        applied = state.properties.get(event.property_name)
        if applied is None or event.occurred_at >= applied[0]:
            state.properties[event.property_name] = (
                event.occurred_at,
                event.property_value,
            )
        state.max_seen_ms = max(state.max_seen_ms, event.occurred_at)

    def check_lifecycle(self, event: WebhookEvent) -> Verdict:
        """Judge a creation, deletion or restore against the object's last lifecycle."""
        state = self._objects.get(event.object_id)
        if state is None or event.occurred_at >= state.lifecycle_ms:
            return Verdict.APPLY
        return Verdict.STALE

    def record_lifecycle(self, object_id: int, occurred_at: int) -> None:
        state = self._objects.setdefault(object_id, _ObjectState())
        state.lifecycle_ms = max(state.lifecycle_ms, occurred_at)

    def record_snapshot(self, object_id: int, modified_ms: int, read_ms: int) -> None:
        """Note a full read of the object, last modified at ``modified_ms``.

        Writes at or before ``modified_ms`` are in the snapshot, and any creation,
        deletion or restore before ``read_ms`` (when the read began) is reflected in
        whether the object was found.
        """
        state = self._objects.setdefault(object_id, _ObjectState())
        state.floor_ms = max(state.floor_ms, modified_ms)
        state.lifecycle_ms = max(state.lifecycle_ms, read_ms)
        state.max_seen_ms = max(state.max_seen_ms, modified_ms)
        state.properties = {
            name: applied
            for name, applied in state.properties.items()
            if applied[0] > modified_ms
        }

    def lifecycle(self, object_id: int) -> int:
        """Return when the object was last created, deleted, restored or read, or 0."""
        state = self._objects.get(object_id)
        return state.lifecycle_ms if state else 0

    def max_seen(self, object_id: int) -> int:
        """Return the newest write time known for the object (0 when unknown)."""
        state = self._objects.get(object_id)
        return state.max_seen_ms if state else 0
