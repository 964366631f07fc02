"""An aiohttp endpoint that accepts HubSpot webhook deliveries.

It checks the v3 signature, rejects replays and malformed bodies, hands the events to
a sink and answers 200 at once: HubSpot counts a reply slower than 5 seconds as a
failure and retries the whole batch, so the handler never processes events
itself.

Each delivery is a root span ``webhook batch`` of the receiver's tracer, with the number
of valid events, and the sink runs inside it: ``tracer.current()`` in the sink is the
batch, for spans of its processing made later in another task.

Usage::

    queue: asyncio.Queue[list[WebhookEvent]] = asyncio.Queue()
    receiver = WebhookReceiver(secret, clock, sink=queue_sink(queue))
    url = await receiver.start()  # "http://127.0.0.1:<port>/hubspot/webhooks"
    ...
    await receiver.stop()
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from pytest_syncbench.tracing import NULL_TRACER, NullSpan, SyncTracer, TracedSpan
from solutions.common.events import WebhookEvent, parse_events

if TYPE_CHECKING:
    import asyncio

    from pytest_syncbench.clock import Clock

log = logging.getLogger("solutions.webhook_receiver")

SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
# HubSpot's own validation rejects requests whose timestamp is more than 5 minutes old.
MAX_TIMESTAMP_AGE_MS = 5 * 60 * 1000

# HubSpot decodes these percent-escapes in the URI before signing (validating-requests).
_URI_DECODES = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}

# Receives the valid events of one delivery and the raw body they came from. It runs
# inside the request, so it must only enqueue (or persist) and return.
EventSink = Callable[[list[WebhookEvent], bytes], Awaitable[None]]


def signature_v3(
    secret: str, method: str, uri: str, body: bytes, timestamp: str
) -> str:
    """Return the X-HubSpot-Signature-v3 value HubSpot would send for this request."""
    message = method.encode() + uri.encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def decode_uri(uri: str) -> str:
    """Decode the percent-escapes that HubSpot decodes before signing."""
    for escaped, char in _URI_DECODES.items():
        uri = uri.replace(escaped, char).replace(escaped.lower(), char)
    return uri


def queue_sink(queue: asyncio.Queue[list[WebhookEvent]]) -> EventSink:
    """A sink that puts each delivery's events on an asyncio queue."""

    async def sink(events: list[WebhookEvent], body: bytes) -> None:
        queue.put_nowait(events)

    return sink


class WebhookReceiver:
    """The HTTP server HubSpot delivers webhooks to."""

    def __init__(
        self,
        client_secret: str,
        clock: Clock,
        sink: EventSink,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/hubspot/webhooks",
        max_age_ms: int = MAX_TIMESTAMP_AGE_MS,
        tracer: SyncTracer = NULL_TRACER,
    ) -> None:
        if not client_secret:
            raise ValueError(
                "client_secret must not be empty: it keys the v3 signature"
            )
        self.client_secret = client_secret
        self.clock = clock
        self.sink = sink
        self.host = host
        self.port = port
        self.path = path
        self.max_age_ms = max_age_ms
        self.tracer = tracer
        self.deliveries = 0
        self.rejected = 0
        self.invalid_events = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The target URL to give HubSpot; valid once started."""
        if self._runner is None:
            raise RuntimeError("the receiver is not started")
        return f"http://{self.host}:{self.port}{self.path}"

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post(self.path, self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server  # the asyncio.Server; aiohttp exposes no public accessor
        if self.port == 0 and server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        log.info("webhook receiver listening on %s", self.url)
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        with self.tracer.cycle(
            "webhook batch",
            kind="server",
            **{"http.request.method": request.method, "url.path": request.path},
        ) as span:
            response = await self._receive(request, span)
            span.set_status_code(response.status, server=True)
        return response

    async def _receive(
        self, request: web.Request, span: TracedSpan | NullSpan
    ) -> web.Response:
        body = await request.read()

        problem = self._check_signature(request, body)
        if problem:
            self.rejected += 1
            log.warning("rejected webhook delivery: %s", problem)
            return _error(401, problem)

        try:
            decoded: Any = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            self.rejected += 1
            return _error(400, f"body is not valid JSON: {exc}")
        if not isinstance(decoded, list):
            self.rejected += 1
            return _error(
                400,
                f"body must be a JSON array of events, got {type(decoded).__name__}",
            )

        events, errors = parse_events(decoded)
        span.set("syncbench.events", len(events))
        if errors:
            # Rejecting the batch would make HubSpot retry it for a day without success;
            # keep the good events and log the bad ones.
            self.invalid_events += len(errors)
            log.warning(
                "dropped %d invalid webhook events: %s", len(errors), errors[:3]
            )
        try:
            await self.sink(events, body)
        except Exception:
            # Not stored, so not acknowledged: HubSpot retries a 5xx later.
            log.exception("could not store a delivery of %d events", len(events))
            return _error(503, "events could not be stored; retry later")
        self.deliveries += 1
        return web.Response(status=200)

    def _check_signature(self, request: web.Request, body: bytes) -> str | None:
        """Return why the request is not authentic, or None if it is."""
        signature = request.headers.get(SIGNATURE_HEADER)
        timestamp = request.headers.get(TIMESTAMP_HEADER)
        if not signature or not timestamp:
            return f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header"
        if not timestamp.isdigit():
            return f"{TIMESTAMP_HEADER} is not epoch milliseconds: {timestamp!r}"

        age_ms = self.clock.now_ms() - int(timestamp)
        if age_ms > self.max_age_ms:
            return f"timestamp {timestamp} is {age_ms / 1000:.0f} s old, over the limit"

        # HubSpot signs the URL it was given; behind a proxy that is not the URL this
        # server sees, so accept either the advertised URL or the request's own.
        candidates = {
            decode_uri(f"http://{self.host}:{self.port}{request.raw_path}"),
            decode_uri(str(request.url)),
        }
        valid = False
        for uri in candidates:
            expected = signature_v3(
                self.client_secret, request.method, uri, body, timestamp
            )
            valid |= hmac.compare_digest(expected.encode(), signature.encode())
        return None if valid else "signature does not match"


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"status": "error", "message": message}, status=status)
