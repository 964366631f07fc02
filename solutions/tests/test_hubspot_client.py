import asyncio

import pytest
from aiohttp import web

from solutions.common.hubspot_client import (
    HubSpotClient,
    HubSpotError,
    HubSpotUnavailable,
)
from solutions.tests.support import (
    LOG,
    hubspot_access,
    refused_url,
    run,
    serve,
    started_clock,
)

RATE_LIMIT_BODY = {
    "status": "error",
    "message": "You have reached your ten_secondly_rolling limit.",
    "errorType": "RATE_LIMIT",
    "policyName": "TEN_SECONDLY_ROLLING",
}


class Script:
    """A server that returns the next scripted response to each request."""

    def __init__(self, *responses: tuple[int, dict, dict[str, str]]) -> None:
        self.responses = list(responses)
        self.arrivals: list[float] = []
        self.requests: list[web.Request] = []
        self.bodies: list[object] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.arrivals.append(asyncio.get_running_loop().time())
        self.requests.append(request)
        self.bodies.append(await request.json() if request.can_read_body else None)
        status, body, headers = (
            self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        )
        return web.json_response(body, status=status, headers=headers)

    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.arrivals, self.arrivals[1:], strict=False)]


def with_client(script: Script, action, *, max_attempts: int = 6):
    """Serve ``script`` on every route, run ``action(client)``; return its result."""

    async def scenario():
        runner, url = await serve([web.route("*", "/{tail:.*}", script.handle)])
        client = HubSpotClient(
            hubspot_access(url),
            started_clock(),
            LOG,
            seed="test",
            max_attempts=max_attempts,
        )
        try:
            return await action(client)
        finally:
            await client.aclose()
            await runner.cleanup()

    return run(scenario)


def page(ids: list[int], after: str | None = None) -> dict:
    body: dict = {"results": [{"id": str(i), "properties": {}} for i in ids]}
    if after is not None:
        body["paging"] = {"next": {"after": after}}
    return body


