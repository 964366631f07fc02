"""Fault rules of the mock HubSpot: statuses, bodies, windows, counts, patterns, timeouts."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from hubspot_helpers import running_mock

from pytest_syncbench.hubspot.faults import FaultInjector, FaultRule
from pytest_syncbench.loop import run_virtual

COMPANIES = "/crm/v3/objects/companies"
COMPANY = f"{COMPANIES}/1"
SEARCH = f"{COMPANIES}/search"
UUID4 = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)


def test_json_fault_bodies() -> None:
    expected = {
        423: ("LOCKED", "Wait at least 2 seconds"),
        500: (None, "internal error"),
        503: ("SERVICE_UNAVAILABLE", "temporarily unavailable"),
    }

    async def scenario() -> None:
        async with running_mock(2) as run:
            for status, (category, text) in expected.items():
                run.mock.faults.clear()
                run.mock.faults.add(FaultRule(status))
                response = await run.client.get(COMPANY)
                assert response.status_code == status
                assert response.headers["Content-Type"].startswith("application/json")
                body = response.json()
                assert body["status"] == "error", status
                assert body.get("category") == category, status
                assert text in body["message"], status
                assert UUID4.match(body["correlationId"]), status

    run_virtual(scenario)


def test_gateway_faults_are_html() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            for status, title in (
                (502, "502 Bad Gateway"),
                (504, "504 Gateway Time-out"),
            ):
                run.mock.faults.clear()
                run.mock.faults.add(FaultRule(status))
                response = await run.client.get(COMPANY)
                assert response.status_code == status
                assert response.headers["Content-Type"].startswith("text/html")
                assert f"<title>{title}</title>" in response.text

    run_virtual(scenario)


def test_429_storm_uses_rate_limit_bodies() -> None:
    async def scenario() -> None:
        async with running_mock(2, send_retry_after=True) as run:
            run.mock.faults.add(FaultRule(429))
            api = await run.client.get(COMPANY)
            assert api.status_code == 429
            body = api.json()
            assert body["policyName"] == "TEN_SECONDLY_ROLLING"
            assert body["errorType"] == "RATE_LIMIT"
            assert (
                body["message"] == "You have reached your ten_secondly_rolling limit."
            )
            assert api.headers["X-HubSpot-RateLimit-Remaining"] == "0"
            assert api.headers["Retry-After"] == "1"
            search = await run.client.post(SEARCH, json={})
            assert search.status_code == 429
            assert search.json()["policyName"] == "SECONDLY"
            assert "secondly limit" in search.json()["message"]
            assert "X-HubSpot-RateLimit-Remaining" not in search.headers
            # Injected rejections are not the limiter's own.
            assert sum(run.mock.limiter.rejected.values()) == 0

    run_virtual(scenario)


def test_window_in_simulated_ms() -> None:
    async def scenario() -> None:
        async with running_mock(2, read_latency_s=0.0) as run:
            run.mock.faults.add(FaultRule(503, start_ms=2_000, end_ms=5_000))
            statuses = []
            for _ in range(7):
                statuses.append((await run.client.get(COMPANY)).status_code)
                await asyncio.sleep(1)
            assert statuses == [200, 200, 503, 503, 503, 200, 200]

    run_virtual(scenario)


def test_count_spends_rule() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            rule = run.mock.faults.add(FaultRule(500, count=2))
            statuses = [(await run.client.get(COMPANY)).status_code for _ in range(4)]
            assert statuses == [500, 500, 200, 200]
            assert run.mock.faults.hits(rule) == 2

    run_virtual(scenario)


def test_endpoint_patterns_select_routes() -> None:
    async def scenario() -> None:
        async with running_mock(3) as run:
            run.mock.faults.add(FaultRule(502, endpoint=f"POST {SEARCH}"))
            run.mock.faults.add(
                FaultRule(423, endpoint="GET /crm/v3/objects/companies/2")
            )
            run.mock.faults.add(FaultRule(504, endpoint="/webhooks/*"))
            assert (await run.client.post(SEARCH, json={})).status_code == 502
            assert (await run.client.get(COMPANY)).status_code == 200
            assert (await run.client.get(f"{COMPANIES}/2")).status_code == 423
            assert (await run.client.get(COMPANIES)).status_code == 200
            config = run.mock.config
            hooks = (
                f"/webhooks/v3/{config.app_id}/subscriptions"
                f"?hapikey={config.developer_api_key}"
            )
            assert (await run.client.get(hooks)).status_code == 504

    run_virtual(scenario)


def test_route_template_pattern() -> None:
    async def scenario() -> None:
        async with running_mock(3) as run:
            pattern = "GET /crm/v3/objects/companies/{company_id}"
            run.mock.faults.add(FaultRule(503, endpoint=pattern))
            assert (await run.client.get(COMPANY)).status_code == 503
            assert (await run.client.get(f"{COMPANIES}/3")).status_code == 503
            assert (await run.client.get(COMPANIES)).status_code == 200

    run_virtual(scenario)


def test_first_matching_rule_wins() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            first = run.mock.faults.add(FaultRule(423, count=1))
            second = run.mock.faults.add(FaultRule(503))
            statuses = [(await run.client.get(COMPANY)).status_code for _ in range(3)]
            assert statuses == [423, 503, 503]
            assert run.mock.faults.hits(first) == 1
            assert run.mock.faults.hits(second) == 2
            run.mock.faults.remove(second)
            assert (await run.client.get(COMPANY)).status_code == 200

    run_virtual(scenario)


def test_fault_latency_adds_to_response_time() -> None:
    async def scenario() -> None:
        async with running_mock(2, read_latency_s=0.5) as run:
            run.mock.faults.add(FaultRule(503, latency_s=3.0))
            started = run.clock.now()
            await run.client.get(COMPANY)
            elapsed = run.clock.now() - started
            assert 3.5 <= elapsed < 3.6

    run_virtual(scenario)


def test_timeout_holds_past_client_timeout() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            run.mock.faults.add(FaultRule("timeout", hold_s=120.0, count=1))
            timed_out = False
            started = run.clock.now()
            try:
                await run.client.get(COMPANY, timeout=30.0)
            except httpx.ReadTimeout:
                timed_out = True
            assert timed_out
            assert 30.0 <= run.clock.now() - started < 31.0
            await asyncio.sleep(100)
            assert [call.status for call in run.mock.calls] == [504]
            assert (
                run.mock.calls[0].endpoint
                == "GET /crm/v3/objects/companies/{company_id}"
            )
            assert (await run.client.get(COMPANY)).status_code == 200

    run_virtual(scenario)


def test_timeout_answers_504_after_hold() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            run.mock.faults.add(FaultRule("timeout", hold_s=45.0))
            started = run.clock.now()
            response = await run.client.get(COMPANY, timeout=60.0)
            assert response.status_code == 504
            assert 45.0 <= run.clock.now() - started < 46.0

    run_virtual(scenario)


def test_faults_recorded_and_skip_budget() -> None:
    async def scenario() -> None:
        async with running_mock(2, burst_limit=2, read_latency_s=0.0) as run:
            run.mock.faults.add(FaultRule(500, count=3))
            statuses = [(await run.client.get(COMPANY)).status_code for _ in range(5)]
            assert statuses == [500, 500, 500, 200, 200]
            assert [call.status for call in run.mock.calls] == statuses
            assert run.mock.faults.total_hits == 3

    run_virtual(scenario)


def test_faults_precede_auth() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            run.mock.faults.add(FaultRule(502, count=1))
            headers = {"Authorization": "Bearer wrong"}
            assert (await run.client.get(COMPANY, headers=headers)).status_code == 502
            assert (await run.client.get(COMPANY, headers=headers)).status_code == 401

    run_virtual(scenario)


def test_same_rules_give_same_answers() -> None:
    async def statuses() -> list[tuple[int, str]]:
        async with running_mock(2, read_latency_s=0.1, seed=5) as run:
            run.mock.faults.add(FaultRule(423, start_ms=300, end_ms=700))
            run.mock.faults.add(FaultRule(500, count=2, start_ms=900))
            seen = []
            for _ in range(12):
                response = await run.client.get(COMPANY)
                seen.append((response.status_code, response.text))
            return seen

    first = run_virtual(statuses)
    assert first == run_virtual(statuses)
    assert {status for status, _ in first} == {200, 423, 500}


def test_clear_removes_every_rule() -> None:
    injector = FaultInjector()
    injector.add(FaultRule(503))
    injector.add(FaultRule("timeout"))
    injector.clear()
    assert injector.rules == []
    assert injector.match(("GET /x",), 0) is None


INVALID_RULES = [
    ({"status": 404}, "status"),
    ({"status": "slow"}, "status"),
    ({"status": True}, "status"),
    ({"status": 503, "endpoint": ""}, "endpoint"),
    ({"status": 503, "start_ms": -1}, "start_ms"),
    ({"status": 503, "start_ms": 10, "end_ms": 10}, "end_ms"),
    ({"status": 503, "count": 0}, "count"),
    ({"status": 503, "latency_s": -0.5}, "latency_s"),
    ({"status": "timeout", "hold_s": float("nan")}, "hold_s"),
]


@pytest.mark.parametrize(("kwargs", "name"), INVALID_RULES)
def test_invalid_rule_names_the_field(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        FaultRule(**kwargs)  # type: ignore[arg-type]
