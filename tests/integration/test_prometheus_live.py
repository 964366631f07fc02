"""A real Prometheus server scrapes a live run and agrees with the recorded results.

The test starts Debian's ``prometheus`` on 127.0.0.1 with a configuration that scrapes the
suite's endpoint every second, runs one case on the live clock, and then queries Prometheus's
HTTP API for the request count of that case. Without the ``prometheus`` binary the test
skips, unless the environment variable CI is set, where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_syncbench.harness import CaseSetup, run_case
from pytest_syncbench.prometheus import MetricsServer
from pytest_syncbench.registry import discover
from pytest_syncbench.results import extra_info
from pytest_syncbench.scenarios import Scale, scenario

SCRAPE_INTERVAL_S = 1
STARTUP_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but the Prometheus test cannot run: {reason}")
    pytest.skip(reason)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


class PrometheusServer:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, expr: str) -> list[dict[str, Any]]:
        body = _get(
            f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
        )
        assert body["status"] == "success", body
        return body["data"]["result"]

    def value(self, expr: str) -> float | None:
        result = self.query(expr)
        if not result:
            return None
        assert len(result) == 1, result
        return float(result[0]["value"][1])

    def wait_for(self, expr: str, expected: float, timeout_s: float = 30.0) -> float:
        """Return the value of ``expr`` once it equals ``expected``, or the last one seen."""
        deadline = time.monotonic() + timeout_s
        value = self.value(expr)
        while value != expected and time.monotonic() < deadline:
            time.sleep(0.5)
            value = self.value(expr)
        return value if value is not None else float("nan")


@pytest.fixture
def metrics() -> Iterator[MetricsServer]:
    server = MetricsServer(0)
    yield server
    server.close()


@pytest.fixture
def prometheus(tmp_path: Path, metrics: MetricsServer) -> Iterator[PrometheusServer]:
    binary = shutil.which("prometheus")
    if binary is None:
        _missing("the prometheus binary is not installed (Debian package prometheus)")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n"
        f"  scrape_interval: {SCRAPE_INTERVAL_S}s\n"
        "scrape_configs:\n"
        "  - job_name: syncbench\n"
        "    static_configs:\n"
        f"      - targets: ['127.0.0.1:{metrics.port}']\n"
    )
    port = _free_port()
    with (tmp_path / "prometheus.log").open("wb") as log_file:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                urllib.request.urlopen(f"{url}/-/ready", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (tmp_path / "prometheus.log").read_text()[-2000:]
                    pytest.fail(f"prometheus did not become ready:\n{log}")
                time.sleep(0.2)
        yield PrometheusServer(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_prometheus_scrapes_live_run(
    prometheus: PrometheusServer, metrics: MetricsServer
) -> None:
    spec = scenario("realtime", Scale.SMOKE)
    setup = CaseSetup(
        spec=spec,
        solution_cls=discover()["direct-polling"],
        seed=1,
        clock_mode="live",
        speedup=200.0,
        observers=(metrics.observer,),
    )
    started = time.time()
    info = extra_info(run_case(setup), "smoke", setup.tier)
    assert info["status"] == "converged", info["error"]
    case = 'scenario="realtime",solution="direct-polling"'

    requests = prometheus.wait_for(
        f"sum(syncbench_hubspot_requests_total{{{case}}})", info["api_calls"]["total"]
    )
    assert requests == info["api_calls"]["total"]
    destination = prometheus.wait_for(
        f"sum(syncbench_databox_requests_total{{{case}}})",
        info["destination_calls"]["total"],
    )
    assert destination == info["destination_calls"]["total"]
    latencies = prometheus.value(f"syncbench_change_latency_seconds_count{{{case}}}")
    assert latencies == info["latency_s"]["count"]
    assert prometheus.wait_for(f"syncbench_case_running{{{case}}}", 0) == 0

    # Scraped while the case ran, not only after it: some sample saw it running.
    window_s = int(time.time() - started) + 2
    running = prometheus.value(
        f"max_over_time(syncbench_case_running{{{case}}}[{window_s}s])"
    )
    assert running == 1


MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
# Panels with no series for a direct-polling run that had no 429s and gets no webhooks.
EMPTY_FOR_DIRECT_POLLING = ('status="429"', "syncbench_webhook_deliveries_total")


def _dashboard_expressions() -> list[tuple[str, str]]:
    dashboard = json.loads(
        (MONITORING / "grafana" / "dashboards" / "syncbench.json").read_text()
    )
    out = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = (
                target["expr"]
                .replace("$scenario", "realtime")
                .replace("$solution", "direct-polling")
                .replace("$__rate_interval", "1m")
            )
            out.append((panel["title"], expr))
    return out


def test_dashboard_queries_answer_from_a_live_run(
    prometheus: PrometheusServer, metrics: MetricsServer
) -> None:
    setup = CaseSetup(
        spec=scenario("realtime", Scale.SMOKE),
        solution_cls=discover()["direct-polling"],
        seed=1,
        clock_mode="live",
        speedup=300.0,
        observers=(metrics.observer,),
    )
    info = extra_info(run_case(setup), "smoke", setup.tier)
    assert info["status"] == "converged", info["error"]
    case = 'scenario="realtime",solution="direct-polling"'
    assert prometheus.wait_for(f"syncbench_case_running{{{case}}}", 0) == 0

    expressions = _dashboard_expressions()
    assert expressions
    for title, expr in expressions:
        result = prometheus.query(expr)
        if any(marker in expr for marker in EMPTY_FOR_DIRECT_POLLING):
            continue
        assert result, f"panel {title!r}: no series for {expr}"
