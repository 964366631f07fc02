"""The pytest plugin: options, solution parametrization, the case fixture and the summary.

Scenario tests request the ``syncbench_case`` fixture, which parametrizes them over the
selected solutions (ids such as ``test_outage[hybrid-cdc]``), runs the case on a virtual
clock, stores its measurements in the pytest-benchmark record and feeds the per-change
latencies to pytest-benchmark as the timing samples. Without ``--syncbench`` those tests are
skipped, and every other test runs as usual.
"""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from pytest_syncbench import registry
from pytest_syncbench.gates import GateSetup, configure_gates, evaluate_gates
from pytest_syncbench.harness import CaseOutcome, CaseSetup
from pytest_syncbench.isolation import IsolatedCaseError, run_case_as
from pytest_syncbench.observe import CaseObserver
from pytest_syncbench.options import (
    parse_port,
    parse_seed,
    parse_solutions,
    parse_speedup,
)
from pytest_syncbench.prometheus import MetricsServer
from pytest_syncbench.redis_backend import RedisUrlError, validate_redis_url
from pytest_syncbench.results import EXTRA_INFO_KEY, extra_info
from pytest_syncbench.scenarios import Scale, scenario
from pytest_syncbench.summary import (
    format_summary,
    format_sweep_summary,
    live_lines,
    solution_error_lines,
)
from pytest_syncbench.sweep import plan_for, run_sweep, sweep_extra_info
from pytest_syncbench.tracing import (
    check_reachable,
    tracer_provider_for,
    traces_url,
)

