"""Merged-away companies become deleted rows, from the merge event or from CDC."""

from solutions.common.events import MERGE, WebhookEvent
from solutions.hybrid_cdc import HybridCdc
from solutions.webhook_sync import WebhookSync

SURVIVOR = {
    "id": "7",
    "properties": {
        "hs_merged_object_ids": "3;5",
        "hs_lastmodifieddate": "2026-01-05T09:00:00.000Z",
    },
}


def test_merge_event_parses_merged_ids() -> None:
    raw = {
        "subscriptionType": MERGE,
        "objectId": 7,
        "occurredAt": 1_767_603_600_000,
        "mergedObjectIds": [3, "5"],
    }

    event = WebhookEvent.from_json(raw)

    assert event.merged_object_ids == (3, 5)


def test_merge_event_deletes_merged_and_reads_survivor() -> None:
    sync = WebhookSync()
    sync._rows = {3: {"id": "3"}, 7: {"id": "7"}}
    event = WebhookEvent(MERGE, 7, 1_000, merged_object_ids=(3,))

    sync._apply_event(event)

    assert sync._deleted == {3}
    assert 3 in sync._dirty
    assert 7 in sync._fetch_wanted


def test_cdc_deletes_ids_the_survivor_lists() -> None:
    sync = HybridCdc()

    first = sync._apply_merged_ids([SURVIVOR])
    again = sync._apply_merged_ids([SURVIVOR])

    assert first == 2
    assert again == 0
    assert sync._deleted == {3, 5}
    assert sync._dirty == {3, 5}


def test_cdc_skips_ids_already_deleted() -> None:
    sync = HybridCdc()
    sync._deleted = {3}

    deleted = sync._apply_merged_ids([SURVIVOR])

    assert deleted == 1
    assert sync._dirty == {5}
