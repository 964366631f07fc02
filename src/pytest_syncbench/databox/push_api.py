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
from pytest_syncbench.databox.responses import (
    CONTENT_TYPE_INVALID,
    TOKEN_INVALID,
    TOKEN_MISSING,
    json_response,
    push_error,
)

if TYPE_CHECKING:
    from pytest_syncbench.databox.server import DataboxMock

logger = logging.getLogger(__name__)

Parser = Callable[[Any, int, float], ParsedPush]

# Body types the push API accepts: JSON, and the vendor type that the 2.x SDKs may send.
_JSON_TYPES = frozenset({"application/json", "application/vnd.databox.v2+json"})


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
        """Check auth, then the rate limit, and return the rejection or None.

        The push token is the Basic auth user name with an empty password. A request
        without an ``Authorization`` header, which the official SDK sends when its
        password is None, gets the "token not provided" message.
        """
        header = request.headers.get("Authorization")
        if not header:
            return push_error(401, TOKEN_MISSING)
        try:
            credentials = BasicAuth.decode(header)
        except ValueError:
            return push_error(401, TOKEN_INVALID)
        if (
            credentials.login != self._mock.config.push_token
            or credentials.password != ""
        ):
            return push_error(401, TOKEN_INVALID)
        limiter = self._mock.push_limiter
        if not limiter.try_acquire(request[ARRIVAL_S]):
            # developers.databox.com/data-update-frequency gives this text for 10/sec.
            rate = self._mock.config.push_rate_per_s
            return push_error(429, f"Too many requests. {rate:g}/sec is allowed")
        return None

    async def _json_body(self, request: web.Request) -> Any | web.Response:
        """Return the parsed JSON body, or the rejection of a non-JSON one."""
        if request.content_type not in _JSON_TYPES:
            return push_error(400, CONTENT_TYPE_INVALID)
        try:
            return orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return push_error(400, "Bad request - Invalid JSON")

    async def post_data(self, request: web.Request) -> web.Response:
        return await self._push(request, parse_items)

    async def post_legacy(self, request: web.Request) -> web.Response:
        return await self._push(request, parse_legacy)

    async def _push(self, request: web.Request, parse: Parser) -> web.Response:
        if (denied := self._admit(request)) is not None:
            return denied
        payload = await self._json_body(request)
        if isinstance(payload, web.Response):
            return payload
        body = await request.read()

        mock = self._mock
        arrival_s: float = request[ARRIVAL_S]
        arrival_ms: int = request[ARRIVAL_MS]
        try:
            parsed = parse(payload, arrival_ms, arrival_s)
        except PushBodyError as exc:
            return push_error(400, str(exc))

        push_id = mock.new_push_id()
        if parsed.points:
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
        if not parsed.failures:
            return json_response({"status": "ok", "id": push_id})
        # Invalid items do not fail the request. developers.databox.com/responses-errors
        # shows the warning in "status" on a 200, even when no item was stored.
        logger.debug(
            "push %s stored %d items, rejected %d, first: %s",
            push_id,
            len(parsed.points),
            len(parsed.failures),
            parsed.failures[0],
        )
        warning = (
            "Warning: some items not inserted "
            f"(OK: {len(parsed.points)}, FAILED: {len(parsed.failures)})"
        )
        return json_response({"status": warning, "id": push_id})

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
        payload = await self._json_body(request)
        if isinstance(payload, web.Response):
            return payload
        key = payload.get("key") if isinstance(payload, dict) else None
        if not is_metric_key(key):
            return push_error(
                400,
                f"Validation error - Invalid metric key {key!r}: "
                "use letters, digits and _",
            )
        self._mock.data_points.setdefault(key, [])
        return json_response({"status": "ok"})

    async def ping(self, request: web.Request) -> web.Response:
        if (denied := self._admit(request)) is not None:
            return denied
        return json_response({"status": "ok"})
