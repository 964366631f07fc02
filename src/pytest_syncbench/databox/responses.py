"""JSON responses in the two error shapes Databox uses.

The push API returns ``{"status": ..., "message": ...}``. The ingestion API returns
``{"status": "error", "errors": [{"code", "message", "field", "type"}]}``.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web


def json_response(payload: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(payload), status=status, content_type="application/json"
    )


def push_error(status: int, message: str) -> web.Response:
    return json_response({"status": "error", "message": message}, status)


def ingest_error(
    status: int, code: str, message: str, error_type: str, field: str | None = None
) -> web.Response:
    error: dict[str, str] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    error["type"] = error_type
    return json_response({"status": "error", "errors": [error]}, status)


def invalid_input(message: str, field: str) -> web.Response:
    return ingest_error(400, "invalid_input", message, "validation", field)
