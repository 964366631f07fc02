"""OpenTelemetry traces of what a solution does: sync cycles, requests, batches, writes.

Solutions trace through ``context.tracer``, a :class:`SyncTracer`:

- ``with tracer.cycle("poll cycle") as span:`` starts a root span, a new trace, whatever
  span is current;
- ``with tracer.span("databox write", **{"syncbench.rows": 100}) as span:`` starts a
  child of the current span (a root when none is current), or of ``parent=`` when given;
- ``with tracer.http_request("hubspot", "GET", "GET /crm/v3/...", path, attempt) as
  span:`` is a client span with the OTel HTTP attributes; ``span.set_status_code(200)``
  records the response.

Each yields a :class:`TracedSpan` (``set``, ``fail``, ``set_status_code``). An exception
that leaves the block is recorded on the span and raised again, and it marks the span
failed. A cancellation is noted in an attribute and is not a failure.

Tracing is off unless the session has a ``TracerProvider`` (``--syncbench-otlp-endpoint``).
Off, every tracer is :data:`NULL_TRACER`, whose methods return one shared
:class:`NullScope` and make no OpenTelemetry call, so instrumented hot paths cost a method
call and an empty ``with``.

Span times: on the virtual clock a span starts and ends at the case's calendar time
(``clock.now_ms()`` in nanoseconds), so traces follow the simulated timeline and repeat
for the same seed. On the live clock they are wall time (``time.time_ns()``). Every span
carries ``syncbench.simulated_s`` (seconds since the case started at the span's start) and
``syncbench.scenario``, ``syncbench.solution`` and ``syncbench.seed``.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from opentelemetry import context, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span

    from pytest_syncbench.clock import Clock

SERVICE_NAME = "pytest-syncbench"
INSTRUMENTATION_NAME = "pytest_syncbench"
TRACES_PATH = "/v1/traces"
ENDPOINT_EXAMPLE = "http://127.0.0.1:4318"
# Links one span may carry; the SDK's own default limit is 128.
MAX_LINKS = 64

AttributeValue = str | bool | int | float | Sequence[str] | Sequence[int]
Kind = Literal["internal", "client", "server"]
# Handle of a span that a later span, perhaps in another task, names as its parent or
# links to: an OpenTelemetry span context, or None when tracing is off.
Parent = Any


class NullSpan:
    """The span of a tracer that is off: every method does nothing."""

    __slots__ = ()

    handle: Parent = None

    def set(self, key: str, value: AttributeValue) -> None:
        pass

    def set_status_code(self, status: int, *, server: bool = False) -> None:
        pass

    def fail(self, error_type: str, description: str | None = None) -> None:
        pass


class NullScope:
    """A reusable context manager that yields :data:`NULL_SPAN` and does nothing else."""

    __slots__ = ()

    def __enter__(self) -> NullSpan:
        return NULL_SPAN

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        return False


NULL_SPAN = NullSpan()
NULL_SCOPE = NullScope()


class SyncTracer:
    """The tracer a solution gets in ``context.tracer``; this base class is off."""

    enabled = False

    def cycle(
        self,
        name: str,
        *,
        kind: Kind = "internal",
        links: Sequence[Parent] = (),
        **attributes: AttributeValue,
    ) -> NullScope | _Scope:
        """Return a context manager for a root span: a new trace."""
        return NULL_SCOPE

    def span(
        self,
        name: str,
        *,
        parent: Parent = None,
        kind: Kind = "internal",
        links: Sequence[Parent] = (),
        **attributes: AttributeValue,
    ) -> NullScope | _Scope:
        """Return a context manager for a child of ``parent`` or of the current span."""
        return NULL_SCOPE

    def http_request(
        self, service: str, method: str, route: str, path: str, attempt: int
    ) -> NullScope | _Scope:
        """Return a client span for one attempt of an HTTP request to ``service``.

        ``route`` names the span (``"GET /crm/v3/objects/companies/{id}"``); ``path`` is
        the path requested; ``attempt`` counts from 1, and later attempts are resends.
        """
        return NULL_SCOPE

    def current(self) -> Parent:
        """Return the current span's handle to pass as ``parent`` later; None when off."""
        return None


