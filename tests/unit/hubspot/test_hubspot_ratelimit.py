"""Rate limits of the mock HubSpot: the 10-second burst, the daily quota and search."""

from __future__ import annotations

import asyncio
import re

import httpx
from hubspot_helpers import running_mock

from pytest_syncbench.clock import DEFAULT_EPOCH_MS
from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.hubspot.errors import CorrelationIds
from pytest_syncbench.hubspot.ratelimit import RateLimiter
from pytest_syncbench.loop import run_virtual

COMPANY = "/crm/v3/objects/companies/1"
SEARCH = "/crm/v3/objects/companies/search"
UUID4 = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)


def test_burst_over_limit_gets_429_body_and_headers() -> None:
    async def scenario() -> None:
        config = HubSpotConfig(tier="starter", read_latency_s=0.0)
        async with running_mock(2, config) as run:
            statuses = []
            for _ in range(100):
                statuses.append((await run.client.get(COMPANY)).status_code)
            assert statuses == [200] * 100
            rejected = await run.client.get(COMPANY)
            assert rejected.status_code == 429
            body = rejected.json()
            correlation_id = body.pop("correlationId")
            assert body == {
                "status": "error",
                "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT",
                "policyName": "TEN_SECONDLY_ROLLING",
            }
            assert UUID4.match(correlation_id)
            assert rejected.headers["X-HubSpot-RateLimit-Remaining"] == "0"
            assert rejected.headers["X-HubSpot-RateLimit-Max"] == "100"
            assert "Retry-After" not in rejected.headers

    run_virtual(scenario)


def test_headers_on_admitted_request() -> None:
    async def scenario() -> None:
        async with running_mock(2, HubSpotConfig(tier="professional")) as run:
            response = await run.client.get(COMPANY)
            headers = response.headers
            assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
            assert headers["X-HubSpot-RateLimit-Max"] == "190"
            assert headers["X-HubSpot-RateLimit-Remaining"] == "189"
            assert headers["X-HubSpot-RateLimit-Daily"] == "625000"
            assert headers["X-HubSpot-RateLimit-Daily-Remaining"] == "624999"
            assert headers["X-HubSpot-RateLimit-Secondly"] == "19"
            assert headers["X-HubSpot-RateLimit-Secondly-Remaining"] == "18"

    run_virtual(scenario)


def test_oauth_has_no_daily_headers() -> None:
    async def scenario() -> None:
        async with running_mock(2, HubSpotConfig(tier="oauth")) as run:
            headers = (await run.client.get(COMPANY)).headers
            assert headers["X-HubSpot-RateLimit-Max"] == "110"
            assert "X-HubSpot-RateLimit-Daily" not in headers
            assert "X-HubSpot-RateLimit-Daily-Remaining" not in headers

    run_virtual(scenario)


def test_window_rolls_and_rejections_do_not_count() -> None:
    async def scenario() -> None:
        config = HubSpotConfig(burst_limit=3, read_latency_s=0.0, send_retry_after=True)
        async with running_mock(2, config) as run:
            for _ in range(3):
                await run.client.get(COMPANY)
                await asyncio.sleep(2)
            # Admitted at 0, 2 and 4 s; at 6 s the window is full until the first expires.
            for _ in range(5):
                rejected = await run.client.get(COMPANY)
                assert rejected.status_code == 429
            assert rejected.headers["Retry-After"] == "4"
            await asyncio.sleep(4)
            assert (await run.client.get(COMPANY)).status_code == 200

    run_virtual(scenario)


def test_daily_limit_gets_daily_429_and_resets() -> None:
    async def scenario() -> None:
        config = HubSpotConfig(daily_limit=2, read_latency_s=0.0)
        async with running_mock(2, config) as run:
            await run.client.get(COMPANY)
            await run.client.get(COMPANY)
            rejected = await run.client.get(COMPANY)
            assert rejected.status_code == 429
            assert rejected.json()["policyName"] == "DAILY"
            assert rejected.json()["message"] == "You have reached your daily limit."
            # The clock's epoch is 09:00 UTC, so midnight is 15 hours away.
            await asyncio.sleep(15 * 3600)
            assert (await run.client.get(COMPANY)).status_code == 200

    run_virtual(scenario)


