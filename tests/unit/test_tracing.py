"""OpenTelemetry spans of the solutions: structure, times, determinism and OTLP export."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import StatusCode

from pytest_syncbench.clock import DEFAULT_EPOCH_MS, Clock
from pytest_syncbench.generator import StreamSpec
from pytest_syncbench.harness import CaseOutcome, CaseSetup, run_case
from pytest_syncbench.loop import run_virtual
from pytest_syncbench.registry import discover
from pytest_syncbench.results import extra_info, without_machine_fields
from pytest_syncbench.scenarios import ScenarioSpec
from pytest_syncbench.tracing import (
    NULL_SCOPE,
    NULL_TRACER,
    OtelSyncTracer,
    tracer_provider_for,
    traces_url,
)

SPEC = ScenarioSpec(
    name="tracing",
    description="a short stream of changes",
    companies=500,
    streams=(StreamSpec(150, 1200.0, 300.0),),
    settle_s=1800.0,
)
SEED = 3
NS_PER_S = 1_000_000_000


def _run(
    solution: str, *, traced: bool = True, seed: int = SEED
) -> tuple[CaseOutcome, list[ReadableSpan]]:
    exporter = InMemorySpanExporter()
    provider = None
    if traced:
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    setup = CaseSetup(
        spec=SPEC,
        solution_cls=discover()[solution],
        seed=seed,
        tracer_provider=provider,
    )
    outcome = run_case(setup)
    assert outcome.status != "failed", outcome.error
    return outcome, list(exporter.get_finished_spans())


@pytest.fixture(scope="module")
def polling() -> tuple[CaseOutcome, list[ReadableSpan]]:
    return _run("direct-polling")


@pytest.fixture(scope="module")
def hybrid() -> tuple[CaseOutcome, list[ReadableSpan]]:
    return _run("hybrid-cdc")


def _requests(spans: list[ReadableSpan], service: str) -> list[ReadableSpan]:
    attributes = [s.attributes or {} for s in spans]
    return [
        s
        for s, a in zip(spans, attributes, strict=True)
        if a.get("peer.service") == service
    ]


def _by_id(spans: list[ReadableSpan]) -> dict[int, ReadableSpan]:
    return {s.context.span_id: s for s in spans}


def _root_of(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> ReadableSpan:
    while span.parent is not None:
        span = by_id[span.parent.span_id]
    return span


def _parent_name(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> str | None:
    return None if span.parent is None else by_id[span.parent.span_id].name


def test_tracer_off_is_one_shared_null_scope():
    assert NULL_TRACER.enabled is False
    assert NULL_TRACER.cycle("poll cycle") is NULL_SCOPE
    assert NULL_TRACER.span("databox write", **{"syncbench.rows": 3}) is NULL_SCOPE
    assert NULL_TRACER.http_request("hubspot", "GET", "GET /x", "/x", 1) is NULL_SCOPE
    assert NULL_TRACER.current() is None
    with pytest.raises(KeyError), NULL_TRACER.span("anything") as span:
        span.set("key", 1)
        raise KeyError("passes through")


def test_polling_one_trace_per_cycle_with_its_calls(polling):
    outcome, spans = polling
    by_id = _by_id(spans)
    cycles = [s for s in spans if s.name == "poll cycle"]

    assert len(cycles) == outcome.solution_stats["cycles"] >= 3
    assert all(c.parent is None for c in cycles)
    assert len({c.context.trace_id for c in cycles}) == len(cycles)
    # Every span belongs to a cycle's trace: there are no other roots.
    assert {_root_of(s, by_id).name for s in spans} == {"poll cycle"}

    hubspot = _requests(spans, "hubspot")
    # No outage in SPEC, so the mock saw every request the client made.
    assert len(hubspot) == len(outcome.hubspot_calls)
    assert {_parent_name(s, by_id) for s in hubspot} == {"poll cycle"}
    assert Counter(
        s.attributes["http.response.status_code"] for s in hubspot
    ) == Counter(c.status for c in outcome.hubspot_calls)
    first = hubspot[0].attributes
    assert first["http.request.method"] == "GET"
    assert first["url.path"] == "/crm/v3/objects/companies"
    assert hubspot[0].name == "GET /crm/v3/objects/companies"

    databox = _requests(spans, "databox")
    assert len(databox) == len(outcome.databox_calls)
    assert {_parent_name(s, by_id) for s in databox} == {"databox write"}
    writes = [s for s in spans if s.name == "databox write"]
    assert {_parent_name(s, by_id) for s in writes} == {"poll cycle"}
    assert (
        sum(s.attributes["syncbench.rows"] for s in writes)
        == (outcome.solution_stats["rows_written"])
    )


def test_polling_spans_follow_the_simulated_clock(polling):
    _outcome, spans = polling
    cycles = sorted(
        (s for s in spans if s.name == "poll cycle"), key=lambda s: s.start_time
    )

    for cycle in cycles:
        simulated_s = cycle.attributes["syncbench.simulated_s"]
        assert (
            cycle.start_time == (DEFAULT_EPOCH_MS + round(simulated_s * 1000)) * 10**6
        )
        assert cycle.attributes["syncbench.scenario"] == SPEC.name
        assert cycle.attributes["syncbench.solution"] == "direct-polling"
        assert cycle.attributes["syncbench.seed"] == SEED
    gaps = [
        b.start_time - a.start_time for a, b in zip(cycles, cycles[1:], strict=False)
    ]
    # The poll interval is 300 s and every cycle here is shorter than that.
    assert gaps == [300 * NS_PER_S] * len(gaps)
    assert all(c.end_time > c.start_time for c in cycles)


def _shape(spans: list[ReadableSpan]) -> list[tuple[Any, ...]]:
    by_id = _by_id(spans)
    return sorted(
        (
            s.name,
            _parent_name(s, by_id),
            s.start_time,
            s.end_time,
            sorted((s.attributes or {}).items()),
            s.status.status_code.name,
        )
        for s in spans
    )


def test_same_seed_same_spans(polling):
    _outcome, spans = polling
    _again, spans_again = _run("direct-polling")

    assert len(spans) > 20
    assert _shape(spans) == _shape(spans_again)


def test_hybrid_cycles_and_batches_are_separate_traces(hybrid):
    outcome, spans = hybrid
    by_id = _by_id(spans)
    roots = Counter(s.name for s in spans if s.parent is None)

    assert roots["cdc cycle"] >= 5
    assert roots["webhook batch"] >= 5
    assert roots["initial sync"] == 1
    assert len({s.context.trace_id for s in spans if s.parent is None}) == sum(
        roots.values()
    )
    assert len(_requests(spans, "hubspot")) == len(outcome.hubspot_calls)

    searches = [s for s in spans if s.name == "POST /crm/v3/objects/companies/search"]
    assert searches
    assert {_parent_name(s, by_id) for s in searches} == {"cdc cycle"}

    batches = {s.context.span_id: s for s in spans if s.name == "webhook batch"}
    assert (
        sum(b.attributes["syncbench.events"] for b in batches.values())
        == (outcome.solution_stats["events_received"])
    )
    processes = [s for s in spans if s.name == "webhook process"]
    assert processes
    for process in processes:
        batch = batches[process.parent.span_id]
        assert process.context.trace_id == batch.context.trace_id
        assert (
            process.attributes["syncbench.events"]
            == batch.attributes["syncbench.events"]
        )

    # Writes: under the initial sync, and in flushes linked to the batches and cycles
    # whose changes they carry.
    initial_writes = [
        s
        for s in spans
        if s.name == "databox write" and _root_of(s, by_id).name == "initial sync"
    ]
    assert initial_writes
    flushes = [s for s in spans if s.name == "flush" and s.parent is None]
    linked = {link.context.span_id for f in flushes for link in f.links}
    assert {by_id[i].name for i in linked} >= {"webhook process", "cdc cycle"}
    writes = [s for s in spans if s.name == "databox write"]
    assert {_parent_name(s, by_id) for s in writes} == {"flush"}
    assert (
        sum(s.attributes["syncbench.rows"] for s in writes)
        == (outcome.solution_stats["rows_written"])
    )


@pytest.mark.parametrize(
    "solution", ["direct-polling", "webhook-sync", "hybrid-cdc", "native-integration"]
)
def test_tracing_changes_no_measurement(solution):
    def measure(traced: bool) -> dict[str, Any]:
        outcome, spans = _run(solution, traced=traced)
        assert bool(spans) == traced
        info = extra_info(outcome, "test", "professional")
        return without_machine_fields(info)

    assert measure(traced=True) == measure(traced=False)


def test_exception_is_recorded_and_raised():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    async def work() -> None:
        clock = Clock()
        clock.start()
        tracer = OtelSyncTracer(
            provider, clock, clock_mode="virtual", scenario="s", solution="x", seed=1
        )
        with tracer.cycle("cycle"), tracer.span("step"):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_virtual(work)
    step, cycle = exporter.get_finished_spans()
    assert (step.name, cycle.name) == ("step", "cycle")
    assert step.parent.span_id == cycle.context.span_id
    assert step.status.status_code is StatusCode.ERROR
    assert step.attributes["error.type"] == "RuntimeError"
    assert [e.name for e in step.events] == ["exception"]
    assert step.events[0].timestamp == DEFAULT_EPOCH_MS * 10**6


def test_cycle_root_and_span_parent():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    async def work() -> None:
        clock = Clock()
        clock.start()
        tracer = OtelSyncTracer(
            provider, clock, clock_mode="virtual", scenario="s", solution="x", seed=1
        )
        with tracer.cycle("outer") as outer:
            handle = outer.handle
            with tracer.cycle("inner"):
                pass
        with tracer.span("later", parent=handle):
            assert tracer.current() is not None
        assert tracer.current() is None

    run_virtual(work)
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert spans["outer"].parent is None
    assert spans["inner"].parent is None
    assert spans["inner"].context.trace_id != spans["outer"].context.trace_id
    assert spans["later"].parent.span_id == spans["outer"].context.span_id
    assert spans["later"].context.trace_id == spans["outer"].context.trace_id


def test_live_mode_uses_wall_time():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    before = time.time_ns()

    async def work() -> None:
        clock = Clock()
        clock.start()
        tracer = OtelSyncTracer(
            provider, clock, clock_mode="live", scenario="s", solution="x", seed=1
        )
        await asyncio.sleep(60.0)
        with tracer.cycle("cycle"):
            pass

    run_virtual(work)
    (cycle,) = exporter.get_finished_spans()
    # The virtual loop skipped 60 s; the span is dated by the wall clock all the same.
    assert before <= cycle.start_time <= cycle.end_time <= time.time_ns()
    assert cycle.attributes["syncbench.simulated_s"] == 60.0


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/traces"),
        ("https://localhost:4318/", "https://localhost:4318/v1/traces"),
        ("http://[::1]:4318/v1/traces", "http://[::1]:4318/v1/traces"),
    ],
)
def test_traces_url(endpoint, url):
    assert traces_url(endpoint) == url


@pytest.mark.parametrize(
    "endpoint", ["ftp://x", "127.0.0.1:4318", "http://", "http://host:port", ""]
)
def test_bad_endpoint_names_the_value(endpoint):
    with pytest.raises(ValueError, match="http://127.0.0.1:4318") as caught:
        traces_url(endpoint)
    assert repr(endpoint) in str(caught.value)


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]]

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    received: list[tuple[str, bytes]] = []
    handler = type("Handler", (_Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_otlp_export_reaches_a_collector(collector):
    url, received = collector
    provider = tracer_provider_for(url)
    assert provider is not None

    async def work() -> None:
        clock = Clock()
        clock.start()
        tracer = OtelSyncTracer(
            provider, clock, clock_mode="virtual", scenario="s", solution="x", seed=9
        )
        with tracer.cycle("poll cycle"):
            await asyncio.sleep(2.0)
            with tracer.http_request("hubspot", "GET", "GET /crm", "/crm", 1) as span:
                span.set_status_code(503)

    run_virtual(work)
    provider.shutdown()

    assert received, "the exporter sent nothing"
    spans = []
    for path, body in received:
        assert path == "/v1/traces"
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            service = {
                a.key: a.value.string_value for a in resource_spans.resource.attributes
            }
            assert service["service.name"] == "pytest-syncbench"
            for scope_spans in resource_spans.scope_spans:
                spans.extend(scope_spans.spans)
    by_name = {s.name: s for s in spans}
    assert set(by_name) == {"poll cycle", "GET /crm"}
    cycle, request_span = by_name["poll cycle"], by_name["GET /crm"]
    assert request_span.parent_span_id == cycle.span_id
    assert cycle.parent_span_id == b""
    assert cycle.start_time_unix_nano == DEFAULT_EPOCH_MS * 10**6
    assert request_span.start_time_unix_nano == (
        DEFAULT_EPOCH_MS * 10**6 + 2 * NS_PER_S
    )
    attributes = {a.key: a.value for a in request_span.attributes}
    assert attributes["http.response.status_code"].int_value == 503
    assert attributes["error.type"].string_value == "503"


def test_bad_endpoint_option_is_usage_error(pytester):
    pytester.makepyfile("def test_nothing():\n    assert True\n")

    result = pytester.runpytest("--syncbench-otlp-endpoint=ftp://x")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--syncbench-otlp-endpoint: invalid OTLP endpoint 'ftp://x'*127.0.0.1:4318*"]
    )


def test_unreachable_collector_is_usage_error(pytester):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    pytester.makepyfile("def test_nothing():\n    assert True\n")

    result = pytester.runpytest(
        "--syncbench", f"--syncbench-otlp-endpoint=http://127.0.0.1:{port}"
    )

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*cannot connect to the OTLP collector at http://127.0.0.1:{port}*"]
    )


def test_endpoint_password_is_masked(pytester):
    result = pytester.runpytest("--syncbench-otlp-endpoint=ftp://user:secret@x")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'ftp://user:***@x'*"])
    assert "secret" not in result.stderr.str()