NULL_TRACER = SyncTracer()


class TracedSpan:
    """A recording span, with the few operations solutions need."""

    __slots__ = ("otel", "_now_ns")

    def __init__(self, otel: Span, now_ns: Callable[[], int]) -> None:
        self.otel = otel
        self._now_ns = now_ns

    @property
    def handle(self) -> Parent:
        """This span's context, to pass as ``parent`` or in ``links`` later."""
        return self.otel.get_span_context()

    def set(self, key: str, value: AttributeValue) -> None:
        self.otel.set_attribute(key, value)

    def set_status_code(self, status: int, *, server: bool = False) -> None:
        """Record an HTTP response status and mark the span failed on an error.

        Following the OpenTelemetry HTTP semantic conventions, 4xx and 5xx are errors
        of a client span, and only 5xx are errors of a ``server`` span.
        """
        self.otel.set_attribute("http.response.status_code", status)
        if status >= 500 or (status >= 400 and not server):
            self.fail(str(status))

    def fail(self, error_type: str, description: str | None = None) -> None:
        """Mark the span failed, with ``error.type`` set to ``error_type``."""
        self.otel.set_attribute("error.type", error_type)
        self.otel.set_status(Status(StatusCode.ERROR, description))

    def _record(self, exc: BaseException) -> None:
        if isinstance(exc, asyncio.CancelledError | GeneratorExit):
            self.otel.set_attribute("syncbench.cancelled", True)
            return
        self.otel.record_exception(exc, timestamp=self._now_ns())
        self.fail(type(exc).__qualname__, str(exc) or None)


class _Scope:
    """Starts a span on enter, makes it current, and ends it on exit."""

    __slots__ = ("_tracer", "_name", "_parent", "_kind", "_links", "_attrs", "_span")

    def __init__(
        self,
        tracer: OtelSyncTracer,
        name: str,
        parent: Any,
        kind: Kind,
        links: Sequence[Parent],
        attributes: Mapping[str, AttributeValue],
    ) -> None:
        self._tracer = tracer
        self._name = name
        self._parent = parent
        self._kind = kind
        self._links = links
        self._attrs = attributes
        self._span: tuple[TracedSpan, object] | None = None

    def __enter__(self) -> TracedSpan:
        traced, token = self._tracer._start(
            self._name, self._parent, self._kind, self._links, self._attrs
        )
        self._span = (traced, token)
        return traced

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        assert self._span is not None
        traced, token = self._span
        self._span = None
        try:
            if exc is not None:
                traced._record(exc)
            traced.otel.end(end_time=self._tracer.now_ns())
        finally:
            context.detach(token)  # type: ignore[arg-type]
        return False


_ROOT = object()
_KINDS = {
    "internal": SpanKind.INTERNAL,
    "client": SpanKind.CLIENT,
    "server": SpanKind.SERVER,
}