def test_search_limit_is_five_per_second() -> None:
    async def scenario() -> None:
        config = HubSpotConfig(search_latency_s=0.0)
        async with running_mock(2, config) as run:
            statuses = [
                (await run.client.post(SEARCH, json={})).status_code for _ in range(6)
            ]
            assert statuses == [200] * 5 + [429]
            rejected = await run.client.post(SEARCH, json={})
            assert rejected.json()["policyName"] == "SECONDLY"
            assert "secondly limit" in rejected.json()["message"]
            admitted = await run.client.post(SEARCH, json={})
            assert not any(
                name.lower().startswith("x-hubspot-ratelimit")
                for name in admitted.headers
            )
            await asyncio.sleep(1)
            assert (await run.client.post(SEARCH, json={})).status_code == 200

    run_virtual(scenario)


def test_search_does_not_use_burst_budget() -> None:
    async def scenario() -> None:
        config = HubSpotConfig(burst_limit=2, search_latency_s=0.0, read_latency_s=0.0)
        async with running_mock(2, config) as run:
            for _ in range(4):
                await run.client.post(SEARCH, json={})
            response = await run.client.get(COMPANY)
            assert response.headers["X-HubSpot-RateLimit-Remaining"] == "1"

    run_virtual(scenario)


def test_correlation_ids_repeat_for_a_seed() -> None:
    async def first_rejection() -> str:
        config = HubSpotConfig(burst_limit=1, read_latency_s=0.0, seed=11)
        async with running_mock(2, config) as run:
            await run.client.get(COMPANY)
            return str((await run.client.get(COMPANY)).json()["correlationId"])

    assert run_virtual(first_rejection) == run_virtual(first_rejection)


def test_packs_raise_burst_and_daily() -> None:
    async def scenario() -> None:
        config = HubSpotConfig(tier="starter", limit_increase_packs=2)
        async with running_mock(2, config) as run:
            headers = (await run.client.get(COMPANY)).headers
            assert headers["X-HubSpot-RateLimit-Max"] == "250"
            assert headers["X-HubSpot-RateLimit-Daily"] == "2250000"
            assert headers["X-HubSpot-RateLimit-Secondly"] == "25"

    run_virtual(scenario)


def test_pack_limits_per_tier() -> None:
    cases = [
        ("free", 0, 100, 250_000),
        ("free", 1, 250, 1_250_000),
        ("professional", 1, 250, 1_625_000),
        ("enterprise", 2, 250, 3_000_000),
        ("oauth", 2, 110, None),
    ]
    for tier, packs, burst, daily in cases:
        limits = HubSpotConfig(tier=tier, limit_increase_packs=packs).limits
        assert limits.burst_per_10s == burst, (tier, packs)
        assert limits.daily == daily, (tier, packs)


def test_pack_burst_is_enforced() -> None:
    async def scenario() -> None:
        config = HubSpotConfig(limit_increase_packs=1, read_latency_s=0.0)
        async with running_mock(2, config) as run:
            statuses = [(await run.client.get(COMPANY)).status_code for _ in range(251)]
            assert statuses == [200] * 250 + [429]

    run_virtual(scenario)


def test_oauth_has_no_daily_limit() -> None:
    def admitted(tier: str) -> tuple[int, set[str]]:
        config = HubSpotConfig(tier=tier, burst_limit=1_000)
        limiter = RateLimiter(config, CorrelationIds(0))
        count = 0
        policies: set[str] = set()
        # 260,000 requests, 100 a second, inside one account day.
        for index in range(260_000):
            decision = limiter.check_api(DEFAULT_EPOCH_MS + index * 10)
            if decision.policy is None:
                count += 1
            else:
                policies.add(decision.policy)
        return count, policies

    assert admitted("oauth") == (260_000, set())
    assert admitted("free") == (250_000, {"DAILY"})