CASE_FIXTURE = "syncbench_case"
_RESULTS_KEY = pytest.StashKey[list[dict[str, Any]]]()
_SOLUTIONS_KEY = pytest.StashKey[list[str]]()
_REGISTRY_KEY = pytest.StashKey[dict[str, Any]]()
_GATES_KEY = pytest.StashKey[GateSetup | None]()
_GATE_LINES_KEY = pytest.StashKey[list[str]]()
_SWEEPS_KEY = pytest.StashKey[list[dict[str, Any]]]()
# Outcomes of this session's scale cases by solution, which the sweep uses as a point.
_SCALE_OUTCOMES_KEY = pytest.StashKey[dict[str, CaseOutcome]]()
_METRICS_KEY = pytest.StashKey[MetricsServer]()
_TRACER_PROVIDER_KEY = pytest.StashKey[TracerProvider | None]()
SKIP_REASON = "scenario tests run only with --syncbench"
DEFAULT_SPEEDUP = 60.0
DEFAULT_PROMETHEUS_HOST = "127.0.0.1"
# pytest-benchmark's default for --benchmark-storage (5.x).
DEFAULT_BENCHMARK_STORAGE = "file://./.benchmarks"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_syncbench import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("syncbench", "HubSpot-to-Databox sync benchmarks")
    group.addoption(
        "--syncbench",
        action="store_true",
        default=False,
        help="Run the sync scenario tests (skipped otherwise).",
    )
    group.addoption(
        "--syncbench-scale",
        choices=[s.value for s in Scale],
        default=Scale.DEFAULT.value,
        help="Scenario sizes: 'full' is every scenario at its defined size, 'default' "
        "the same but 250,000 companies in the scale scenario, 'smoke' a CI-sized run. "
        "Default: %(default)s.",
    )
    group.addoption(
        "--syncbench-seed",
        type=parse_seed,
        default=1,
        help="Seed of the generated data, workload and every random choice of the mocks "
        "(a non-negative integer). Default: %(default)s.",
    )
    group.addoption(
        "--syncbench-solutions",
        default=None,
        metavar="NAME,NAME",
        help="Comma-separated solutions to run. Default: all registered.",
    )
    group.addoption(
        "--syncbench-tier",
        choices=["free", "starter", "professional", "enterprise", "oauth"],
        default="professional",
        help="HubSpot rate-limit tier of the mock account. Default: %(default)s.",
    )
    group.addoption(
        "--syncbench-redis-url",
        default=None,
        metavar="redis://HOST:PORT/DB",
        help="Give the solutions this real Redis database instead of an in-process "
        "fakeredis. Each case empties the database first, so use a spare one such as "
        "/15; a database with keys the suite did not write is rejected. "
        "Default: fakeredis.",
    )
    group.addoption(
        "--syncbench-isolate",
        choices=["auto", "always", "never"],
        default="auto",
        help="Run each case in a forked child process, so that the memory of its store is "
        "returned to the system when it ends: 'auto' for stores of 500,000 companies or "
        "more, 'always' or 'never'. Without fork, cases run in process. "
        "Default: %(default)s.",
    )
    group.addoption(
        "--syncbench-clock",
        choices=["virtual", "live"],
        default="virtual",
        help="'virtual' runs each case on a simulated clock that skips idle time "
        "(exact and repeatable); 'live' runs it on the wall clock, sped up by "
        "--syncbench-speedup, to watch it as it happens. Default: %(default)s.",
    )
    group.addoption(
        "--syncbench-speedup",
        type=parse_speedup,
        default=None,
        metavar="N",
        help="With --syncbench-clock=live, simulated seconds per wall second, from 1 to "
        f"1,000. Default: {DEFAULT_SPEEDUP:g}.",
    )
    group.addoption(
        "--syncbench-prometheus-port",
        type=parse_port,
        default=None,
        metavar="PORT",
        help="Serve Prometheus metrics of the running cases on PORT (0 picks a free "
        "port) for the whole session, at http://HOST:PORT/metrics.",
    )
    group.addoption(
        "--syncbench-prometheus-host",
        default=None,
        metavar="ADDRESS",
        help="Address the Prometheus endpoint of --syncbench-prometheus-port listens on. "
        f"Default: {DEFAULT_PROMETHEUS_HOST}; a Prometheus container on Linux needs the "
        "Docker bridge's, such as 172.17.0.1.",
    )
    group.addoption(
        "--syncbench-otlp-endpoint",
        default=None,
        metavar="URL",
        help="Send OpenTelemetry traces of the solutions' sync cycles, API calls, "
        "webhook batches and writes over OTLP/HTTP to this collector, for example "
        "http://127.0.0.1:4318 (/v1/traces is added). Default: no tracing.",
    )
    group.addoption(
        "--syncbench-baseline",
        default=None,
        metavar="FILE",
        help="pytest-benchmark JSON of an earlier --syncbench run to compare this run's "
        "cases with at the end; a --syncbench-fail gate that trips makes the run exit 1.",
    )
    group.addoption(
        "--syncbench-fail",
        action="append",
        default=[],
        metavar="METRIC:+N%",
        help="Fail the run when METRIC (a dotted path into extra_info['syncbench'], such "
        "as api_calls.total) rises by more than N percent (+N%%) or N units (+N) against "
        "--syncbench-baseline; -N%% and -N gate a drop. Repeatable; the same gates as "
        "syncbench compare --fail.",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "syncbench: a scenario test, run only with --syncbench."
    )
    _disable_looptime_fixture_hook(config.pluginmanager)
    config.stash[_RESULTS_KEY] = []
    config.stash[_SWEEPS_KEY] = []
    config.stash[_SCALE_OUTCOMES_KEY] = {}
    try:
        available = registry.discover(config.pluginmanager)
    except (TypeError, ImportError, AttributeError) as exc:
        raise pytest.UsageError(f"cannot load a sync solution: {exc}") from None
    # Discovered once: importing and checking every solution again per case is wasted work.
    config.stash[_REGISTRY_KEY] = available
    try:
        config.stash[_SOLUTIONS_KEY] = parse_solutions(
            config.getoption("syncbench_solutions"), list(available)
        )
    except ValueError as exc:
        raise pytest.UsageError(f"--syncbench-solutions: {exc}") from None
    config.stash[_GATES_KEY] = configure_gates(config)
    _check_option_pairs(config)
    _check_redis_url(config)
    endpoint = config.getoption("syncbench_otlp_endpoint")
    try:
        if endpoint is not None and config.getoption("syncbench"):
            traces_url(endpoint)
            check_reachable(endpoint)
        provider = tracer_provider_for(endpoint)
    except (ValueError, ConnectionError) as exc:
        raise pytest.UsageError(f"--syncbench-otlp-endpoint: {exc}") from None
    config.stash[_TRACER_PROVIDER_KEY] = provider
    if provider is not None:
        # Sends the spans still buffered when the session ends.
        config.add_cleanup(provider.shutdown)
    if config.getoption("syncbench"):
        _configure_storage(config)
        _configure_metrics(config)


def _check_redis_url(config: pytest.Config) -> None:
    """Reject a ``--syncbench-redis-url`` that is invalid or whose server fails PING."""
    url = config.getoption("syncbench_redis_url")
    if url is None:
        return
    try:
        validate_redis_url(url)
    except RedisUrlError as exc:
        raise pytest.UsageError(f"--syncbench-redis-url: {exc}") from None


