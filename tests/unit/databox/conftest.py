"""Run a scenario against a real mock Databox server on a virtual-time loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import httpx
import looptime
import pytest

from pytest_syncbench.clock import Clock
from pytest_syncbench.databox.config import DataboxConfig
from pytest_syncbench.databox.server import DataboxMock

T = TypeVar("T")
Scenario = Callable[[DataboxMock, httpx.AsyncClient], Awaitable[Any]]
Serve = Callable[..., Any]


def run_virtual(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a fresh looptime loop and close the loop."""
    loop = looptime.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _serve(scenario: Scenario, config: DataboxConfig) -> Any:
    clock = Clock()
    clock.start()
    mock = DataboxMock(clock, config)
    await mock.start()
    try:
        async with httpx.AsyncClient(base_url=mock.base_url) as client:
            return await scenario(mock, client)
    finally:
        await mock.stop()


@pytest.fixture
def serve() -> Serve:
    """Return ``serve(scenario, **config)``: start a mock, run the scenario, stop it.

    The scenario gets the mock and an httpx client already pointed at it.
    """

    def serve_(scenario: Scenario, **config: Any) -> Any:
        return run_virtual(_serve(scenario, DataboxConfig(**config)))

    return serve_
