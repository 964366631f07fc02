"""Webhook events: parsing, de-duplication and per-object ordering."""

from __future__ import annotations

from typing import Any

import pytest

from solutions.common.events import (
    CREATION,
    DELETION,
    PROPERTY_CHANGE,
    Deduplicator,
    InvalidEvent,
    ObjectVersions,
    Verdict,
    WebhookEvent,
    parse_events,
)

T0 = 1_767_603_600_000


def change(object_id: int, at: int, value: str, name: str = "city") -> WebhookEvent:
    return WebhookEvent(PROPERTY_CHANGE, object_id, at, name, value)


def raw(**fields: Any) -> dict[str, Any]:
    event = {
        "eventId": 7,
        "subscriptionType": PROPERTY_CHANGE,
        "objectId": 5,
        "occurredAt": T0,
        "propertyName": "city",
        "propertyValue": "Paris",
    }
    event.update(fields)
    return event


def test_from_json_reads_the_fields_the_sync_uses() -> None:
    event = WebhookEvent.from_json(raw())
    assert event.key == (5, PROPERTY_CHANGE, "city", T0, "Paris")


def test_from_json_rejects_a_missing_object_id() -> None:
    with pytest.raises(InvalidEvent, match="objectId"):
        WebhookEvent.from_json(raw(objectId=None))


def test_from_json_rejects_a_property_change_without_a_name() -> None:
    with pytest.raises(InvalidEvent, match="propertyName"):
        WebhookEvent.from_json(raw(propertyName=None))


def test_parse_events_keeps_valid_events_and_reports_the_rest() -> None:
    events, errors = parse_events([raw(), "nonsense"])
    assert len(events) == 1
    assert errors == ["event 1: event must be a JSON object, got str"]


def test_key_ignores_event_id_which_is_not_guaranteed_unique() -> None:
    first = WebhookEvent.from_json(raw(eventId=1))
    second = WebhookEvent.from_json(raw(eventId=2))
    assert first.key == second.key


def test_duplicate_is_reported_the_second_time() -> None:
    dedup = Deduplicator()
    key = change(1, T0, "a").key
    assert dedup.check_and_add(key, T0) is False
    assert dedup.check_and_add(key, T0 + 10) is True


def test_same_property_with_another_value_is_not_a_duplicate() -> None:
    dedup = Deduplicator()
    dedup.check_and_add(change(1, T0, "a").key, T0)
    assert dedup.check_and_add(change(1, T0, "b").key, T0) is False


def test_keys_are_forgotten_after_the_window() -> None:
    dedup = Deduplicator(ttl_ms=1_000)
    key = change(1, T0, "a").key
    dedup.check_and_add(key, T0)
    assert dedup.check_and_add(key, T0 + 1_001) is False


def test_memory_is_bounded_by_max_keys() -> None:
    dedup = Deduplicator(max_keys=3)
    for i in range(10):
        dedup.check_and_add(change(i, T0, "a").key, T0)
    assert len(dedup) <= 4


def test_newer_change_applies_after_an_older_one() -> None:
    versions = ObjectVersions()
    versions.record_property(change(1, T0, "old"))
    assert versions.check_property(change(1, T0 + 5, "new")) is Verdict.APPLY


def test_older_change_is_stale_after_a_newer_one() -> None:
    versions = ObjectVersions()
    versions.record_property(change(1, T0 + 5, "new"))
    assert versions.check_property(change(1, T0, "old")) is Verdict.STALE


def test_ordering_is_per_property() -> None:
    versions = ObjectVersions()
    versions.record_property(change(1, T0 + 5, "new", name="city"))
    older_other = change(1, T0, "x", name="name")
    assert versions.check_property(older_other) is Verdict.APPLY


def test_same_millisecond_with_another_value_asks_for_a_read() -> None:
    versions = ObjectVersions()
    versions.record_property(change(1, T0, "a"))
    assert versions.check_property(change(1, T0, "b")) is Verdict.REFETCH


def test_change_older_than_a_snapshot_is_stale() -> None:
    versions = ObjectVersions()
    versions.record_snapshot(1, modified_ms=T0 + 10, read_ms=T0 + 20)
    assert versions.check_property(change(1, T0 + 9, "a")) is Verdict.STALE


def test_change_after_a_snapshot_applies() -> None:
    versions = ObjectVersions()
    versions.record_snapshot(1, modified_ms=T0 + 10, read_ms=T0 + 20)
    assert versions.check_property(change(1, T0 + 11, "a")) is Verdict.APPLY


def test_property_change_before_creation_is_applied_over_the_read() -> None:
    # The change arrives first and is remembered; the read-back of the creation is
    # older than the change, so the change still applies on top of it.
    versions = ObjectVersions()
    early = change(9, T0 + 30, "Kranj")
    assert versions.check_property(early) is Verdict.APPLY
    versions.record_property(early)
    versions.record_snapshot(9, modified_ms=T0 + 10, read_ms=T0 + 20)
    assert versions.check_property(early) is Verdict.STALE
    assert versions.max_seen(9) == T0 + 30


def test_creation_older_than_a_read_is_stale() -> None:
    versions = ObjectVersions()
    versions.record_snapshot(3, modified_ms=T0, read_ms=T0 + 100)
    creation = WebhookEvent(CREATION, 3, T0)
    assert versions.check_lifecycle(creation) is Verdict.STALE


def test_deletion_after_a_read_applies() -> None:
    versions = ObjectVersions()
    versions.record_snapshot(3, modified_ms=T0, read_ms=T0 + 100)
    deletion = WebhookEvent(DELETION, 3, T0 + 101)
    assert versions.check_lifecycle(deletion) is Verdict.APPLY


def test_max_seen_is_the_newest_write_known() -> None:
    versions = ObjectVersions()
    versions.record_snapshot(4, modified_ms=T0, read_ms=T0)
    versions.record_property(change(4, T0 + 7, "a"))
    versions.record_property(change(4, T0 + 3, "b", name="name"))
    assert versions.max_seen(4) == T0 + 7
