"""Property tests of the mock Databox: the push rate limit and primary-key upserts."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_syncbench.clock import Clock
from pytest_syncbench.databox.config import DataboxConfig
from pytest_syncbench.databox.ratelimit import RollingWindowLimiter
from pytest_syncbench.databox.server import DataboxMock
from pytest_syncbench.loop import run_virtual

LIMIT = 10  # DataboxConfig's default: 10 push requests per second
AUTH = {
    "Authorization": "Basic " + base64.b64encode(b"push-token-0001:").decode(),
}
KEY = {"x-api-key": "ingest-key-0001"}

# Request times in whole milliseconds, so that window edges are exact.
arrival_gaps_ms = st.lists(st.integers(min_value=0, max_value=400), max_size=80)


def _arrivals_ms(gaps: list[int]) -> list[int]:
    times, now = [], 0
    for gap in gaps:
        now += gap
        times.append(now)
    return times


def _max_in_any_second(admitted_ms: list[int]) -> int:
    """Return the most admitted times within any window [t, t + 1000) ms."""
    return max(
        (
            sum(1 for t in admitted_ms if start <= t < start + 1_000)
            for start in admitted_ms
        ),
        default=0,
    )


@settings(max_examples=200, deadline=None)
@given(arrival_gaps_ms)
def test_limiter_admits_at_most_ten_per_second(gaps: list[int]) -> None:
    limiter = RollingWindowLimiter(LIMIT)
    admitted, rejected = [], []
    for t in _arrivals_ms(gaps):
        (admitted if limiter.try_acquire(t / 1000) else rejected).append(t)

    assert _max_in_any_second(admitted) <= LIMIT
    # Nor is it stricter than the limit: a rejected request had ten admitted ones in
    # the second before it.
    for t in rejected:
        assert sum(1 for a in admitted if t - 1_000 < a <= t) >= LIMIT


@settings(max_examples=15, deadline=None)
@given(arrival_gaps_ms)
def test_server_stores_at_most_ten_per_second(gaps: list[int]) -> None:
    async def scenario() -> list[float]:
        clock = Clock()
        clock.start()
        mock = DataboxMock(clock, DataboxConfig(response_latency_s=0.0))
        await mock.start()
        try:
            async with httpx.AsyncClient(base_url=mock.base_url) as client:
                for gap in gaps:
                    await asyncio.sleep(gap / 1000)
                    await client.post(
                        "/data", json=[{"key": "k", "value": 1}], headers=AUTH
                    )
        finally:
            await mock.stop()
        return [write.arrival_s for write in mock.writes]

    stored_ms = [round(t * 1000) for t in run_virtual(scenario)]
    assert _max_in_any_second(stored_ms) <= LIMIT


records = st.fixed_dictionaries(
    {"id": st.sampled_from("abcdefgh"), "value": st.integers(-1_000, 1_000)}
)
batches = st.lists(st.lists(records, min_size=1, max_size=100), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None)
@given(batches)
def test_upsert_keeps_last_value_per_key(
    batches: list[list[dict[str, Any]]],
) -> None:
    async def scenario() -> dict[Any, Any]:
        clock = Clock()
        clock.start()
        mock = DataboxMock(clock, DataboxConfig(response_latency_s=0.0))
        dataset = mock.create_dataset("companies", ["id"])
        await mock.start()
        try:
            async with httpx.AsyncClient(base_url=mock.base_url) as client:
                for batch in batches:
                    answer = await client.post(
                        f"/v1/datasets/{dataset.id}/data",
                        json={"records": batch},
                        headers=KEY,
                    )
                    assert answer.status_code == 200, answer.text
                    # Stay under the ingestion rate limit.
                    await asyncio.sleep(0.2)
        finally:
            await mock.stop()
        return {"rows": dict(dataset.rows), "count": dataset.row_count}

    stored = run_virtual(scenario)
    expected: dict[tuple[str], dict[str, Any]] = {}
    for batch in batches:
        for record in batch:
            expected[(record["id"],)] = record
    assert stored["rows"] == expected
    assert stored["count"] == len(expected)
