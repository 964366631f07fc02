"""The Prometheus endpoint: what a case exports, and the options that start it."""

from __future__ import annotations

import socket
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pytest_syncbench.generator import StreamSpec
from pytest_syncbench.harness import CaseSetup, run_case
from pytest_syncbench.prometheus import SERIES, MetricsServer
from pytest_syncbench.registry import discover
from pytest_syncbench.results import extra_info
from pytest_syncbench.scenarios import Fault, FaultKind, ScenarioSpec

SPEC = ScenarioSpec(
    name="export",
    description="a short stream with a webhook outage",
    companies=300,
    streams=(StreamSpec(120, 600.0, 300.0),),
    faults=(Fault(400.0, 300.0, FaultKind.WEBHOOK_OUTAGE),),
    settle_s=1800.0,
    hubspot={"max_retries": 1, "retry_span_s": 60.0},
)


@pytest.fixture
def server():
    metrics = MetricsServer(0)
    yield metrics
    metrics.close()


def _scrape(server: MetricsServer) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(server.url, timeout=5) as response:
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _total(samples, name: str, **labels: str) -> float:
    return sum(
        value
        for (sample, sample_labels), value in samples.items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


@pytest.mark.parametrize("solution", ["webhook-sync", "direct-polling"])
def test_exported_counts_equal_the_recorded_results(server, solution):
    setup = CaseSetup(
        spec=SPEC,
        solution_cls=discover()[solution],
        seed=4,
        observers=(server.observer,),
    )
    outcome = run_case(setup)
    info = extra_info(outcome, "test", setup.tier)
    samples = _scrape(server)
    case = {"scenario": "export", "solution": solution}

    assert (
        _total(samples, "syncbench_hubspot_requests_total", **case)
        == (info["api_calls"]["total"])
    )
    assert (
        _total(samples, "syncbench_hubspot_requests_total", status="429", **case)
        == (info["api_calls"]["rate_limited"])
    )
    assert (
        _total(samples, "syncbench_databox_requests_total", **case)
        == (info["destination_calls"]["total"])
    )
    assert (
        _total(samples, "syncbench_change_latency_seconds_count", **case)
        == (info["latency_s"]["count"])
    )
    assert (
        _total(samples, "syncbench_changes_delivered_total", **case)
        == (info["changes"]["delivered"])
    )
    webhooks = info["webhooks"]
    for outcome_label, field in (
        ("delivered", "delivered_events"),
        ("failed", "retries"),
        ("dropped", "dropped_events"),
    ):
        assert _total(
            samples, "syncbench_webhook_deliveries_total", outcome=outcome_label, **case
        ) == webhooks.get(field, 0)
    for kind in ("missing", "stale", "ghost"):
        assert (
            _total(samples, "syncbench_inconsistent_records", kind=kind, **case)
            == (info["consistency"][kind])
        )
    assert _total(samples, "syncbench_pending_changes", **case) == info["data_loss"]
    assert _total(samples, "syncbench_case_running", **case) == 0
    assert (
        _total(samples, "syncbench_simulated_time_seconds", **case)
        >= (info["simulated_s"])
    )
    daily = _total(samples, "syncbench_hubspot_daily_limit", **case)
    assert daily == 625_000
    # Webhook management requests do not count against the limits, nor do 429s.
    admitted = sum(
        count
        for endpoint, statuses in info["api_calls"]["by_endpoint"].items()
        if " /webhooks/" not in endpoint
        for status, count in statuses.items()
        if status != "429"
    )
    remaining = _total(samples, "syncbench_hubspot_daily_remaining", **case)
    assert remaining == daily - admitted


def test_webhook_outage_counts_failed_deliveries(server):
    setup = CaseSetup(
        spec=SPEC,
        solution_cls=discover()["webhook-sync"],
        seed=4,
        observers=(server.observer,),
    )
    info = extra_info(run_case(setup), "test", setup.tier)
    samples = _scrape(server)
    failed = _total(samples, "syncbench_webhook_deliveries_total", outcome="failed")
    assert failed == info["webhooks"]["retries"] > 0


def test_series_lists_every_exported_name(server):
    setup = CaseSetup(
        spec=SPEC,
        solution_cls=discover()["webhook-sync"],
        seed=4,
        observers=(server.observer,),
    )
    run_case(setup)
    names = {name for name, _ in _scrape(server)}
    assert names == SERIES


def test_port_in_use_is_a_usage_error(pytester):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        pytester.makepyfile("def test_nothing():\n    assert True\n")
        result = pytester.runpytest(
            "--syncbench", f"--syncbench-prometheus-port={port}"
        )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*--syncbench-prometheus-port={port}: cannot listen on 127.0.0.1:{port}*"]
    )


@pytest.mark.parametrize("value", ["-1", "65536", "http"])
def test_bad_port_is_a_usage_error(pytester, value):
    result = pytester.runpytest(f"--syncbench-prometheus-port={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*invalid port '{value}'*"])


def test_endpoint_is_named_in_the_header(pytester):
    pytester.makepyfile("def test_nothing():\n    assert True\n")
    result = pytester.runpytest("--syncbench", "--syncbench-prometheus-port=0")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["syncbench: Prometheus metrics at http://127.0.0.1:*/metrics"]
    )


def test_host_without_port_is_a_usage_error(pytester):
    result = pytester.runpytest("--syncbench", "--syncbench-prometheus-host=127.0.0.1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--syncbench-prometheus-host applies only to*"])


def test_unknown_host_is_named(pytester):
    result = pytester.runpytest(
        "--syncbench",
        "--syncbench-prometheus-port=0",
        "--syncbench-prometheus-host=not_a_host",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--syncbench-prometheus-host=not_a_host: not an address of this machine*"]
    )


def test_bracketed_ipv6_host_listens(pytester):
    pytester.makepyfile("def test_nothing():\n    assert True\n")
    result = pytester.runpytest(
        "--syncbench",
        "--syncbench-prometheus-port=0",
        "--syncbench-prometheus-host=[::1]",
    )
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["syncbench: Prometheus metrics at http://[[]::1[]]:*"])


def test_isolating_every_case_is_refused_with_the_endpoint(pytester):
    result = pytester.runpytest(
        "--syncbench", "--syncbench-prometheus-port=0", "--syncbench-isolate=always"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--syncbench-isolate=always runs every case*"])


def test_quiet_run_still_names_the_endpoint(pytester):
    pytester.makepyfile("def test_nothing():\n    assert True\n")
    result = pytester.runpytest("-q", "--syncbench", "--syncbench-prometheus-port=0")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["syncbench: Prometheus metrics at http://127.0.0.1:*/metrics"]
    )
