"""The report's charts, built from the dataset's cases."""

from __future__ import annotations

from pytest_syncbench.report.dataset import SWEEP_SCENARIO, Dataset, num
from pytest_syncbench.report.figures import Num, source
from pytest_syncbench.report.load import Case
from pytest_syncbench.report.svg import (
    Band,
    Box,
    Line,
    bar_chart,
    box_chart,
    line_chart,
)
from pytest_syncbench.report.timeline import disruption

MIB = 1024 * 1024


def _box(case: Case) -> Box | None:
    stats, latency = case.stats or {}, case.info.get("latency_s") or {}
    needed = [stats.get(k) for k in ("min", "q1", "median", "q3")]
    tail = [latency.get(k) for k in ("p95", "p99", "max")]
    if any(v is None for v in needed + tail) or not latency.get("count"):
        return None
    sources = tuple(
        [source(case.file, case.stats_path(k)) for k in ("min", "q1", "median", "q3")]
        + [
            source(case.file, case.path(f"latency_s.{k}"))
            for k in ("p95", "p99", "max")
        ]
    )
    low, q1, median, q3 = (float(v) for v in needed)
    p95, p99, high = (float(v) for v in tail)
    return Box(case.solution, low, q1, median, q3, p95, p99, high, sources)


def latency_plots(dataset: Dataset) -> list[str]:
    plots = []
    for scenario in dataset.scenarios:
        cases = [c for n in dataset.solutions if (c := dataset.case(scenario, n))]
        boxes = [b for c in cases if (b := _box(c)) is not None]
        if boxes:
            plots.append(
                box_chart(
                    f"latency-{scenario}",
                    f"Latency distribution, {scenario}",
                    boxes,
                    "seconds (log scale)",
                )
            )
    return plots


def _series_line(case: Case, name: str) -> Line | None:
    series = case.info.get("timeseries") or {}
    times, values = series.get("t_s") or [], series.get(name) or []
    if not times or len(times) != len(values):
        return None
    return Line(
        case.solution,
        [t / 60 for t in times],
        values,
        source(case.file, case.path(f"timeseries.{name}")),
    )


def calls_plots(dataset: Dataset) -> list[str]:
    plots = []
    for scenario in dataset.scenarios:
        cases = [c for n in dataset.solutions if (c := dataset.case(scenario, n))]
        lines = [line for c in cases if (line := _series_line(c, "api_calls"))]
        if lines:
            plots.append(
                line_chart(
                    f"calls-{scenario}",
                    f"HubSpot API calls over time, {scenario}",
                    lines,
                    "simulated minutes",
                    "cumulative calls",
                )
            )
    return plots


def backlog_plots(dataset: Dataset) -> list[str]:
    plots = []
    for scenario in ("outage", "burst"):
        cases = [c for n in dataset.solutions if (c := dataset.case(scenario, n))]
        lines = [line for c in cases if (line := _series_line(c, "pending_changes"))]
        if not lines:
            continue
        window = disruption(cases[0])
        bands = (
            [Band(window.start_s / 60, window.end_s / 60, window.label)]
            if window
            else []
        )
        plots.append(
            line_chart(
                f"backlog-{scenario}",
                f"Backlog (changes not yet in Databox) through the {scenario}",
                lines,
                "simulated minutes",
                "pending changes",
                bands,
            )
        )
    return plots


def sweep_plots(dataset: Dataset) -> list[str]:
    """Return p95 latency and API calls against company count, or nothing without a sweep."""
    if len({c.info.get("companies") for c in dataset.sweep}) < 2:
        return []
    plots = []
    for field_path, label, log_y in (
        ("latency_s.p95", "p95 latency, seconds (log scale)", True),
        ("api_calls.total", "HubSpot API calls", False),
    ):
        lines = []
        for name in dataset.solutions:
            runs = [c for c in dataset.sweep if c.solution == name]
            if not runs:
                continue
            values = [num(c, field_path).value for c in runs]
            lines.append(
                Line(
                    name,
                    [float(c.info.get("companies") or 0) for c in runs],
                    values,
                    ";".join(source(c.file, c.path(field_path)) for c in runs),
                )
            )
        plots.append(
            line_chart(
                f"sweep-{field_path.replace('.', '-')}",
                f"Scale sweep: {label.split(',')[0]} by company count ({SWEEP_SCENARIO})",
                lines,
                "companies",
                label,
                log_y=log_y,
            )
        )
    return plots


def resource_plots(dataset: Dataset) -> list[str]:
    cpu, rss = [], []
    for name in dataset.solutions:
        cases = [dataset.case(s, name) for s in dataset.scenarios]
        cpu.append((name, [num(c, "cpu_s") if c else None for c in cases]))
        rss.append((name, [_mib(c) if c else None for c in cases]))
    return [
        bar_chart(
            "resources-cpu",
            "Solution CPU seconds per scenario",
            dataset.scenarios,
            cpu,
            "CPU seconds",
        ),
        bar_chart(
            "resources-rss",
            "Peak resident memory per scenario (whole process)",
            dataset.scenarios,
            rss,
            "MiB",
        ),
    ]


def _mib(case: Case) -> Num:
    value = num(case, "peak_rss_bytes")
    if value.value is None:
        return value
    return Num(value.value / MIB, value.sources, "mib", "MiB")
