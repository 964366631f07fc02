"""The official hubspot-api-client 12, unmodified, against the mock's limits and errors.

Covers 429s, 401 expired, 403 missing scopes and injected faults as the client raises
them, and the client's own webhook signature helper checking a real delivery.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from hubspot.crm.companies import ApiException, PublicObjectSearchRequest
from hubspot.exceptions import InvalidSignatureTimestampError
from hubspot.utils.signature import Signature
from hubspot_threaded import ThreadedMock, threaded_mock

from pytest_syncbench.hubspot.faults import FaultRule


def _json_body(error: ApiException) -> dict[str, object]:
    return json.loads(error.body)


def test_client_sees_burst_429_body_and_headers() -> None:
    with threaded_mock(3, burst_limit=1) as served:
        companies = served.client.crm.companies.basic_api
        assert companies.get_by_id("1").id == "1"
        with pytest.raises(ApiException) as caught:
            companies.get_by_id("2")
        error = caught.value
        assert error.status == 429
        body = _json_body(error)
        assert body["status"] == "error"
        assert body["message"] == "You have reached your ten_secondly_rolling limit."
        assert body["errorType"] == "RATE_LIMIT"
        assert body["policyName"] == "TEN_SECONDLY_ROLLING"
        assert isinstance(body["correlationId"], str)
        assert error.headers["X-HubSpot-RateLimit-Max"] == "1"
        assert error.headers["X-HubSpot-RateLimit-Remaining"] == "0"
        assert error.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        assert "Retry-After" not in error.headers


def test_client_sees_search_429() -> None:
    with threaded_mock(3, search_per_second=1) as served:
        search = served.client.crm.companies.search_api
        request = PublicObjectSearchRequest(limit=1)
        assert search.do_search(public_object_search_request=request).total == 3
        with pytest.raises(ApiException) as caught:
            search.do_search(public_object_search_request=request)
        assert caught.value.status == 429
        body = _json_body(caught.value)
        assert body["policyName"] == "SECONDLY"
        assert body["message"] == "You have reached your secondly limit."
        names = [name.lower() for name in caught.value.headers]
        assert not any(name.startswith("x-hubspot-ratelimit") for name in names)


def test_client_sees_missing_scopes_403() -> None:
    scopes = frozenset({"crm.objects.companies.write"})
    with threaded_mock(3, scopes=scopes) as served:
        with pytest.raises(ApiException) as caught:
            served.client.crm.companies.basic_api.get_by_id("1")
        assert caught.value.status == 403
        body = _json_body(caught.value)
        assert body["category"] == "MISSING_SCOPES"
        assert body["errors"] == [
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": ["crm.objects.companies.read"]},
            }
        ]


def test_client_sees_expired_401() -> None:
    with threaded_mock(3, access_token_expires_s=0.0) as served:
        with pytest.raises(ApiException) as caught:
            served.client.crm.companies.basic_api.get_page(limit=1)
        assert caught.value.status == 401
        body = _json_body(caught.value)
        assert body["category"] == "EXPIRED_AUTHENTICATION"
        assert body["message"].startswith(
            "The OAuth token used to make this call expired"
        )


def test_client_sees_gateway_fault_as_html() -> None:
    with threaded_mock(3) as served:
        served.call(served.mock.faults.add, FaultRule(502, count=1))
        with pytest.raises(ApiException) as caught:
            served.client.crm.companies.basic_api.get_by_id("1")
        assert caught.value.status == 502
        assert caught.value.headers["Content-Type"].startswith("text/html")
        assert "502 Bad Gateway" in caught.value.body
        assert served.client.crm.companies.basic_api.get_by_id("1").id == "1"


@dataclass
class Captured:
    url: str = ""
    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)


@contextmanager
def capturing_receiver(served: ThreadedMock) -> Iterator[Captured]:
    """Serve a receiver on 127.0.0.1 on the mock's loop and record every delivery."""
    captured = Captured()

    async def handle(request: web.Request) -> web.Response:
        captured.deliveries.append((dict(request.headers), await request.read()))
        captured.arrived.set()
        return web.Response(status=204)

    async def start() -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/hooks", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        captured.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hooks"
        return runner

    runner = asyncio.run_coroutine_threadsafe(start(), served.loop).result(timeout=30)
    try:
        yield captured
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), served.loop).result(30)


def _set_clock_to_wall_time(served: ThreadedMock, behind_ms: int = 0) -> None:
    # The helper checks timestamps against the real clock, so the mock's calendar time
    # must be wall time (less behind_ms) when it signs.
    clock = served.clock
    now_ms = round(time.time() * 1000) - behind_ms
    served.call(lambda: setattr(clock, "epoch_ms", now_ms - round(clock.now() * 1000)))


def _deliver_one(served: ThreadedMock, captured: Captured, city: str) -> None:
    captured.arrived.clear()
    served.call(served.store.update, 1, {"city": city})
    assert captured.arrived.wait(timeout=10), "no webhook delivery within 10 s"


def test_client_signature_helper_checks_delivery() -> None:
    with (
        threaded_mock(3, batch_window_s=0.05) as served,
        capturing_receiver(served) as captured,
    ):
        hooks = served.mock.webhooks
        served.call(hooks.configure, captured.url)
        served.call(hooks.subscribe, "company.propertyChange", "city", True)
        secret = served.mock.config.client_secret
        _set_clock_to_wall_time(served)
        _deliver_one(served, captured, "Signed")
        headers, body = captured.deliveries[-1]
        assert headers["X-HubSpot-Signature-Version"] == "v1"
        text = body.decode()
        v3 = {
            "client_secret": secret,
            "http_uri": captured.url,
            "http_method": "POST",
            "signature_version": "v3",
            "timestamp": headers["X-HubSpot-Request-Timestamp"],
        }
        signature = headers["X-HubSpot-Signature-v3"]
        assert Signature.is_valid(signature=signature, request_body=text, **v3)
        tampered = text.replace("Signed", "Forged")
        assert tampered != text
        assert not Signature.is_valid(signature=signature, request_body=tampered, **v3)
        assert Signature.is_valid(
            signature=headers["X-HubSpot-Signature"],
            client_secret=secret,
            request_body=text,
            signature_version="v1",
        )

        _set_clock_to_wall_time(served, behind_ms=6 * 60_000)
        _deliver_one(served, captured, "Stale")
        headers, body = captured.deliveries[-1]
        stale = {**v3, "timestamp": headers["X-HubSpot-Request-Timestamp"]}
        signature = headers["X-HubSpot-Signature-v3"]
        # The signature itself is right; only its age makes the helper reject it.
        expected = Signature.get_signature(
            secret,
            body.decode(),
            "v3",
            captured.url,
            "POST",
            stale["timestamp"],
        )
        assert signature == expected
        with pytest.raises(InvalidSignatureTimestampError):
            Signature.is_valid(signature=signature, request_body=body.decode(), **stale)
