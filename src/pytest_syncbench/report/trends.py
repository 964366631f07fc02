"""Historical trends: each headline metric across the runs saved in a storage folder.

pytest-benchmark saves each run as ``<storage>/<machine>/NNNN_<commit>_<date>.json``.
Every JSON file under the folder that contains syncbench results is one run; runs are
ordered by their ``datetime`` field, then by path. Files of other benchmarks are skipped.
Cases are grouped by scenario, scale and clock, so runs on the virtual clock and on the
live clock at each speedup form separate charts and rows, never one series.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

from pytest_syncbench.report.clock import Clock, join_labels
from pytest_syncbench.report.dataset import SOLUTION_ORDER, field_value
from pytest_syncbench.report.figures import format_value
from pytest_syncbench.report.html import STYLE
from pytest_syncbench.report.load import (
    Case,
    InvalidCaseError,
    ReportError,
    ResultsFile,
    parse_results,
    read_json,
)
from pytest_syncbench.report.svg import Line, line_chart
from pytest_syncbench.scenarios import SCENARIO_NAMES

HEADLINE_METRICS = (
    ("api_calls.total", "HubSpot API calls"),
    ("latency_s.p95", "p95 latency, simulated s"),
    ("data_loss", "changes never delivered"),
    ("throughput_per_min", "changes per simulated minute"),
    ("cpu_s", "solution CPU seconds"),
)


@dataclass(frozen=True)
class Run:
    """One saved run in the trend, numbered by its place in time order."""

    number: int
    results: ResultsFile

    @property
    def label(self) -> str:
        commit = str(self.results.commit.get("id") or "unknown")[:8]
        return f"#{self.number} {commit} {self.results.datetime[:19]}"


def load_runs(folder: Path) -> list[Run]:
    if not folder.is_dir():
        raise ReportError(
            f"{folder}: not a folder; pass a pytest-benchmark storage folder such as "
            ".benchmarks/default"
        )
    loaded = []
    for path in sorted(folder.rglob("*.json")):
        document = read_json(path)
        try:
            loaded.append(parse_results(0, path, document))
        except InvalidCaseError:
            raise
        except ReportError:
            # Runs of other benchmarks may share the storage folder.
            continue
    if not loaded:
        raise ReportError(
            f"{folder}: no saved run with syncbench results under it; run "
            "pytest --syncbench (which saves under .benchmarks/<scale>/) first"
        )
    loaded.sort(key=lambda r: (r.datetime, str(r.path)))
    return [Run(n, results) for n, results in enumerate(loaded)]


Group = tuple[str, str, Clock]


def _groups(runs: list[Run]) -> list[Group]:
    """Return each (scenario, scale, clock) found, by scale, clock, then scenario."""
    found = {(c.scenario, c.scale, c.clock) for r in runs for c in r.results.cases}
    order = {name: i for i, name in enumerate(SCENARIO_NAMES)}
    return sorted(
        found,
        key=lambda k: (k[1], k[2].live, k[2].speedup or 0, order.get(k[0], 99), k[0]),
    )


def _group_title(scenario: str, scale: str, clock: Clock) -> str:
    return (
        f"{scenario} ({scale}, {clock.label})"
        if clock.live
        else f"{scenario} ({scale})"
    )


def _scenario_cell(scenario: str, clock: Clock) -> str:
    return f"{scenario} ({clock.label})" if clock.live else scenario


def _chart_id(scenario: str, scale: str, clock: Clock, metric: str) -> str:
    # Virtual charts keep the ids they had before cases carried a clock.
    prefix = f"trend-{scale}-{clock.slug}" if clock.live else f"trend-{scale}"
    return f"{prefix}-{scenario}-{metric.replace('.', '-')}"


def _solutions(runs: list[Run]) -> list[str]:
    names = {c.solution for r in runs for c in r.results.cases}
    return [n for n in SOLUTION_ORDER if n in names] + sorted(
        names - set(SOLUTION_ORDER)
    )


def _case(run: Run, group: Group, solution: str) -> Case | None:
    for case in run.results.cases:
        if (
            case.scenario,
            case.scale,
            case.clock,
        ) == group and case.solution == solution:
            return case
    return None


def _value(case: Case, metric: str) -> float | None:
    value = field_value(case.info, metric)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _series(runs: list[Run], group: Group, solution: str) -> list[tuple[Run, Case]]:
    """Return the runs that contain the case, with the case, in time order.

    A run saved by ``-k`` or for some solutions only lacks most cases, so it is left
    out of those cases' series instead of showing as a missing value.
    """
    found = []
    for run in runs:
        case = _case(run, group, solution)
        if case is not None:
            found.append((run, case))
    return found


def _charts(runs: list[Run]) -> list[str]:
    charts = []
    for group in _groups(runs):
        scenario, scale, clock = group
        for metric, label in HEADLINE_METRICS:
            lines = []
            for solution in _solutions(runs):
                series = _series(runs, group, solution)
                values = [_value(case, metric) for _, case in series]
                if all(v is None for v in values):
                    continue
                lines.append(
                    Line(
                        f"{solution} ({len(series)} of {len(runs)} runs)",
                        [float(run.number) for run, _ in series],
                        values,
                        f"{metric} of {scenario}/{solution} in the {len(series)} of "
                        f"{len(runs)} runs that contain it",
                    )
                )
            if lines:
                charts.append(
                    line_chart(
                        _chart_id(scenario, scale, clock, metric),
                        f"{_group_title(scenario, scale, clock)}: {label}",
                        lines,
                        "run number",
                        label,
                        integer_x=True,
                    )
                )
    return charts


def _runs_cell(series: list[tuple[Run, Case]]) -> str:
    first, last = series[0][0].number, series[-1][0].number
    if first == last:
        return f"1 (#{first})"
    return f"{len(series)} (#{first} to #{last})"


def _markdown(runs: list[Run]) -> str:
    first, last = runs[0], runs[-1]
    lines = [
        f"## syncbench trend: {len(runs)} runs, {first.label} to {last.label}",
        "",
        "Each row compares the first and the last run that contain its case on the "
        "same clock (live cases name their speedup after the scenario); runs column: "
        "how many runs contain it.",
        "",
        "| scenario | solution | runs | "
        + " | ".join(m for m, _ in HEADLINE_METRICS)
        + " |",
        "| --- | --- | --- |" + " --- |" * len(HEADLINE_METRICS),
    ]
    for group in _groups(runs):
        scenario, _, clock = group
        for solution in _solutions(runs):
            series = _series(runs, group, solution)
            if not series:
                continue
            oldest, newest = series[0][1], series[-1][1]
            cells = []
            for metric, _ in HEADLINE_METRICS:
                old, new = _value(oldest, metric), _value(newest, metric)
                cells.append(f"{format_value(old)} -> {format_value(new)}")
            if all(c == "n/a -> n/a" for c in cells):
                continue
            row = [
                _scenario_cell(scenario, clock),
                solution,
                _runs_cell(series),
                *cells,
            ]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def render_trends(folder: Path, form: str) -> str:
    """Render the trend of the runs under ``folder`` as ``html`` or ``markdown``."""
    runs = load_runs(folder)
    if form == "markdown":
        return _markdown(runs)
    listing = "".join(
        f"<tr><td>{r.number}</td><td>{escape(str(r.results.commit.get('id', '')))}</td>"
        f"<td>{escape(r.results.datetime)}</td>"
        f"<td>{escape(join_labels(r.results.clocks))}</td>"
        f"<td>{escape(str(r.results.path))}</td></tr>"
        for r in runs
    )
    charts = "".join(_charts(runs))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>syncbench trend</title><style>{STYLE}</style></head><body>"
        f"<h1>syncbench trend: {len(runs)} saved runs in {escape(str(folder))}</h1>"
        "<p>Runs of different clocks or speedups are plotted in separate charts.</p>"
        "<table><thead><tr><th>run</th><th>commit</th><th>saved</th><th>clock</th>"
        "<th>file</th></tr>"
        f"</thead><tbody>{listing}</tbody></table>"
        f'<div class="plots">{charts}</div></body></html>\n'
    )
