"""Error responses in HubSpot's shape.

HubSpot's error-handling guide gives the JSON body ``{"status": "error", "message",
"correlationId", "category", "errors", "context"}``, where all fields but ``status`` and
``message`` are optional in practice. Unknown routes get an HTML page instead of JSON.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import orjson
from aiohttp import web

JSON = "application/json"

VALIDATION_ERROR = "VALIDATION_ERROR"
INVALID_AUTHENTICATION = "INVALID_AUTHENTICATION"
OBJECT_NOT_FOUND = "OBJECT_NOT_FOUND"
RATE_LIMITS = "RATE_LIMITS"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"

_NOT_FOUND_PAGE = (
    b'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
    b"<title>404 Not Found</title></head>\n<body><h1>Not Found</h1>"
    b"<p>The requested URL was not found on this server.</p></body>\n</html>\n"
)


class CorrelationIds:
    """Source of version-4 UUIDs drawn from a seeded random stream, so runs repeat exactly."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"hubspot-correlation:{seed}")

    def next(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


class ApiError(Exception):
    """An error a handler raises to end the request with a HubSpot error body."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.errors = errors
        self.context = context


def validation_error(message: str, **context: Any) -> ApiError:
    return ApiError(400, VALIDATION_ERROR, message, context=context or None)


def not_found(message: str, **context: Any) -> ApiError:
    return ApiError(404, OBJECT_NOT_FOUND, message, context=context or None)


def error_body(
    message: str,
    correlation_id: str,
    category: str | None = None,
    *,
    errors: list[dict[str, Any]] | None = None,
    context: dict[str, Any] | None = None,
) -> bytes:
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "correlationId": correlation_id,
    }
    if category is not None:
        body["category"] = category
    if errors:
        body["errors"] = errors
    if context:
        body["context"] = context
    return orjson.dumps(body)


def json_error(error: ApiError, correlation_id: str) -> web.Response:
    body = error_body(
        error.message,
        correlation_id,
        error.category,
        errors=error.errors,
        context=error.context,
    )
    return web.Response(status=error.status, body=body, content_type=JSON)


def unauthorized(correlation_id: str) -> web.Response:
    # Message as HubSpot sends it for a missing or unknown private app token.
    message = (
        "Authentication credentials not found. This API supports OAuth 2.0 authentication "
        "and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
    )
    return json_error(ApiError(401, INVALID_AUTHENTICATION, message), correlation_id)


def service_unavailable(correlation_id: str) -> web.Response:
    message = "The service is temporarily unavailable. Retry the request later."
    return json_error(ApiError(503, SERVICE_UNAVAILABLE, message), correlation_id)


def html_not_found() -> web.Response:
    return web.Response(status=404, body=_NOT_FOUND_PAGE, content_type="text/html")
