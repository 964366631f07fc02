"""Helpers that start a seeded mock HubSpot with an HTTP client on a virtual-time loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import httpx

from pytest_syncbench.clock import Clock
from pytest_syncbench.generator import generate_companies
from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.hubspot.server import HubSpotMock
from pytest_syncbench.hubspot.store import Store

# Limits high enough that only the rate-limit tests ever see a 429.
UNLIMITED = HubSpotConfig(
    burst_limit=1_000_000, daily_limit=100_000_000, search_per_second=1000
)


@dataclass
class Running:
    mock: HubSpotMock
    store: Store
    clock: Clock
    client: httpx.AsyncClient


def seeded_store(clock: Clock, count: int, seed: int = 7) -> Store:
    store = Store(clock)
    store.seed(generate_companies(count, seed, clock.epoch_ms))
    return store


@asynccontextmanager
async def running_mock(
    count: int = 0, config: HubSpotConfig | None = None, **overrides: object
) -> AsyncIterator[Running]:
    """Start a mock over ``count`` generated companies; ``overrides`` replace config fields."""
    clock = Clock()
    clock.start()
    store = seeded_store(clock, count)
    settings = replace(config or UNLIMITED, **overrides)  # type: ignore[arg-type]
    mock = HubSpotMock(store, clock, settings)
    base_url = await mock.start()
    headers = {"Authorization": f"Bearer {settings.access_token}"}
    client = httpx.AsyncClient(base_url=base_url, headers=headers)
    try:
        yield Running(mock, store, clock, client)
    finally:
        await client.aclose()
        await mock.stop()
