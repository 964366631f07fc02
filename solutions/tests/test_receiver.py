"""The webhook receiver: v3 signatures, replay window, body checks, fast hand-off."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson

from solutions.common.events import WebhookEvent
from solutions.common.webhook_receiver import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookReceiver,
    decode_uri,
    queue_sink,
    signature_v3,
)
from solutions.tests.support import run, started_clock

SECRET = "secret-for-tests"
EVENT = {
    "eventId": 1,
    "subscriptionType": "company.propertyChange",
    "objectId": 42,
    "occurredAt": 1_767_603_600_000,
    "propertyName": "city",
    "propertyValue": "Ljubljana",
}


def test_signature_matches_the_reference_vector() -> None:
    # The vector of the official HubSpot Python client's signature tests.
    signature = signature_v3(
        "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy",
        "POST",
        "https://www.example.com/webhook_uri",
        b"{'example_field':'example_value'}",
        "1693657560000",
    )
    assert signature == "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="


def test_decode_uri_decodes_what_hubspot_decodes() -> None:
    assert decode_uri("http://h/a%3Ab%2Cc%40d") == "http://h/a:b,c@d"


def _post(
    url: str,
    body: bytes,
    *,
    timestamp: int,
    secret: str = SECRET,
    signed_body: bytes | None = None,
) -> dict[str, str]:
    signature = signature_v3(
        secret,
        "POST",
        url,
        body if signed_body is None else signed_body,
        str(timestamp),
    )
    return {
        SIGNATURE_HEADER: signature,
        TIMESTAMP_HEADER: str(timestamp),
        "Content-Type": "application/json",
    }


def _deliver(
    body: bytes,
    *,
    age_ms: int = 0,
    secret: str = SECRET,
    signed_body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, list[list[WebhookEvent]]]:
    """Send one request to a fresh receiver; return status, answer and queued items."""

    async def scenario() -> tuple[int, Any, list[list[WebhookEvent]]]:
        clock = started_clock()
        queue: asyncio.Queue[list[WebhookEvent]] = asyncio.Queue()
        receiver = WebhookReceiver(SECRET, clock, queue_sink(queue))
        url = await receiver.start()
        try:
            sent = headers
            if sent is None:
                sent = _post(
                    url,
                    body,
                    timestamp=clock.now_ms() - age_ms,
                    secret=secret,
                    signed_body=signed_body,
                )
            async with httpx.AsyncClient() as client:
                response = await client.post(url, content=body, headers=sent)
        finally:
            await receiver.stop()
        answer = response.json() if response.content else None
        queued = [queue.get_nowait() for _ in range(queue.qsize())]
        return response.status_code, answer, queued

    return run(scenario)


def test_valid_delivery_is_answered_200() -> None:
    status, _, _ = _deliver(orjson.dumps([EVENT]))
    assert status == 200


def test_valid_delivery_is_queued_as_events() -> None:
    _, _, queued = _deliver(orjson.dumps([EVENT]))
    assert queued == [[WebhookEvent.from_json(EVENT)]]


def test_tampered_body_is_rejected_with_401() -> None:
    body = orjson.dumps([EVENT])
    tampered = body.replace(b"Ljubljana", b"Maribor")
    status, _, queued = _deliver(tampered, signed_body=body)
    assert status == 401
    assert queued == []


def test_wrong_secret_is_rejected_with_401() -> None:
    status, _, _ = _deliver(orjson.dumps([EVENT]), secret="another-secret")
    assert status == 401


def test_timestamp_older_than_five_minutes_is_rejected_with_401() -> None:
    status, answer, _ = _deliver(orjson.dumps([EVENT]), age_ms=5 * 60 * 1000 + 1)
    assert status == 401
    assert "old" in answer["message"]


def test_timestamp_just_inside_five_minutes_is_accepted() -> None:
    status, _, _ = _deliver(orjson.dumps([EVENT]), age_ms=5 * 60 * 1000 - 1000)
    assert status == 200


def test_missing_signature_headers_are_rejected_with_401() -> None:
    status, _, _ = _deliver(orjson.dumps([EVENT]), headers={})
    assert status == 401


def test_body_that_is_not_json_is_rejected_with_400() -> None:
    status, answer, _ = _deliver(b"[{not json")
    assert status == 400
    assert "not valid JSON" in answer["message"]


def test_body_that_is_not_an_array_is_rejected_with_400() -> None:
    status, answer, _ = _deliver(orjson.dumps({"events": [EVENT]}))
    assert status == 400
    assert "JSON array" in answer["message"]


def test_invalid_events_are_dropped_and_the_rest_kept() -> None:
    broken = {"subscriptionType": "company.creation", "objectId": "x"}
    status, _, queued = _deliver(orjson.dumps([broken, EVENT]))
    assert status == 200
    assert queued == [[WebhookEvent.from_json(EVENT)]]


def test_sink_failure_is_answered_503_so_hubspot_retries() -> None:
    async def scenario() -> int:
        clock = started_clock()

        async def failing(events: list[WebhookEvent], body: bytes) -> None:
            raise ConnectionError("store down")

        receiver = WebhookReceiver(SECRET, clock, failing)
        url = await receiver.start()
        body = orjson.dumps([EVENT])
        try:
            async with httpx.AsyncClient() as client:
                response = await client.post(
                    url,
                    content=body,
                    headers=_post(url, body, timestamp=clock.now_ms()),
                )
        finally:
            await receiver.stop()
        return response.status_code

    assert run(scenario) == 503
