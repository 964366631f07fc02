"""An async client for Databox's ingestion API (dataset rows) and push API (metrics).

Rows are upserted by primary key, so writing one twice is harmless and every
transient failure is retried. Pushed metrics are different: Databox keeps every push
as a data point, so a push that landed and is sent again counts twice. A push is
therefore retried only when it surely did not land: the connection was refused, or
Databox returned 429 or 5xx.

::

    databox = DataboxClient(context.databox, context.clock, log, seed="polling")
    try:
        await databox.upsert_rows(rows)
    finally:
        await databox.aclose()
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx

from pytest_syncbench.tracing import NULL_TRACER, SyncTracer
from solutions.common.ratelimit import Backoff, SlidingWindowLimiter

if TYPE_CHECKING:
    from pytest_syncbench.clock import Clock
    from pytest_syncbench.solution import DataboxAccess

# The ingestion API takes at most 100 records per call.
RECORDS_PER_CALL = 100
# Items per push call: far below the payload limit (500 kB to 1 MB) for metric items.
ITEMS_PER_PUSH = 100
# Databox documents 10 push requests per second. The client paces to one less, because
# the server counts a request when it arrives, a little after admission.
# NOTE: Databox publishes no ingestion rate limit, so the push API's figure is assumed.
REQUESTS_PER_SECOND = 9

_PUSH_ACCEPT = "application/vnd.databox.v2+json"
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class DataboxError(Exception):
    """Databox refused a write, or kept failing until retries ran out."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class DataboxClient:
    """The ingestion and push APIs of one Databox account over pooled connections.

    Each API is paced separately, as Databox limits them separately. ``seed`` seeds the
    backoff jitter, so that runs repeat exactly. Each write is a ``databox write`` span
    of ``tracer``, with a client span per attempt of each request under it.
    """

    def __init__(
        self,
        access: DataboxAccess,
        clock: Clock,
        logger: logging.Logger,
        *,
        seed: str,
        max_attempts: int = 8,
        tracer: SyncTracer = NULL_TRACER,
    ) -> None:
        self.access = access
        self.clock = clock
        self.log = logger
        self.tracer = tracer
        self.backoff = Backoff(random.Random(f"databox:{seed}"), max_attempts)
        self.ingest_pace = SlidingWindowLimiter(REQUESTS_PER_SECOND, 1.0)
        self.push_pace = SlidingWindowLimiter(REQUESTS_PER_SECOND, 1.0)
        # Attempts by endpoint and outcome ("200", "429", "ConnectError" ...).
        self.calls: Counter[tuple[str, str]] = Counter()
        self.retries = 0
        self._http = httpx.AsyncClient(base_url=access.base_url, timeout=30.0)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def upsert_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Write rows into the run's dataset, 100 per call, replacing rows by ``id``."""
        path = f"/v1/datasets/{self.access.dataset_id}/data"
        headers = {"x-api-key": self.access.api_key}
        with self.tracer.span("databox write", **{"syncbench.rows": len(rows)}):
            for start in range(0, len(rows), RECORDS_PER_CALL):
                chunk = list(rows[start : start + RECORDS_PER_CALL])
                await self._send(
                    path, {"records": chunk}, headers, self.ingest_pace, idempotent=True
                )

    async def push(self, items: Sequence[dict[str, Any]]) -> None:
        """Push metric items (``key``, ``value``, ``date``, ``attributes``).

        Not idempotent: see the module docstring for when a push is retried.
        """
        headers = {"Accept": _PUSH_ACCEPT}
        with self.tracer.span("databox write", **{"syncbench.items": len(items)}):
            for start in range(0, len(items), ITEMS_PER_PUSH):
                chunk = list(items[start : start + ITEMS_PER_PUSH])
                await self._send(
                    "/data", chunk, headers, self.push_pace, idempotent=False
                )

    async def _send(
        self,
        path: str,
        payload: Any,
        headers: dict[str, str],
        pace: SlidingWindowLimiter,
        *,
        idempotent: bool,
    ) -> None:
        endpoint = "POST /data" if path == "/data" else "POST /v1/datasets/{id}/data"
        auth = None if idempotent else httpx.BasicAuth(self.access.push_token, "")
        attempt = 0
        while True:
            attempt += 1
            await pace.acquire()
            try:
                with self.tracer.http_request(
                    "databox", "POST", endpoint, path, attempt
                ) as span:
                    response = await self._http.post(
                        path, json=payload, headers=headers, auth=auth
                    )
                    span.set_status_code(response.status_code)
            except httpx.TransportError as exc:
                self.calls[endpoint, type(exc).__name__] += 1
                # A refused connection never carried the request. Any later failure
                # may have come after Databox stored it.
                if not idempotent and not isinstance(exc, httpx.ConnectError):
                    raise DataboxError(
                        f"{endpoint} may have landed ({type(exc).__name__}); not "
                        "retried, since a repeated push counts twice"
                    ) from exc
                await self._retry_or_raise(endpoint, attempt, type(exc).__name__, exc)
                continue

            status = response.status_code
            self.calls[endpoint, str(status)] += 1
            if status < 300:
                self._warn_partial(endpoint, response)
                return
            error = DataboxError(_error_text(endpoint, response), status=status)
            if status not in _RETRY_STATUSES:
                raise error
            await self._retry_or_raise(endpoint, attempt, f"HTTP {status}", error)

    async def _retry_or_raise(
        self, endpoint: str, attempt: int, problem: str, cause: Exception
    ) -> None:
        if attempt >= self.backoff.max_attempts:
            self.log.error(
                "%s failed after %d attempts: %s", endpoint, attempt, problem
            )
            raise DataboxError(
                f"{endpoint} failed after {attempt} attempts: {problem}",
                status=getattr(cause, "status", None),
            ) from cause
        delay = self.backoff.delay(attempt)
        self.retries += 1
        self.log.warning(
            "%s attempt %d/%d: %s; retrying in %.2fs",
            endpoint,
            attempt,
            self.backoff.max_attempts,
            problem,
            delay,
        )
        await asyncio.sleep(delay)

    def _warn_partial(self, endpoint: str, response: httpx.Response) -> None:
        # A push with some invalid items is accepted with 200 and a status that starts
        # with "Warning: some items not inserted" instead of "ok".
        message = _json(response).get("status")
        if isinstance(message, str) and message.startswith("Warning"):
            self.log.warning("%s accepted with a warning: %s", endpoint, message)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_text(endpoint: str, response: httpx.Response) -> str:
    body = _json(response)
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        message = "; ".join(
            str(e.get("message")) for e in errors if isinstance(e, dict)
        )
    else:
        message = body.get("message") or response.reason_phrase
    return f"{endpoint} failed with {response.status_code}: {message}"
