"""Properties of webhook delivery under random receiver failures (Hypothesis).

Every event the dispatcher creates reaches the receiver in a delivery it replies to with 2xx
within the timeout, unless the batch used up its retries and was dropped. Each example
runs the mock and a receiver on 127.0.0.1 in virtual time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import orjson
from aiohttp import web
from hubspot_helpers import Running, running_mock
from hypothesis import given, settings
from hypothesis import strategies as st
from test_hubspot_webhooks import hooks_url

from pytest_syncbench.loop import run_virtual

OK = "ok"
ERROR = "error"
THROTTLED = "throttled"
SLOW = "slow"
REPLIES = st.sampled_from([OK, ERROR, THROTTLED, SLOW])


@dataclass
class Script:
    """Receiver replies by request number; requests past the end get 200."""

    replies: list[str]
    accepted: set[int] = field(default_factory=set)
    requests: int = 0


@asynccontextmanager
async def scripted_receiver(script: Script) -> AsyncIterator[str]:
    async def handle(request: web.Request) -> web.Response:
        number = script.requests
        script.requests += 1
        events = orjson.loads(await request.read())
        reply = script.replies[number] if number < len(script.replies) else OK
        if reply == ERROR:
            return web.Response(status=500)
        if reply == THROTTLED:
            return web.Response(status=429, headers={"Retry-After": "3"})
        if reply == SLOW:
            # Longer than the dispatcher's 5 s timeout, so the mock counts a failure.
            await asyncio.sleep(6)
            return web.Response(status=200)
        script.accepted.update(event["eventId"] for event in events)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hooks", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hooks"
    finally:
        await runner.cleanup()


async def _subscribe(run: Running, target: str) -> None:
    await run.client.put(hooks_url(run, "settings"), json={"targetUrl": target})
    bodies = [
        {"eventType": "company.creation", "active": True},
        {"eventType": "company.propertyChange", "propertyName": "city", "active": True},
    ]
    for body in bodies:
        response = await run.client.post(hooks_url(run, "subscriptions"), json=body)
        assert response.status_code == 201


@settings(max_examples=25, deadline=None)
@given(
    replies=st.lists(REPLIES, max_size=12),
    updates=st.lists(st.integers(1, 5), min_size=1, max_size=15),
    creations=st.integers(0, 3),
    duplicate_rate=st.sampled_from([0.0, 0.5, 1.0]),
    reorder=st.booleans(),
    late_creation_rate=st.sampled_from([0.0, 1.0]),
    max_retries=st.integers(0, 3),
    seed=st.integers(0, 1_000),
)
def test_every_event_delivered_or_dropped(
    replies: list[str],
    updates: list[int],
    creations: int,
    duplicate_rate: float,
    reorder: bool,
    late_creation_rate: float,
    max_retries: int,
    seed: int,
) -> None:
    script = Script(replies)

    async def scenario() -> tuple[int, set[int]]:
        async with (
            running_mock(
                5,
                duplicate_rate=duplicate_rate,
                reorder=reorder,
                late_creation_rate=late_creation_rate,
                max_retries=max_retries,
                retry_span_s=60.0,
                seed=seed,
            ) as run,
            scripted_receiver(script) as url,
        ):
            await _subscribe(run, url)
            for number, company_id in enumerate(updates):
                run.store.update(company_id, {"city": f"City {number}"})
                await asyncio.sleep(0.4)
            for number in range(creations):
                run.store.create({"name": f"New {number}", "city": "Oslo"})
            while run.mock.webhooks.busy:
                await asyncio.sleep(1)
            hooks = run.mock.webhooks
            return hooks.events_created, set(hooks.dropped)

    created, dropped = run_virtual(scenario)
    assert created == len(updates) + 2 * creations
    every_event = set(range(1, created + 1))
    assert every_event <= script.accepted | dropped
    if not dropped:
        assert script.accepted == every_event
    if all(reply == OK for reply in replies):
        assert dropped == set()