def test_429_waits_out_the_window():
    limited = (
        429,
        RATE_LIMIT_BODY,
        {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"},
    )
    script = Script(limited, limited, (200, page([1]), {}))
    results, _ = with_client(script, lambda c: c.list_page(["name"]))
    assert [r["id"] for r in results] == ["1"]
    assert len(script.arrivals) == 3
    first, second = script.gaps()
    assert 10.0 <= first <= 11.0
    assert 10.0 <= second <= 11.0


def test_429_with_retry_after_waits_that_long():
    limited = (429, RATE_LIMIT_BODY, {"Retry-After": "3"})
    script = Script(limited, limited, (200, page([1]), {}))
    with_client(script, lambda c: c.list_page(["name"]))
    first, second = script.gaps()
    assert 3.0 <= first <= 3.3
    assert 3.0 <= second <= 3.3


def test_429_holds_back_other_requests_of_the_client():
    limited = (429, RATE_LIMIT_BODY, {"Retry-After": "5"})
    script = Script(limited, (200, page([1]), {}))

    async def two_requests(client: HubSpotClient):
        first = asyncio.ensure_future(client.list_page(["name"]))
        await asyncio.sleep(0.5)  # the second starts while the first is held back
        await client.list_page(["name"])
        await first

    with_client(script, two_requests)
    assert len(script.arrivals) == 3
    assert min(script.arrivals[1:]) - script.arrivals[0] >= 5.0


def test_5xx_is_retried_with_exponential_backoff():
    unavailable = (503, {"status": "error", "message": "unavailable"}, {})
    script = Script(unavailable, unavailable, (200, page([1]), {}))
    with_client(script, lambda c: c.list_page(["name"]))
    first, second = script.gaps()
    assert 1.0 <= first <= 1.1
    assert 2.0 <= second <= 2.2


def test_connection_refused_raises_unavailable_after_max_attempts():
    async def scenario():
        loop = asyncio.get_running_loop()
        client = HubSpotClient(
            hubspot_access(refused_url()),
            started_clock(),
            LOG,
            seed="t",
            max_attempts=4,
        )
        start = loop.time()
        try:
            with pytest.raises(HubSpotUnavailable) as caught:
                await client.list_page(["name"])
        finally:
            await client.aclose()
        return caught.value, loop.time() - start, client

    error, elapsed, client = run(scenario)
    assert "after 4 attempts" in str(error)
    assert client.calls["GET /crm/v3/objects/companies", "ConnectError"] == 4
    # Three backoffs of 1, 2 and 4 s, each stretched by at most 10% jitter.
    assert 7.0 <= elapsed <= 7.7


def test_client_error_is_not_retried():
    bad = (
        400,
        {"status": "error", "message": "bad filter", "category": "VALIDATION_ERROR"},
        {},
    )
    script = Script(bad)

    async def action(client):
        with pytest.raises(HubSpotError) as caught:
            await client.search({"limit": 1})
        return caught.value

    error = with_client(script, action)
    assert not isinstance(error, HubSpotUnavailable)
    assert error.status == 400
    assert "VALIDATION_ERROR" in str(error)
    assert len(script.arrivals) == 1


def test_daily_limit_raises_unavailable_without_retrying():
    daily = {
        **RATE_LIMIT_BODY,
        "policyName": "DAILY",
        "message": "You have reached your daily limit.",
    }
    script = Script((429, daily, {}))

    async def action(client):
        with pytest.raises(HubSpotUnavailable):
            await client.list_page(["name"])

    with_client(script, action)
    assert len(script.arrivals) == 1


def test_search_429_waits_one_second():
    secondly = {**RATE_LIMIT_BODY, "policyName": "SECONDLY"}
    script = Script((429, secondly, {}), (200, {"total": 7, "results": []}, {}))
    answer = with_client(script, lambda c: c.search({"limit": 1}))
    assert answer["total"] == 7
    assert 1.0 <= script.gaps()[0] <= 1.1


def test_iter_pages_follows_the_cursor():
    script = Script((200, page([1, 2], "3"), {}), (200, page([3]), {}))

    async def action(client):
        return [
            [c["id"] for c in p] async for p in client.iter_pages(["name", "domain"])
        ]

    pages = with_client(script, action)
    assert pages == [["1", "2"], ["3"]]
    assert script.requests[0].query.get("properties") == "name,domain"
    assert "after" not in script.requests[0].query
    assert script.requests[1].query.get("after") == "3"


def test_requests_carry_the_bearer_token():
    script = Script((200, page([]), {}))
    with_client(script, lambda c: c.list_page(["name"]))
    assert script.requests[0].headers["Authorization"] == "Bearer pat-test"


def test_batch_read_chunks_by_100():
    script = Script((207, {"results": [{"id": "1"}], "numErrors": 1, "errors": []}, {}))
    found = with_client(
        script, lambda c: c.batch_read([str(i) for i in range(250)], ["name"])
    )
    assert [len(body["inputs"]) for body in script.bodies] == [100, 100, 50]
    assert len(found) == 3


def test_configure_webhooks_subscribes_each_writable_property():
    script = Script((200, {}, {}))
    properties = ["name", "domain", "hs_lastmodifieddate", "createdate"]
    with_client(
        script, lambda c: c.configure_webhooks("http://127.0.0.1:9/hook", properties)
    )
    settings, *subscriptions = script.bodies
    assert settings["targetUrl"] == "http://127.0.0.1:9/hook"
    assert script.requests[0].method == "PUT"
    assert script.requests[0].query.get("hapikey") == "dev-key"
    assert [s.get("propertyName") for s in subscriptions if s.get("propertyName")] == [
        "name",
        "domain",
    ]
    assert len(subscriptions) == 5
    assert all(s["active"] for s in subscriptions)