def _check_option_pairs(config: pytest.Config) -> None:
    """Reject options that only apply together with another one that is missing."""
    if (
        config.getoption("syncbench_speedup") is not None
        and config.getoption("syncbench_clock") != "live"
    ):
        raise pytest.UsageError(
            "--syncbench-speedup applies only to the live clock: add "
            "--syncbench-clock=live, or drop the speedup"
        )
    port = config.getoption("syncbench_prometheus_port")
    if config.getoption("syncbench_prometheus_host") is not None and port is None:
        raise pytest.UsageError(
            "--syncbench-prometheus-host applies only to the endpoint of "
            "--syncbench-prometheus-port: add a port, or drop the host"
        )
    if port is not None and config.getoption("syncbench_isolate") == "always":
        raise pytest.UsageError(
            "--syncbench-isolate=always runs every case in a child process, whose "
            "metrics --syncbench-prometheus-port cannot serve: use "
            "--syncbench-isolate=auto (which keeps cases in process while the "
            "endpoint is on) or never"
        )


def speedup_of(config: pytest.Config) -> float:
    """Return the live clock's speedup, or 1.0 on the virtual clock."""
    if config.getoption("syncbench_clock") != "live":
        return 1.0
    speedup = config.getoption("syncbench_speedup")
    return DEFAULT_SPEEDUP if speedup is None else speedup


def _configure_metrics(config: pytest.Config) -> None:
    """Start the Prometheus endpoint when ``--syncbench-prometheus-port`` is given."""
    port = config.getoption("syncbench_prometheus_port")
    if port is None:
        return
    host = config.getoption("syncbench_prometheus_host") or DEFAULT_PROMETHEUS_HOST
    # An IPv6 address may come in brackets, as in a URL.
    host = host.removeprefix("[").removesuffix("]")
    try:
        server = MetricsServer(port, host)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if isinstance(exc, socket.gaierror):
            raise pytest.UsageError(
                f"--syncbench-prometheus-host={host}: not an address of this machine "
                f"({reason}); give an IP address such as 127.0.0.1 or ::1"
            ) from None
        raise pytest.UsageError(
            f"--syncbench-prometheus-port={port}: cannot listen on {host}:{port} "
            f"({reason}); choose a free port (0 for any free port), or "
            "an address of this machine with --syncbench-prometheus-host"
        ) from None
    config.stash[_METRICS_KEY] = server
    config.add_cleanup(server.close)


def case_observers(config: pytest.Config) -> tuple[CaseObserver, ...]:
    """Return the observers every case of this session reports to."""
    server = config.stash.get(_METRICS_KEY, None)
    return () if server is None else (server.observer,)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Print the endpoint's address under ``-q`` too, where the header is not shown."""
    config = session.config
    server = config.stash.get(_METRICS_KEY, None)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if server is not None and reporter is not None and config.getoption("verbose") < 0:
        reporter.write_line(f"syncbench: Prometheus metrics at {server.url}")


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = []
    if config.getoption("syncbench") and config.getoption("syncbench_clock") == "live":
        speedup = speedup_of(config)
        lines.append(
            f"syncbench: live clock, {speedup:g} simulated seconds per wall second"
        )
    server = config.stash.get(_METRICS_KEY, None)
    if server is not None:
        lines.append(f"syncbench: Prometheus metrics at {server.url}")
    return lines


def _configure_storage(config: pytest.Config) -> None:
    """Save results by default, in a storage folder of their own per scale and clock.

    Runs at different scales share test names, so one storage folder would let
    ``--benchmark-compare`` set a smoke run against a default one; a live run's figures
    depend on its speedup and the machine's load, so live runs get folders of their own
    (``smoke-live-60x``) too. The folder sits under
    the rootdir, so a run started from a subdirectory finds the same baseline. An explicit
    ``--benchmark-storage``, ``--benchmark-save`` or ``--benchmark-disable`` is respected.
    """
    option = config.option
    folder = config.getoption("syncbench_scale")
    if config.getoption("syncbench_clock") == "live":
        folder += f"-live-{speedup_of(config):g}x"
    if getattr(option, "benchmark_storage", None) == DEFAULT_BENCHMARK_STORAGE:
        option.benchmark_storage = f"file://{config.rootpath / '.benchmarks' / folder}"
    if not any(
        getattr(option, name, None)
        for name in ("benchmark_autosave", "benchmark_save", "benchmark_disable")
    ):
        from pytest_benchmark.utils import get_tag

        option.benchmark_autosave = get_tag()


