"""Webhook subscriptions and delivery of the mock HubSpot to a real receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web
from hubspot_helpers import Running, running_mock

from pytest_syncbench.hubspot.signatures import signature_v1, verify_v3
from pytest_syncbench.hubspot.webhooks import retry_delays
from pytest_syncbench.loop import run_virtual

Reply = Callable[[int], web.Response | None]


@dataclass
class Delivery:
    t_s: float
    events: list[dict[str, Any]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An app endpoint that records each POST and replies as a script decides."""

    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0


@asynccontextmanager
async def receiver(
    run: Running, reply: Reply | None = None, hold_s: float = 0.0
) -> AsyncIterator[Receiver]:
    """Serve a webhook receiver. ``reply(n)`` may build the response to request ``n`` (from 0)."""
    state = Receiver()

    async def handle(request: web.Request) -> web.Response:
        number = len(state.deliveries)
        body = await request.read()
        state.deliveries.append(
            Delivery(run.clock.now(), orjson.loads(body), dict(request.headers), body)
        )
        state.in_flight += 1
        state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            if hold_s:
                await asyncio.sleep(hold_s)
            custom = reply(number) if reply else None
            return custom if custom is not None else web.Response(status=200)
        finally:
            state.in_flight -= 1

    app = web.Application()
    app.router.add_post("/hooks", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hooks"
    try:
        yield state
    finally:
        await runner.cleanup()


def hooks_url(run: Running, path: str) -> str:
    config = run.mock.config
    return f"/webhooks/v3/{config.app_id}/{path}?hapikey={config.developer_api_key}"


async def subscribe(
    run: Running, target: str, properties: tuple[str, ...] = ("city",)
) -> None:
    settings = {"targetUrl": target, "throttling": {"maxConcurrentRequests": 10}}
    response = await run.client.put(hooks_url(run, "settings"), json=settings)
    assert response.status_code == 200
    bodies: list[dict[str, Any]] = [
        {"eventType": "company.creation", "active": True},
        {"eventType": "company.deletion", "active": True},
    ]
    bodies += [
        {"eventType": "company.propertyChange", "propertyName": name, "active": True}
        for name in properties
    ]
    for body in bodies:
        created = await run.client.post(hooks_url(run, "subscriptions"), json=body)
        assert created.status_code == 201


async def settle(run: Running) -> None:
    while run.mock.webhooks.busy:
        await asyncio.sleep(1)


def received_events(state: Receiver) -> list[dict[str, Any]]:
    return [event for delivery in state.deliveries for event in delivery.events]


def test_delivery_batches_and_event_fields() -> None:
    async def scenario() -> None:
        async with running_mock(300) as run, receiver(run) as state:
            await subscribe(run, state.url)
            for company_id in range(1, 251):
                run.store.update(company_id, {"city": f"City {company_id}"})
            committed = run.store.changes[-1].committed_ms
            await settle(run)
            assert [len(d.events) for d in state.deliveries] == [100, 100, 50]
            events = received_events(state)
            assert [e["objectId"] for e in events] == list(range(1, 251))
            last = events[-1]
            assert last["subscriptionType"] == "company.propertyChange"
            assert last["propertyName"] == "city"
            assert last["propertyValue"] == "City 250"
            assert last["occurredAt"] == committed
            assert last["attemptNumber"] == 0
            assert last["changeSource"] == "CRM_UI"
            assert last["portalId"] == run.mock.config.portal_id
            assert last["appId"] == run.mock.config.app_id
            assert len({e["eventId"] for e in events}) == 250
            assert run.mock.webhooks.delivered_batches == 3
            assert run.mock.webhooks.delivered_events == 250

    run_virtual(scenario)


def test_delivery_signatures_verify() -> None:
    async def scenario() -> None:
        async with running_mock(3) as run, receiver(run) as state:
            await subscribe(run, state.url)
            run.store.update(1, {"city": "Kyiv"})
            await settle(run)
            delivery = state.deliveries[0]
            secret = run.mock.config.client_secret
            headers = delivery.headers
            timestamp = int(headers["X-HubSpot-Request-Timestamp"])
            assert headers["X-HubSpot-Signature"] == signature_v1(secret, delivery.body)
            assert headers["X-HubSpot-Signature-Version"] == "v1"
            signature = headers["X-HubSpot-Signature-v3"]
            now_ms = run.clock.now_ms()
            assert verify_v3(
                secret, "POST", state.url, delivery.body, timestamp, signature, now_ms
            )

    run_virtual(scenario)


def test_creation_deletion_and_write_source() -> None:
    async def scenario() -> None:
        async with running_mock(3) as run, receiver(run) as state:
            await subscribe(run, state.url)
            response = await run.client.post(
                "/crm/v3/objects/companies",
                json={"properties": {"name": "N", "city": "Bern"}},
            )
            new_id = int(response.json()["id"])
            run.store.archive(2)
            run.store.update(1, {"hs_lastmodifieddate": "x", "industry": "RETAIL"})
            await settle(run)
            kinds = [
                (e["subscriptionType"], e["objectId"], e.get("changeFlag"))
                for e in received_events(state)
            ]
            assert kinds == [
                ("company.creation", new_id, "CREATED"),
                ("company.propertyChange", new_id, None),
                ("company.deletion", 2, "DELETED"),
            ]
            creation = received_events(state)[0]
            assert creation["changeSource"] == "INTEGRATION"
            assert creation["sourceId"] == str(run.mock.config.app_id)

    run_virtual(scenario)


def test_subscriptions_start_paused() -> None:
    async def scenario() -> None:
        async with running_mock(3) as run, receiver(run) as state:
            settings = {"targetUrl": state.url}
            await run.client.put(hooks_url(run, "settings"), json=settings)
            body = {"eventType": "company.propertyChange", "propertyName": "city"}
            created = (
                await run.client.post(hooks_url(run, "subscriptions"), json=body)
            ).json()
            assert created["active"] is False
            run.store.update(1, {"city": "Quiet"})
            await asyncio.sleep(5)
            assert state.deliveries == []
            path = hooks_url(run, f"subscriptions/{created['id']}")
            patched = await run.client.patch(path, json={"active": True})
            assert patched.json()["active"] is True
            run.store.update(1, {"city": "Loud"})
            await settle(run)
            assert [e["propertyValue"] for e in received_events(state)] == ["Loud"]
            listed = (await run.client.get(hooks_url(run, "subscriptions"))).json()
            assert [s["id"] for s in listed["results"]] == [created["id"]]
            assert (await run.client.delete(path)).status_code == 204

    run_virtual(scenario)


def test_management_rejects_bad_requests() -> None:
    async def scenario() -> None:
        async with running_mock(1) as run:
            body = {
                "eventType": "company.propertyChange",
                "propertyName": "hs_lastmodifieddate",
            }
            rejected = await run.client.post(hooks_url(run, "subscriptions"), json=body)
            assert rejected.status_code == 400
            no_key = (
                f"/webhooks/v3/{run.mock.config.app_id}/subscriptions?hapikey=wrong"
            )
            assert (await run.client.get(no_key)).status_code == 401
            unknown = {"eventType": "company.nothing"}
            response = await run.client.post(
                hooks_url(run, "subscriptions"), json=unknown
            )
            assert response.status_code == 400
            assert (await run.client.get(hooks_url(run, "settings"))).status_code == 404

    run_virtual(scenario)


def test_management_calls_skip_rate_limits() -> None:
    async def scenario() -> None:
        async with running_mock(1, burst_limit=1) as run:
            for _ in range(3):
                response = await run.client.get(hooks_url(run, "subscriptions"))
                assert response.status_code == 200

    run_virtual(scenario)


def test_retries_on_500_then_succeeds() -> None:
    async def scenario() -> None:
        def reply(number: int) -> web.Response | None:
            return web.Response(status=500) if number < 2 else None

        async with (
            running_mock(2, max_retries=4, retry_span_s=60.0) as run,
            receiver(run, reply) as state,
        ):
            await subscribe(run, state.url)
            run.store.update(1, {"city": "Again"})
            await settle(run)
            attempts = [d.events[0]["attemptNumber"] for d in state.deliveries]
            assert attempts == [0, 1, 2]
            assert state.deliveries[1].t_s > state.deliveries[0].t_s
            assert run.mock.webhooks.retries == 2
            assert run.mock.webhooks.delivered_events == 1
            assert run.mock.webhooks.dropped == []

    run_virtual(scenario)


def test_drops_after_last_retry() -> None:
    async def scenario() -> None:
        def reply(number: int) -> web.Response:
            return web.Response(status=503)

        async with (
            running_mock(2, max_retries=2, retry_span_s=30.0) as run,
            receiver(run, reply) as state,
        ):
            await subscribe(run, state.url)
            run.store.update(1, {"city": "Lost"})
            await settle(run)
            event_id = state.deliveries[0].events[0]["eventId"]
            assert len(state.deliveries) == 3
            assert run.mock.webhooks.dropped == [event_id]
            assert run.mock.webhooks.dropped_events == 1
            assert run.mock.webhooks.delivered_events == 0

    run_virtual(scenario)


def test_timeout_counts_as_failure() -> None:
    async def scenario() -> None:
        async with (
            running_mock(
                2, max_retries=1, retry_span_s=10.0, webhook_timeout_s=5.0
            ) as run,
            receiver(run, hold_s=6.0) as state,
        ):
            await subscribe(run, state.url)
            run.store.update(1, {"city": "Slow"})
            await settle(run)
            assert len(state.deliveries) == 2
            assert run.mock.webhooks.dropped_events == 1

    run_virtual(scenario)


def test_429_waits_for_retry_after() -> None:
    async def scenario() -> None:
        def reply(number: int) -> web.Response | None:
            if number == 0:
                return web.Response(status=429, headers={"Retry-After": "7"})
            return None

        async with running_mock(2) as run, receiver(run, reply) as state:
            await subscribe(run, state.url)
            run.store.update(1, {"city": "Busy"})
            await settle(run)
            gap = state.deliveries[1].t_s - state.deliveries[0].t_s
            assert 7.0 <= gap < 7.5

    run_virtual(scenario)


def test_max_concurrent_requests_respected() -> None:
    async def scenario() -> None:
        async with running_mock(1000) as run, receiver(run, hold_s=2.0) as state:
            await subscribe(run, state.url)
            run.mock.webhooks.configure(state.url, max_concurrent_requests=3)
            for company_id in range(1, 1001):
                run.store.update(company_id, {"city": "Many"})
            await settle(run)
            assert len(state.deliveries) == 10
            assert state.max_in_flight == 3
            assert run.mock.webhooks.max_in_flight == 3

    run_virtual(scenario)


def test_duplicates_arrive_in_a_later_batch() -> None:
    async def scenario() -> None:
        async with (
            running_mock(5, duplicate_rate=1.0, reorder=True) as run,
            receiver(run) as state,
        ):
            await subscribe(run, state.url)
            for company_id in range(1, 6):
                run.store.update(company_id, {"city": "Twice"})
            await settle(run)
            assert len(state.deliveries) == 2
            first = sorted(e["eventId"] for e in state.deliveries[0].events)
            second = sorted(e["eventId"] for e in state.deliveries[1].events)
            assert first == second
            assert run.mock.webhooks.duplicates == 5

    run_virtual(scenario)


def test_retry_schedule_spans_about_a_day() -> None:
    delays = retry_delays(86_400.0, 10, random.Random(3))
    assert len(delays) == 10
    assert 0.75 * 86_400 <= sum(delays) <= 1.25 * 86_400
    assert delays[-1] > delays[0]
