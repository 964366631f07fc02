"""An async client for HubSpot's CRM companies API, with rate limiting and retries.

Every request first waits for the client-side budget: a rolling 10-second window for
the CRM endpoints, and a per-second pace for search, which HubSpot limits separately.
Then it is retried on what can succeed later: connection failures, timeouts, 5xx, 423
and 429. A request that still fails after ``max_attempts`` raises
:class:`HubSpotUnavailable`. A response that no retry can fix (400, 401, 403, 404)
raises :class:`HubSpotError` at once. Results are HubSpot's own JSON objects (``id``,
``properties``, ``updatedAt`` ...).

::

    hubspot = HubSpotClient(context.hubspot, context.clock, log, seed="polling")
    try:
        async for companies in hubspot.iter_pages(context.properties):
            ...
    finally:
        await hubspot.aclose()
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from pytest_syncbench.tracing import NULL_TRACER, SyncTracer
from solutions.common.ratelimit import (
    Backoff,
    SlidingWindowLimiter,
    hubspot_burst_limit,
)

if TYPE_CHECKING:
    from pytest_syncbench.clock import Clock
    from pytest_syncbench.solution import HubSpotAccess

COMPANIES = "/crm/v3/objects/companies"

# HubSpot rejects more than 100 inputs per batch and caps list pages at 100 results.
BATCH_LIMIT = 100
PAGE_LIMIT = 100

# HubSpot's search allows 5 requests per second per account. The client paces to one
# less, because the server counts a request when it arrives, a little after admission.
SEARCH_PER_SECOND = 4

# HubSpot returns 423 for a lock that clears in 2 seconds, and 5xx errors are transient.
_RETRY_STATUSES = frozenset({423, 429, 500, 502, 503, 504})
_LOCK_WAIT_S = 2.0
# The burst window's length when a 429 lacks X-HubSpot-RateLimit-Interval-Milliseconds.
_DEFAULT_INTERVAL_S = 10.0
# Search 429 responses carry no rate-limit headers, and search is limited per second.
_SEARCH_INTERVAL_S = 1.0

# Properties HubSpot maintains itself: a propertyChange subscription cannot name them.
_UNSUBSCRIBABLE = frozenset({"hs_lastmodifieddate", "createdate", "hs_object_id"})


class HubSpotError(Exception):
    """HubSpot rejected a request, or returned a response that cannot be used."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class HubSpotUnavailable(HubSpotError):
    """HubSpot kept failing (connection errors, 5xx or 429) until retries ran out.

    Also raised at once when the account's daily limit is used up.
    """


