"""How fast a solution's HTTP round trips to the mocks run on the virtual-time loop.

Each round lists 100,000 companies in pages of 100 through httpx against the mock HubSpot,
as every full sync does. The same pages are also fetched on a plain asyncio loop, so the
cost of the virtual clock shows as a ratio measured side by side in one run.
"""

import asyncio

import httpx
import pytest

from pytest_syncbench.clock import DEFAULT_EPOCH_MS, Clock
from pytest_syncbench.generator import generate_companies
from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.hubspot.server import HubSpotMock
from pytest_syncbench.hubspot.store import Store
from pytest_syncbench.loop import new_virtual_loop

COMPANIES = 100_000


@pytest.fixture(scope="module")
def store() -> Store:
    store = Store(Clock())
    store.seed(generate_companies(COMPANIES, 1, DEFAULT_EPOCH_MS))
    return store


async def _list_all(store: Store) -> int:
    store.clock.start()
    # No simulated server time and an unlimited burst budget: only the real cost shows.
    config = HubSpotConfig(
        seed=1,
        read_latency_s=0.0,
        write_latency_s=0.0,
        search_latency_s=0.0,
        burst_limit=10**9,
        daily_limit=10**9,
    )
    mock = HubSpotMock(store, store.clock, config)
    base_url = await mock.start()
    headers = {"Authorization": f"Bearer {config.access_token}"}
    pages = 0
    try:
        async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:
            after = None
            while True:
                params = {"limit": "100", "properties": "name,domain,lifecyclestage"}
                if after:
                    params["after"] = after
                response = await client.get("/crm/v3/objects/companies", params=params)
                body = response.json()
                pages += 1
                after = body.get("paging", {}).get("next", {}).get("after")
                if not after:
                    return pages
    finally:
        await mock.stop()


def _run_on(loop: asyncio.AbstractEventLoop, store: Store) -> int:
    try:
        return loop.run_until_complete(_list_all(store))
    finally:
        loop.close()


@pytest.mark.benchmark(group="list 100,000 companies")
def test_list_all_virtual_loop(benchmark, store):
    pages = benchmark.pedantic(
        lambda: _run_on(new_virtual_loop(), store), rounds=3, iterations=1
    )

    assert pages == COMPANIES // 100


@pytest.mark.benchmark(group="list 100,000 companies")
def test_list_all_plain_loop(benchmark, store):
    pages = benchmark.pedantic(
        lambda: _run_on(asyncio.new_event_loop(), store), rounds=3, iterations=1
    )

    assert pages == COMPANIES // 100
