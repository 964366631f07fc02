"""Handlers of the push API: metric data points under HTTP Basic auth."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import BasicAuth, web

from pytest_syncbench.databox.arrival import ARRIVAL_MS, ARRIVAL_S
from pytest_syncbench.databox.pushdata import (
    ParsedPush,
    PushBodyError,
    is_metric_key,
    parse_items,
    parse_legacy,
)
from pytest_syncbench.databox.records import Write
from pytest_syncbench.databox.responses import json_response, push_error

if TYPE_CHECKING:
    from pytest_syncbench.databox.server import DataboxMock

logger = logging.getLogger(__name__)

Parser = Callable[[Any, int, float], ParsedPush]


class PushApi:
    def __init__(self, mock: DataboxMock) -> None:
        self._mock = mock

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/data", self.post_data)
        app.router.add_post("/", self.post_legacy)
        app.router.add_delete("/data", self.delete_all)
        app.router.add_delete("/data/{metricKey}", self.delete_metric)
        app.router.add_get("/metrickeys", self.get_metric_keys)
        app.router.add_post("/metrickeys", self.post_metric_key)
        app.router.add_get("/ping", self.ping)

    def _admit(self, request: web.Request) -> web.Response | None:
        """Check auth, then the rate limit; return the rejection or None to proceed."""
        header = request.headers.get("Authorization", "")
        try:
            credentials = BasicAuth.decode(header)
        except ValueError:
            credentials = None
        if (
            credentials is None
            or credentials.login != self._mock.config.push_token
            or credentials.password != ""
        ):
            return push_error(401, "Unauthorized")
        if not self._mock.push_limiter.try_acquire(request[ARRIVAL_S]):
            return push_error(429, "Too many requests")
        return None

    async def post_data(self, request: web.Request) -> web.Response:
        return await self._push(request, parse_items)

    async def post_legacy(self, request: web.Request) -> web.Response:
        return await self._push(request, parse_legacy)

    async def _push(self, request: web.Request, parse: Parser) -> web.Response:
        if (denied := self._admit(request)) is not None:
            return denied
        body = await request.read()
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return push_error(400, "Invalid JSON")

        mock = self._mock
        arrival_s: float = request[ARRIVAL_S]
        arrival_ms: int = request[ARRIVAL_MS]
        try:
            parsed = parse(payload, arrival_ms, arrival_s)
        except PushBodyError as exc:
            return push_error(400, str(exc))
        if not parsed.points:
            return push_error(400, parsed.failures[0])

        push_id = mock.new_push_id()
        for point in parsed.points:
            mock.data_points.setdefault(point.key, []).append(point)
        mock.writes.append(
            Write(
                arrival_s=arrival_s,
                arrival_ms=arrival_ms,
                kind="push",
                dataset_id=None,
                request_bytes=len(body),
                write_id=push_id,
                items=parsed.points,
            )
        )
        result = {"status": "ok", "id": push_id}
        if parsed.failures:
            logger.debug(
                "push %s stored %d items, rejected %d, first: %s",
                push_id,
                len(parsed.points),
                len(parsed.failures),
                parsed.failures[0],
            )
            result["message"] = (
                "Warning: some items not inserted "
                f"(OK: {len(parsed.points)}, FAILED: {len(parsed.failures)})"
            )
        return json_response(result)

    async def delete_all(self, request: web.Request) -> web.Response:
        if (denied := self._admit(request)) is not None:
            return denied
        self._mock.data_points.clear()
        return json_response({"status": "ok"})

    async def delete_metric(self, request: web.Request) -> web.Response:
        if (denied := self._admit(request)) is not None:
            return denied
        self._mock.data_points.pop(request.match_info["metricKey"], None)
        return json_response({"status": "ok"})

    async def get_metric_keys(self, request: web.Request) -> web.Response:
        if (denied := self._admit(request)) is not None:
            return denied
        return json_response([{"key": key} for key in sorted(self._mock.data_points)])

    async def post_metric_key(self, request: web.Request) -> web.Response:
        if (denied := self._admit(request)) is not None:
            return denied
        try:
            payload = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return push_error(400, "Invalid JSON")
        key = payload.get("key") if isinstance(payload, dict) else None
        if not is_metric_key(key):
            return push_error(
                400, f"Invalid metric key {key!r}: use letters, digits and _"
            )
        self._mock.data_points.setdefault(key, [])
        return json_response({"status": "ok"})

    async def ping(self, request: web.Request) -> web.Response:
        if (denied := self._admit(request)) is not None:
            return denied
        return json_response({"status": "ok"})