class HubSpotClient:
    """The companies and webhooks APIs of one HubSpot account over pooled connections.

    ``seed`` seeds the backoff jitter, so that runs repeat exactly. ``requests_per_10s``
    overrides the client-side burst budget, which defaults to 90% of the tier's limit.
    Each attempt of a request is a client span of ``tracer``, named by its endpoint.
    """

    def __init__(
        self,
        access: HubSpotAccess,
        clock: Clock,
        logger: logging.Logger,
        *,
        seed: str,
        max_attempts: int = 6,
        requests_per_10s: int | None = None,
        tracer: SyncTracer = NULL_TRACER,
    ) -> None:
        if requests_per_10s is None:
            requests_per_10s = hubspot_burst_limit(access.tier, logger)
        self.access = access
        self.clock = clock
        self.log = logger
        self.tracer = tracer
        self.backoff = Backoff(random.Random(f"hubspot:{seed}"), max_attempts)
        self.burst = SlidingWindowLimiter(requests_per_10s, 10.0)
        self.search_pace = SlidingWindowLimiter(SEARCH_PER_SECOND, 1.0)
        # Attempts by endpoint and outcome ("200", "429", "ConnectError" ...).
        self.calls: Counter[tuple[str, str]] = Counter()
        self.retries = 0
        self._http = httpx.AsyncClient(
            base_url=access.base_url,
            headers={"Authorization": f"Bearer {access.access_token}"},
            timeout=30.0,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- companies ---------------------------------------------------------------------

    async def list_page(
        self,
        properties: Sequence[str],
        after: str | None = None,
        *,
        limit: int = PAGE_LIMIT,
        archived: bool = False,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Read one page of companies in ascending id order, with the next cursor."""
        if not 1 <= limit <= PAGE_LIMIT:
            raise ValueError(f"limit={limit!r}: must be 1 to {PAGE_LIMIT}")
        params = {"limit": str(limit), "archived": "true" if archived else "false"}
        if properties:
            params["properties"] = ",".join(properties)
        if after is not None:
            params["after"] = after
        body = await self.request("GET", COMPANIES, params=params)
        return list(body.get("results") or []), _next_after(body)

    async def iter_pages(
        self,
        properties: Sequence[str],
        *,
        archived: bool = False,
        limit: int = PAGE_LIMIT,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Yield every page of the company listing, following the cursor to the end."""
        after: str | None = None
        while True:
            results, cursor = await self.list_page(
                properties, after, limit=limit, archived=archived
            )
            yield results
            if cursor is None:
                return
            if cursor == after:
                raise HubSpotError(
                    f"HubSpot returned the cursor after={after!r} twice; "
                    "stopped paging to avoid an endless loop"
                )
            after = cursor

    async def batch_read(
        self, ids: Sequence[str], properties: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Read companies by id, 100 per request; ids HubSpot does not have are skipped.

        HubSpot returns 207 when some ids are missing, with the found ones. A
        merged-away id comes back as the surviving company, whose ``id`` differs.
        """
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), BATCH_LIMIT):
            chunk = ids[start : start + BATCH_LIMIT]
            body = await self.request(
                "POST",
                f"{COMPANIES}/batch/read",
                json={
                    "properties": list(properties),
                    "inputs": [{"id": i} for i in chunk],
                },
            )
            found.extend(body.get("results") or [])
        return found

    async def search(self, body: dict[str, Any]) -> dict[str, Any]:
        """Run ``POST /crm/v3/objects/companies/search`` with HubSpot's own body."""
        result: dict[str, Any] = await self.request(
            "POST", f"{COMPANIES}/search", json=body, search=True
        )
        return result

    # -- webhooks ----------------------------------------------------------------------

    async def configure_webhooks(
        self,
        target_url: str,
        properties: Sequence[str],
        *,
        event_types: Sequence[str] = (
            "company.creation",
            "company.deletion",
            "company.restore",
        ),
        max_concurrent: int = 10,
    ) -> None:
        """Point the app's webhooks at ``target_url`` and subscribe to company events.

        One ``company.propertyChange`` subscription is made per property, since HubSpot
        has no wildcard, leaving out the properties HubSpot maintains itself.
        """
        base = f"/webhooks/v3/{self.access.app_id}"
        auth = {"hapikey": self.access.developer_api_key}
        settings = {
            "targetUrl": target_url,
            "throttling": {
                "maxConcurrentRequests": max_concurrent,
                "period": "SECONDLY",
            },
        }
        await self.request("PUT", f"{base}/settings", params=auth, json=settings)
        subscriptions: list[dict[str, Any]] = [
            {"eventType": kind, "active": True} for kind in event_types
        ]
        subscriptions += [
            {
                "eventType": "company.propertyChange",
                "propertyName": name,
                "active": True,
            }
            for name in properties
            if name not in _UNSUBSCRIBABLE
        ]
        for subscription in subscriptions:
            await self.request(
                "POST", f"{base}/subscriptions", params=auth, json=subscription
            )

    # -- transport ---------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        search: bool = False,
    ) -> Any:
        """Send a request with pacing and retries; return its JSON body (None if empty).

        ``search`` paces the request by the search limit instead of the burst window.
        """
        limiter = self.search_pace if search else self.burst
        endpoint = f"{method} {_route(path)}"
        target = f"{method} {path}"
        attempt = 0
        while True:
            attempt += 1
            await limiter.acquire()
            try:
                with self.tracer.http_request(
                    "hubspot", method, endpoint, path, attempt
                ) as span:
                    response = await self._http.request(
                        method, path, params=params, json=json
                    )
                    span.set_status_code(response.status_code)
            except httpx.TransportError as exc:
                self.calls[endpoint, type(exc).__name__] += 1
                await self._retry_or_raise(target, attempt, _describe(exc), exc)
                continue

            status = response.status_code
            self.calls[endpoint, str(status)] += 1
            if status < 300:
                return _success_body(target, response)

            body = _json(response)
            error = HubSpotError(_error_text(target, response, body), status=status)
            if status not in _RETRY_STATUSES:
                raise error
            if status == 429 and body.get("policyName") == "DAILY":
                # The daily quota resets at the account's midnight: no retry can help.
                raise HubSpotUnavailable(str(error), status=status) from error
            wait = self._server_wait(response, search)
            if status == 429 and wait is not None:
                # Every request of this client waits out the window, not just this one.
                wait = self.backoff.jittered(wait)
                limiter.hold(wait)
            await self._retry_or_raise(target, attempt, f"HTTP {status}", error, wait)

    def _server_wait(self, response: httpx.Response, search: bool) -> float | None:
        """Return the wait the response requests, or None for exponential backoff."""
        retry_after = _seconds(response.headers.get("Retry-After"))
        if retry_after is not None:
            return retry_after
        if response.status_code == 423:
            return _LOCK_WAIT_S
        if response.status_code != 429:
            return None
        if search:
            return _SEARCH_INTERVAL_S
        interval_ms = _seconds(
            response.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
        )
        return interval_ms / 1000 if interval_ms else _DEFAULT_INTERVAL_S

    async def _retry_or_raise(
        self,
        target: str,
        attempt: int,
        problem: str,
        cause: Exception,
        wait: float | None = None,
    ) -> None:
        if attempt >= self.backoff.max_attempts:
            self.log.error("%s failed after %d attempts: %s", target, attempt, problem)
            raise HubSpotUnavailable(
                f"{target} failed after {attempt} attempts: {problem}",
                status=getattr(cause, "status", None),
            ) from cause
        delay = self.backoff.delay(attempt) if wait is None else wait
        self.retries += 1
        self.log.warning(
            "%s attempt %d/%d: %s; retrying in %.2fs",
            target,
            attempt,
            self.backoff.max_attempts,
            problem,
            delay,
        )
        await asyncio.sleep(delay)


def _next_after(body: Mapping[str, Any]) -> str | None:
    after = ((body.get("paging") or {}).get("next") or {}).get("after")
    return None if after in (None, "") else str(after)


def _route(path: str) -> str:
    """Return ``path`` with object ids replaced, to count calls per endpoint."""
    return "/".join("{id}" if part.isdigit() else part for part in path.split("/"))


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _seconds(value: str | None) -> float | None:
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None  # an HTTP date: the mock sends none, and backoff is a safe default
    return seconds if seconds is not None and seconds >= 0 else None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}  # HubSpot returns an HTML page for unknown routes
    return body if isinstance(body, dict) else {}


def _success_body(target: str, response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise HubSpotError(
            f"{target} returned {response.status_code} with a body that is not JSON",
            status=response.status_code,
        ) from exc


def _error_text(target: str, response: httpx.Response, body: Mapping[str, Any]) -> str:
    message = body.get("message") or response.reason_phrase
    category = f" ({body['category']})" if body.get("category") else ""
    return f"{target} failed with {response.status_code}{category}: {message}"