def test_daily_reset_at_account_midnight() -> None:
    async def scenario() -> None:
        # UTC-5: the clock's 09:00 UTC epoch is 04:00 in the account, 20 h before midnight.
        config = HubSpotConfig(
            daily_limit=1, read_latency_s=0.0, tz_offset_minutes=-300
        )
        async with running_mock(2, config) as run:
            assert (await run.client.get(COMPANY)).status_code == 200
            assert (await run.client.get(COMPANY)).status_code == 429
            await asyncio.sleep(15 * 3600)
            at_utc_midnight = await run.client.get(COMPANY)
            assert at_utc_midnight.status_code == 429
            body = at_utc_midnight.json()
            assert UUID4.match(body.pop("correlationId"))
            assert body == {
                "status": "error",
                "message": "You have reached your daily limit.",
                "errorType": "RATE_LIMIT",
                "policyName": "DAILY",
            }
            await asyncio.sleep(5 * 3600)
            at_account_midnight = await run.client.get(COMPANY)
            assert at_account_midnight.status_code == 200
            remaining = at_account_midnight.headers[
                "X-HubSpot-RateLimit-Daily-Remaining"
            ]
            assert remaining == "0"

    run_virtual(scenario)


def test_daily_retry_after_counts_to_midnight() -> None:
    async def scenario() -> None:
        config = HubSpotConfig(
            daily_limit=1,
            read_latency_s=0.0,
            send_retry_after=True,
            tz_offset_minutes=60,
        )
        async with running_mock(2, config) as run:
            await run.client.get(COMPANY)
            rejected = await run.client.get(COMPANY)
            # 09:00 UTC is 10:00 at UTC+1, 14 h before the account's midnight.
            assert rejected.headers["Retry-After"] == str(14 * 3600)

    run_virtual(scenario)


def test_search_429_retry_after_both_ways() -> None:
    async def first_search_rejection(send: bool) -> httpx.Response:
        config = HubSpotConfig(
            search_latency_s=0.0, search_per_second=1, send_retry_after=send
        )
        async with running_mock(2, config) as run:
            await run.client.post(SEARCH, json={})
            return await run.client.post(SEARCH, json={})

    with_header = run_virtual(lambda: first_search_rejection(True))
    without_header = run_virtual(lambda: first_search_rejection(False))
    assert with_header.status_code == 429
    assert with_header.headers["Retry-After"] == "1"
    assert without_header.status_code == 429
    assert "Retry-After" not in without_header.headers


def test_search_429_body_and_no_headers() -> None:
    async def scenario() -> None:
        config = HubSpotConfig(search_latency_s=0.0, search_per_second=1)
        async with running_mock(2, config) as run:
            await run.client.post(SEARCH, json={})
            rejected = await run.client.post(SEARCH, json={})
            body = rejected.json()
            correlation_id = body.pop("correlationId")
            assert UUID4.match(correlation_id)
            assert body == {
                "status": "error",
                "message": "You have reached your secondly limit.",
                "errorType": "RATE_LIMIT",
                "policyName": "SECONDLY",
            }
            names = [name.lower() for name in rejected.headers]
            assert not any(name.startswith("x-hubspot-ratelimit") for name in names)

    run_virtual(scenario)


def test_secondly_headers_count_last_second() -> None:
    async def scenario() -> None:
        config = HubSpotConfig(tier="free", read_latency_s=0.0)
        async with running_mock(2, config) as run:
            for _ in range(3):
                await run.client.get(COMPANY)
            headers = (await run.client.get(COMPANY)).headers
            assert headers["X-HubSpot-RateLimit-Secondly"] == "10"
            assert headers["X-HubSpot-RateLimit-Secondly-Remaining"] == "6"
            await asyncio.sleep(1.5)
            headers = (await run.client.get(COMPANY)).headers
            assert headers["X-HubSpot-RateLimit-Secondly-Remaining"] == "9"
            assert headers["X-HubSpot-RateLimit-Remaining"] == "95"

    run_virtual(scenario)
