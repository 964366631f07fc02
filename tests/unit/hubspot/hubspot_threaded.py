"""A mock HubSpot on a real-time loop in a thread, for the synchronous official client.

``hubspot-api-client`` blocks on urllib3, so it cannot share the virtual-time loop of the
other tests. The mock here runs with no simulated latency to keep the tests fast.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from hubspot import HubSpot

from pytest_syncbench.clock import Clock
from pytest_syncbench.generator import generate_companies
from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.hubspot.server import HubSpotMock
from pytest_syncbench.hubspot.store import Store

FAST = HubSpotConfig(
    read_latency_s=0.0,
    write_latency_s=0.0,
    search_latency_s=0.0,
    burst_limit=100_000,
    search_per_second=1_000,
)


@dataclass
class ThreadedMock:
    mock: HubSpotMock
    store: Store
    clock: Clock
    loop: asyncio.AbstractEventLoop
    client: HubSpot

    def call(self, function: Any, *args: Any) -> Any:
        """Run ``function(*args)`` on the mock's loop and return its result."""

        async def run() -> Any:
            return function(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=30)


@contextmanager
def threaded_mock(
    count: int, seed: int = 3, config: HubSpotConfig = FAST, **overrides: Any
) -> Iterator[ThreadedMock]:
    """Serve ``count`` generated companies; ``overrides`` replace config fields."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    clock = Clock()
    store = Store(clock)
    store.seed(generate_companies(count, seed, clock.epoch_ms))
    settings = replace(config, **overrides)
    mock = HubSpotMock(store, clock, settings)

    async def start() -> str:
        clock.start()
        return await mock.start()

    base_url = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=30)
    try:
        client = HubSpot(access_token=settings.access_token, host=base_url)
        yield ThreadedMock(mock, store, clock, loop, client)
    finally:
        asyncio.run_coroutine_threadsafe(mock.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
