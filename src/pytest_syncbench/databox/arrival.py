"""Per-request storage of the arrival time the middleware stamps on every request."""

from __future__ import annotations

from aiohttp import web

# Simulated seconds since the scenario started (Clock.now()).
ARRIVAL_S = web.RequestKey("syncbench_arrival_s", float)
# Calendar epoch milliseconds of the same instant (Clock.now_ms()).
ARRIVAL_MS = web.RequestKey("syncbench_arrival_ms", int)
