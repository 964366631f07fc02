"""The official hubspot-api-client, which is synchronous, lists every company of the mock."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future

from hubspot import HubSpot

from pytest_syncbench.clock import Clock
from pytest_syncbench.generator import generate_companies
from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.hubspot.server import HubSpotMock
from pytest_syncbench.hubspot.store import Store


def test_official_client_get_all() -> None:
    # The client blocks on urllib3, so the mock runs on a real-time loop in a thread, with no
    # simulated latency to keep the test fast.
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    clock = Clock()
    store = Store(clock)
    store.seed(generate_companies(250, 3, clock.epoch_ms))
    config = HubSpotConfig(read_latency_s=0.0, search_latency_s=0.0, burst_limit=10_000)
    mock = HubSpotMock(store, clock, config)

    async def start() -> str:
        clock.start()
        return await mock.start()

    started: Future[str] = asyncio.run_coroutine_threadsafe(start(), loop)
    base_url = started.result(timeout=30)
    try:
        client = HubSpot(access_token=config.access_token, host=base_url)
        companies = client.crm.companies.get_all(properties=["name", "city"])
        assert [company.id for company in companies] == [str(i) for i in range(1, 251)]
        assert companies[0].properties["city"] == store.companies[1].properties["city"]
        one = client.crm.companies.basic_api.get_by_id("7")
        assert one.id == "7"
    finally:
        asyncio.run_coroutine_threadsafe(mock.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
