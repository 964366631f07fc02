"""Error responses in HubSpot's shape.

HubSpot's error-handling guide gives the JSON body ``{"status": "error", "message",
"correlationId", "category", "errors", "context"}``, where all fields but ``status`` and
``message`` are optional in practice. Unknown routes get an HTML page instead of JSON, and
so do the 502 and 504 that HubSpot's gateway sends when a processing limit is met.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import orjson
from aiohttp import web

from pytest_syncbench.clock import iso_ms

JSON = "application/json"

VALIDATION_ERROR = "VALIDATION_ERROR"
INVALID_AUTHENTICATION = "INVALID_AUTHENTICATION"
EXPIRED_AUTHENTICATION = "EXPIRED_AUTHENTICATION"
MISSING_SCOPES = "MISSING_SCOPES"
# HubSpot documents the 423 lock (2 seconds) but not its body; this category is a guess.
LOCKED = "LOCKED"
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
        links: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.errors = errors
        self.context = context
        self.links = links


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
    links: dict[str, str] | None = None,
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
    if links:
        body["links"] = links
    return orjson.dumps(body)


def json_error(error: ApiError, correlation_id: str) -> web.Response:
    body = error_body(
        error.message,
        correlation_id,
        error.category,
        errors=error.errors,
        context=error.context,
        links=error.links,
    )
    return web.Response(status=error.status, body=body, content_type=JSON)


def unauthorized(correlation_id: str) -> web.Response:
    # Message as HubSpot sends it for a missing or unknown private app token.
    message = (
        "Authentication credentials not found. This API supports OAuth 2.0 authentication "
        "and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
    )
    return json_error(ApiError(401, INVALID_AUTHENTICATION, message), correlation_id)


def expired(correlation_id: str, expired_ms: int, now_ms: int) -> web.Response:
    """Build the 401 for an expired OAuth access token.

    Message and context as HubSpot sent them in 2024-2026 reports, for example "The OAuth
    token used to make this call expired 5 hour(s) ago." with the expiry time in context.
    """
    message = f"The OAuth token used to make this call expired {_age(now_ms - expired_ms)} ago."
    error = ApiError(
        401,
        EXPIRED_AUTHENTICATION,
        message,
        context={"expire time": [iso_ms(expired_ms)]},
    )
    return json_error(error, correlation_id)


def _age(elapsed_ms: int) -> str:
    """Format an age in HubSpot's "N unit(s)" form with the largest whole unit."""
    seconds = max(0, elapsed_ms) // 1000
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}(s)"
    return f"{seconds} second(s)"


def missing_scopes(correlation_id: str, required: list[str]) -> web.Response:
    """Build the 403 for a token without a scope the endpoint needs, in HubSpot's words."""
    message = (
        "This app hasn't been granted all required scopes to make this call. "
        "Read more about required scopes here: https://developers.hubspot.com/scopes."
    )
    errors = [
        {
            "message": "One or more of the following scopes are required.",
            "context": {"requiredGranularScopes": required},
        }
    ]
    links = {"scopes": "https://developers.hubspot.com/scopes"}
    error = ApiError(403, MISSING_SCOPES, message, errors=errors, links=links)
    return json_error(error, correlation_id)


def service_unavailable(correlation_id: str) -> web.Response:
    message = "The service is temporarily unavailable. Retry the request later."
    return json_error(ApiError(503, SERVICE_UNAVAILABLE, message), correlation_id)


def internal_error(correlation_id: str) -> web.Response:
    # HubSpot's 500 body carries no category (reported in 2022).
    return web.Response(
        status=500,
        body=error_body("internal error", correlation_id),
        content_type=JSON,
    )


def locked(correlation_id: str) -> web.Response:
    # HubSpot documents the 2-second lock of a 423 but not its body.
    message = (
        "The record is locked by a large sync in progress. Wait at least 2 seconds "
        "before the next request."
    )
    return json_error(ApiError(423, LOCKED, message), correlation_id)


def html_gateway_error(status: int) -> web.Response:
    """Build the HTML 502 or 504 that HubSpot's gateway sends, with no JSON body.

    Public reports of HubSpot 502s (2020, 2022) show an nginx-style HTML page.
    """
    reasons = {502: "Bad Gateway", 504: "Gateway Time-out"}
    if status not in reasons:
        raise ValueError(f"invalid gateway status {status}: expected 502 or 504")
    title = f"{status} {reasons[status]}"
    page = (
        f"<html>\n<head><title>{title}</title></head>\n<body>\n"
        f"<center><h1>{title}</h1></center>\n</body>\n</html>\n"
    )
    return web.Response(status=status, body=page.encode(), content_type="text/html")


def html_not_found() -> web.Response:
    return web.Response(status=404, body=_NOT_FOUND_PAGE, content_type="text/html")