def _disable_looptime_fixture_hook(pluginmanager: pytest.PytestPluginManager) -> None:
    """Unregister looptime's pytest plugin when pytest-asyncio is absent.

    The suite uses looptime's event loop directly, not its pytest integration. looptime
    0.9's fixture hook reads pytest-asyncio's plugin module on every fixture setup and fails
    with AttributeError when pytest-asyncio is not installed, so it cannot stay registered
    then. With pytest-asyncio installed it is left alone for the user's own tests.
    """
    if pluginmanager.get_plugin("asyncio") is None:
        plugin = pluginmanager.get_plugin("looptime_plugin")
        if plugin is not None:
            pluginmanager.unregister(plugin)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if CASE_FIXTURE not in metafunc.fixturenames:
        return
    names = metafunc.config.stash[_SOLUTIONS_KEY]
    metafunc.parametrize("syncbench_solution", names, ids=names)


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    enabled = config.getoption("syncbench")
    for item in items:
        if CASE_FIXTURE in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.syncbench)
            if not enabled:
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


class CaseRunner:
    """The scenario test's handle: ``run(scenario_name)`` runs and records one case."""

    def __init__(
        self, request: pytest.FixtureRequest, benchmark: Any, solution: str
    ) -> None:
        self._request = request
        self._benchmark = benchmark
        self.solution = solution
        self.outcome: CaseOutcome | None = None

    def run(self, scenario_name: str, **settings: Any) -> CaseOutcome:
        config = self._request.config
        scale = Scale(config.getoption("syncbench_scale"))
        spec = scenario(scenario_name, scale)
        solution_cls = config.stash[_REGISTRY_KEY][self.solution]
        setup = CaseSetup(
            spec=spec,
            solution_cls=solution_cls,
            seed=config.getoption("syncbench_seed"),
            tier=config.getoption("syncbench_tier"),
            settings=settings,
            progress=_progress_writer(config, f"{scenario_name}[{self.solution}]"),
            redis_url=config.getoption("syncbench_redis_url"),
            clock_mode=config.getoption("syncbench_clock"),
            speedup=speedup_of(config),
            observers=case_observers(config),
            tracer_provider=config.stash.get(_TRACER_PROVIDER_KEY, None),
        )
        try:
            outcome = run_case_as(setup, config.getoption("syncbench_isolate"))
        except IsolatedCaseError as exc:
            pytest.fail(
                f"{scenario_name}[{self.solution}] failed: {exc}", pytrace=False
            )
        self.outcome = outcome
        if scenario_name == "scale" and not settings:
            config.stash[_SCALE_OUTCOMES_KEY][self.solution] = outcome
        info = extra_info(outcome, scale.value, setup.tier)
        self._record(outcome, info)
        config.stash[_RESULTS_KEY].append(info)
        if outcome.status == "failed":
            pytest.fail(
                f"{scenario_name}[{self.solution}] failed: {outcome.error}",
                pytrace=False,
            )
        return outcome

    def sweep(self) -> dict[str, Any]:
        """Run the scale sweep of this solution and record it as this test's result.

        The record is stored even when points fail; the test then fails naming them.
        Returns ``extra_info["syncbench"]`` of the sweep.
        """
        config = self._request.config
        if config.getoption("syncbench_clock") == "live":
            pytest.skip(
                "the scale sweep runs only on the virtual clock: live, its points would "
                "take hours of wall time"
            )
        scale = Scale(config.getoption("syncbench_scale"))
        seed = config.getoption("syncbench_seed")
        tier = config.getoption("syncbench_tier")
        label = f"scale-sweep[{self.solution}]"
        result = run_sweep(
            plan_for(scale),
            config.stash[_REGISTRY_KEY][self.solution],
            seed,
            tier,
            progress=_progress_writer(config, label),
            point_progress=_progress_writer(config, label, every_s=0.0),
            runner=self._scale_case_or_run,
            redis_url=config.getoption("syncbench_redis_url"),
        )
        info = sweep_extra_info(result, self.solution, seed, scale.value, tier)
        benchmark = self._benchmark
        benchmark.extra_info[EXTRA_INFO_KEY] = info
        benchmark.group = info["scenario"]
        if not benchmark.disabled:
            # One sample per point: its p95 latency (its deadline when nothing arrived).
            benchmark._mode = "syncbench"
            stats = benchmark._make_stats(1)
            for sample in result.latency_samples():
                stats.update(sample)
        config.stash[_SWEEPS_KEY].append(info)
        if info["status"] == "failed":
            pytest.fail(f"{label} failed at {info['error']}", pytrace=False)
        return info

    def _scale_case_or_run(self, setup: CaseSetup) -> CaseOutcome:
        """Return this session's scale case of the solution if ``setup`` repeats it.

        The sweep's largest point is the scale scenario, so after ``test_scale`` it is
        not run a second time. Seed and tier are the session's in both.
        """
        cached = self._request.config.stash[_SCALE_OUTCOMES_KEY]
        outcome = cached.get(self.solution)
        if outcome is not None and outcome.spec == setup.spec and not setup.settings:
            # Handed over once; the sweep drops it after the point, freeing its memory.
            del cached[self.solution]
            return outcome
        config = self._request.config
        provider = config.stash.get(_TRACER_PROVIDER_KEY, None)
        if provider is not None:
            setup = dataclasses.replace(setup, tracer_provider=provider)
        return run_case_as(setup, config.getoption("syncbench_isolate"))

    def _record(self, outcome: CaseOutcome, info: dict[str, Any]) -> None:
        benchmark = self._benchmark
        benchmark.extra_info[EXTRA_INFO_KEY] = info
        benchmark.group = outcome.spec.name
        if benchmark.disabled:
            return
        # pytest-benchmark times a callable; here the samples are the simulated
        # change-to-destination latencies, so they are added to its statistics directly.
        # NOTE: this uses the fixture's private _make_stats and _mode of pytest-benchmark
        # 5.x (pinned below 6 in pyproject.toml).
        benchmark._mode = "syncbench"
        stats = benchmark._make_stats(1)
        # The samples include each undelivered change at its age when the run ended. Only
        # a case that measured no change at all has none; its one sample is the deadline,
        # the worst the case could measure, never a flattering zero.
        samples = outcome.latencies_s or [outcome.spec.deadline_s]
        for sample in samples:
            stats.update(sample)


