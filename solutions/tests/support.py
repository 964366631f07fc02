"""Helpers shared by the solutions' tests: a virtual-time loop and tiny HTTP servers."""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from aiohttp import web

from pytest_syncbench.clock import Clock
from pytest_syncbench.loop import run_virtual
from pytest_syncbench.solution import DataboxAccess, HubSpotAccess

T = TypeVar("T")

LOG = logging.getLogger("solutions.tests")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def run(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on a fresh virtual-time loop, as scenarios do."""
    return run_virtual(factory)


def started_clock() -> Clock:
    clock = Clock()
    clock.start()
    return clock


async def serve(routes: list[web.RouteDef]) -> tuple[web.AppRunner, str]:
    """Start an aiohttp app on a free 127.0.0.1 port; return its runner and base URL."""
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site.port}"


def refused_url() -> str:
    """Return a base URL on a 127.0.0.1 port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def hubspot_access(base_url: str, tier: str = "professional") -> HubSpotAccess:
    return HubSpotAccess(
        base_url=base_url,
        access_token="pat-test",
        portal_id=1,
        app_id=2,
        developer_api_key="dev-key",
        client_secret="secret",
        tier=tier,
    )


def databox_access(base_url: str, dataset_id: str = "ds-1") -> DataboxAccess:
    return DataboxAccess(
        base_url=base_url, push_token="push", api_key="key", dataset_id=dataset_id
    )
