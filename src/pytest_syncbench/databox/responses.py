"""JSON responses in the two shapes Databox uses.

The push API returns ``{"status": ..., "message": ...}``, where ``status`` is a short
reason such as ``Unauthorized`` or ``Bad Request`` and ``message`` is the detail, as
developers.databox.com/responses-errors lists them. The ingestion API returns
``{"requestId": ..., "status": "error", "errors": [{"code", "message", "field",
"type"}]}``, as its OpenAPI description at developers.databox.com/api gives them.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
from aiohttp import web

# The push API's texts, from developers.databox.com/responses-errors.
TOKEN_MISSING = "Unauthorized - Token not provided!"
TOKEN_INVALID = "Invalid token"
CONTENT_TYPE_INVALID = "Bad request - Content-Type should be application/json!"
NOT_WRAPPED = "Validation error - Metric data should be wrapped into 'data' item"
TOO_LARGE = "REQUEST_ENTITY_TOO_LARGE"


def json_response(payload: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(payload), status=status, content_type="application/json"
    )


def push_error(status: int, message: str, reason: str | None = None) -> web.Response:
    """Build a push API error response. ``reason`` defaults to the HTTP reason phrase."""
    return json_response(
        {"status": reason or HTTPStatus(status).phrase, "message": message}, status
    )


def push_too_large(limit_bytes: int) -> web.Response:
    """Build the push API's response to a body over ``limit_bytes``, with a null id."""
    message = (
        "Your payload has exceeded the maximum size restriction "
        f"({limit_bytes // 1000}kB). Please modify your request and try again."
    )
    return json_response({"status": TOO_LARGE, "message": message, "id": None}, 413)


def ingest_error(
    request_id: str,
    status: int,
    code: str,
    message: str,
    error_type: str,
    field: str | None = None,
) -> web.Response:
    error: dict[str, str] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    error["type"] = error_type
    return json_response(
        {"requestId": request_id, "status": "error", "errors": [error]}, status
    )


def invalid_input(request_id: str, message: str, field: str) -> web.Response:
    return ingest_error(request_id, 400, "invalid_input", message, "validation", field)