class OtelSyncTracer(SyncTracer):
    """A tracer that records spans through an OpenTelemetry ``TracerProvider``."""

    enabled = True

    def __init__(
        self,
        provider: TracerProvider,
        clock: Clock,
        *,
        clock_mode: str,
        scenario: str,
        solution: str,
        seed: int,
    ) -> None:
        if clock_mode not in ("virtual", "live"):
            raise ValueError(
                f"unknown clock mode {clock_mode!r}: expected virtual or live"
            )
        self._otel = provider.get_tracer(INSTRUMENTATION_NAME)
        self.clock = clock
        self.now_ns: Callable[[], int] = (
            self._virtual_ns if clock_mode == "virtual" else time.time_ns
        )
        self._common: dict[str, AttributeValue] = {
            "syncbench.scenario": scenario,
            "syncbench.solution": solution,
            "syncbench.seed": seed,
        }

    def _virtual_ns(self) -> int:
        return self.clock.now_ms() * 1_000_000

    def cycle(
        self,
        name: str,
        *,
        kind: Kind = "internal",
        links: Sequence[Parent] = (),
        **attributes: AttributeValue,
    ) -> _Scope:
        return _Scope(self, name, _ROOT, kind, links, attributes)

    def span(
        self,
        name: str,
        *,
        parent: Parent = None,
        kind: Kind = "internal",
        links: Sequence[Parent] = (),
        **attributes: AttributeValue,
    ) -> _Scope:
        return _Scope(self, name, parent, kind, links, attributes)

    def http_request(
        self, service: str, method: str, route: str, path: str, attempt: int
    ) -> _Scope:
        attributes: dict[str, AttributeValue] = {
            "peer.service": service,
            "http.request.method": method,
            "url.path": path,
        }
        if attempt > 1:
            attributes["http.request.resend_count"] = attempt - 1
        return _Scope(self, route, None, "client", (), attributes)

    def current(self) -> Parent:
        span_context = trace.get_current_span().get_span_context()
        return span_context if span_context.is_valid else None

    def _start(
        self,
        name: str,
        parent: Any,
        kind: Kind,
        links: Sequence[Parent],
        attributes: Mapping[str, AttributeValue],
    ) -> tuple[TracedSpan, object]:
        if parent is _ROOT:
            parent_context: Any = context.Context()
        elif parent is not None:
            parent_context = trace.set_span_in_context(
                trace.NonRecordingSpan(parent), context.Context()
            )
        else:
            parent_context = None  # the current context
        start_ns = self.now_ns()
        merged = dict(self._common)
        merged["syncbench.simulated_s"] = round(self.clock.now(), 3)
        merged.update(attributes)
        span = self._otel.start_span(
            name,
            context=parent_context,
            kind=_KINDS[kind],
            attributes=merged,
            links=[trace.Link(link) for link in links[:MAX_LINKS] if link is not None],
            start_time=start_ns,
            record_exception=False,
            set_status_on_exception=False,
        )
        token = context.attach(trace.set_span_in_context(span))
        return TracedSpan(span, self.now_ns), token


def case_tracer(
    provider: TracerProvider | None,
    clock: Clock,
    *,
    clock_mode: str,
    scenario: str,
    solution: str,
    seed: int,
) -> SyncTracer:
    """Return the tracer of one case: :data:`NULL_TRACER` when ``provider`` is None."""
    if provider is None:
        return NULL_TRACER
    return OtelSyncTracer(
        provider,
        clock,
        clock_mode=clock_mode,
        scenario=scenario,
        solution=solution,
        seed=seed,
    )


def traces_url(endpoint: str) -> str:
    """Return the OTLP/HTTP traces URL for a collector's base URL.

    Raises ValueError naming ``endpoint`` unless it is an http or https URL with a host.
    """
    try:
        parts = urlsplit(endpoint)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"invalid OTLP endpoint {masked_url(endpoint)!r}: expected an http or https "
            f"URL with a host, such as {ENDPOINT_EXAMPLE}"
        )
    base = endpoint.rstrip("/")
    return base if base.endswith(TRACES_PATH) else base + TRACES_PATH


def masked_url(url: str) -> str:
    """Return ``url`` with the password of its user information, if any, as ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def check_reachable(endpoint: str, timeout_s: float = 3.0) -> None:
    """Raise ConnectionError unless a TCP connection to ``endpoint``'s host and port opens.

    Without this check, a collector that is not running costs every export its retries,
    and the spans of the whole run are lost after the summary has been printed.
    """
    parts = urlsplit(endpoint)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout_s):
            pass
    except OSError as exc:
        raise ConnectionError(
            f"cannot connect to the OTLP collector at {masked_url(endpoint)} "
            f"({exc.strerror or exc}); start the collector (Jaeger takes OTLP/HTTP on "
            "port 4318) or drop the option"
        ) from None


def tracer_provider_for(endpoint: str | None) -> TracerProvider | None:
    """Return a provider that batches spans to ``endpoint`` over OTLP/HTTP, or None.

    ``endpoint`` is the collector's base URL (``http://127.0.0.1:4318``); ``/v1/traces``
    is added unless present. Call ``shutdown()`` on the provider at the end to send what
    is still buffered.
    """
    if endpoint is None:
        return None
    url = traces_url(endpoint)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    return provider
