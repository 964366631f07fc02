"""A mock Databox on a real-time loop in a thread, for the synchronous official SDK.

The ``databox`` SDK blocks on urllib3, so it cannot share the virtual-time loop of the
other tests. The mock here runs with no simulated latency to keep the tests fast, and
its rate limits count real seconds.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from databox import ApiClient, Configuration, DefaultApi

from pytest_syncbench.clock import Clock
from pytest_syncbench.databox.config import DataboxConfig
from pytest_syncbench.databox.server import DataboxMock

FAST = DataboxConfig(response_latency_s=0.0)
# The media type the push API documents for its Accept header.
PUSH_ACCEPT = "application/vnd.databox.v2+json"


@dataclass
class ThreadedMock:
    mock: DataboxMock
    loop: asyncio.AbstractEventLoop
    base_url: str

    def sdk(self, username: str | None = None, password: str | None = "") -> DefaultApi:
        """Return the official SDK's API object for this mock.

        ``username`` defaults to the mock's push token. The SDK sends no
        ``Authorization`` header when either credential is None.
        """
        token = self.mock.config.push_token if username is None else username
        config = Configuration(host=self.base_url, username=token, password=password)
        return DefaultApi(ApiClient(config, "Accept", PUSH_ACCEPT))

    def call(self, function: Any, *args: Any) -> Any:
        """Run ``function(*args)`` on the mock's loop and return its result."""

        async def run() -> Any:
            return function(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=30)


@contextmanager
def threaded_mock(
    config: DataboxConfig = FAST, **overrides: Any
) -> Iterator[ThreadedMock]:
    """Serve a mock Databox; ``overrides`` replace config fields."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    clock = Clock()
    mock = DataboxMock(clock, replace(config, **overrides))

    async def start() -> str:
        clock.start()
        return await mock.start()

    base_url = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=30)
    try:
        yield ThreadedMock(mock, loop, base_url)
    finally:
        asyncio.run_coroutine_threadsafe(mock.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