@pytest.fixture
def syncbench_case(
    request: pytest.FixtureRequest, benchmark: Any, syncbench_solution: str
) -> Iterator[CaseRunner]:
    yield CaseRunner(request, benchmark, syncbench_solution)


def _progress_writer(config: pytest.Config, label: str, every_s: float = 5.0) -> Any:
    """Return a writer of progress lines, or None when output is quiet.

    It prints at most one line every ``every_s`` wall seconds, so short cases stay quiet.
    """
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or config.getoption("verbose") < 0:
        return None
    last = [0.0]

    def write(message: str) -> None:
        now = time.monotonic()
        if now - last[0] < every_s:
            return
        last[0] = now
        if capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(f"  {label} {message}")
        else:
            reporter.write_line(f"  {label} {message}")

    last[0] = time.monotonic()
    return write


def pytest_sessionfinish(session: pytest.Session) -> None:
    setup = session.config.stash.get(_GATES_KEY, None)
    if setup is None:
        return
    status, lines = evaluate_gates(setup, session.config.stash.get(_RESULTS_KEY, []))
    session.config.stash[_GATE_LINES_KEY] = lines
    if status and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# Before pytest-benchmark's own summary, which raises when a --benchmark-compare-fail gate
# trips and would otherwise cut this table from exactly the run that needs it.
@pytest.hookimpl(tryfirst=True)
def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    results = config.stash.get(_RESULTS_KEY, [])
    if results:
        terminalreporter.section("syncbench summary")
        for line in format_summary(results):
            terminalreporter.write_line(line)
        for line in solution_error_lines(results):
            terminalreporter.write_line(line, yellow=True)
        for line in live_lines(results):
            terminalreporter.write_line(line)
        if config.getoption("benchmark_disable", False):
            terminalreporter.write_line(
                "--benchmark-disable: these results were not saved and no JSON was "
                "written; drop the option to keep them."
            )
    sweeps = config.stash.get(_SWEEPS_KEY, [])
    if sweeps:
        terminalreporter.section("syncbench scale sweep: breaking points")
        for line in format_sweep_summary(sweeps):
            terminalreporter.write_line(line)
    gate_lines = config.stash.get(_GATE_LINES_KEY, [])
    if gate_lines:
        terminalreporter.section("syncbench gates")
        for line in gate_lines:
            terminalreporter.write_line(line)
