"""``syncbench compare``: set two saved runs side by side and fail on regressions.

Both files are pytest-benchmark JSON (from ``--benchmark-json`` or saved under
``.benchmarks/``). Cases are matched by scenario and solution, and each ``--fail`` gate
bounds how much one metric of ``extra_info["syncbench"]`` may worsen from BASE to NEW.
A case must have run on the same clock in both runs (virtual, or live at the same
speedup), because live figures include processing time multiplied by the speedup.
Exit status: 0 when no gate tripped, 1 when one did, 2 when the input is unusable.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_syncbench.jsonfile import read_json
from pytest_syncbench.report.clock import ClockError, case_clock
from pytest_syncbench.results import EXTRA_INFO_KEY

DEFAULT_METRICS = (
    "api_calls.total",
    "latency_s.p50",
    "latency_s.p95",
    "data_loss",
    "consistency.missing",
    "consistency.stale",
    "consistency.ghost",
    "cpu_s",
)
# Runs that differ in any of these fields are not comparable, because scale and seed
# change the workload, tier changes the rate limits and schema changes field meanings.
RUN_IDENTITY_FIELDS = ("scale", "schema", "seed", "tier")
GATE_FORM = "METRIC:+N% or METRIC:+N (-N% or -N where a drop is worse)"
_GATE_PATTERN = re.compile(r"^(?P<sign>[+-])(?P<amount>\d+(?:\.\d+)?)(?P<percent>%?)$")
_INPUT_HINT = (
    "pass a JSON file written by pytest --benchmark-json or saved under .benchmarks/"
)

CaseKey = tuple[str, str]
Number = int | float


class CompareError(Exception):
    """Error for unusable input, whose message names the file or metric and the fix."""


@dataclass(frozen=True)
class Gate:
    """The largest worsening of one metric that passes.

    ``limit`` is in percent of the BASE value when ``relative``, else in the metric's
    unit. ``drop_is_worse`` gates a decrease (throughput) instead of an increase.
    """

    metric: str
    limit: float
    relative: bool
    drop_is_worse: bool = False

    @property
    def text(self) -> str:
        sign = "-" if self.drop_is_worse else "+"
        unit = "%" if self.relative else ""
        return f"{sign}{_format_number(self.limit)}{unit}"


@dataclass(frozen=True)
class SavedRun:
    """The syncbench cases of one pytest-benchmark JSON file, in file order."""

    path: Path
    cases: dict[CaseKey, dict[str, Any]]


@dataclass(frozen=True)
class MetricResult:
    """One table cell: a metric's BASE and NEW values and, if a gate tripped, why."""

    cell: str
    failure: str | None = None


@dataclass
class CaseResult:
    """The comparison of one case, with ``failures`` empty unless it regressed."""

    key: CaseKey
    cells: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    tripped_names: list[str] = field(default_factory=list)
    only_in_new: bool = False

    @property
    def label(self) -> str:
        return "/".join(self.key)

    @property
    def verdict(self) -> str:
        if self.failures:
            return "REGRESSED: " + "; ".join(self.failures)
        return "new case, not in BASE" if self.only_in_new else "ok"


# Gates


def parse_gate(text: str) -> Gate:
    """Parse a ``--fail`` value such as ``api_calls.total:+5%`` or ``data_loss:+0``."""
    metric, separator, threshold = text.rpartition(":")
    match = _GATE_PATTERN.match(threshold.strip())
    if not separator or not metric.strip() or match is None:
        raise CompareError(f"invalid --fail value {text!r}: expected {GATE_FORM}")
    return Gate(
        metric=metric.strip(),
        limit=float(match["amount"]),
        relative=match["percent"] == "%",
        drop_is_worse=match["sign"] == "-",
    )


def _exceeds(gate: Gate, base: Number, new: Number) -> bool:
    worsening = base - new if gate.drop_is_worse else new - base
    if gate.relative:
        worsening, allowed = worsening * 100, gate.limit * abs(base)
    else:
        allowed = gate.limit
    # Saved values are rounded decimals (0.3 -> 0.33 is +10.000000000000009% in binary
    # floating point), so a change within rounding error of the limit is at the limit,
    # which passes.
    at_limit = math.isclose(worsening, allowed, rel_tol=1e-9, abs_tol=1e-12)
    return worsening > allowed and not at_limit


def _worsened(gate: Gate, base: Number, new: Number) -> bool:
    return new < base if gate.drop_is_worse else new > base


# Loading


def _read_json(path: Path) -> Any:
    return read_json(path, CompareError, _INPUT_HINT)


def _benchmarks(path: Path, document: Any) -> list[Any]:
    benchmarks = document.get("benchmarks") if isinstance(document, dict) else None
    if not isinstance(benchmarks, list):
        raise CompareError(
            f"{path}: not pytest-benchmark JSON (expected an object with a "
            f"'benchmarks' list); {_INPUT_HINT}"
        )
    return benchmarks


def _case_key(path: Path, benchmark: dict[str, Any], info: Any) -> CaseKey:
    name = benchmark.get("fullname") or benchmark.get("name") or "?"
    if not isinstance(info, dict):
        raise CompareError(
            f"{path}: extra_info['syncbench'] of {name} is not an object"
        )
    scenario, solution = info.get("scenario"), info.get("solution")
    if not isinstance(scenario, str) or not isinstance(solution, str):
        raise CompareError(
            f"{path}: extra_info['syncbench'] of {name} has no scenario or solution name"
        )
    try:
        case_clock(info)
    except ClockError as error:
        raise CompareError(
            f"{path}: case {scenario}/{solution}: {error}; correct the field or rerun "
            "pytest --syncbench"
        ) from None
    return scenario, solution


def _syncbench_cases(
    path: Path, benchmarks: list[Any]
) -> dict[CaseKey, dict[str, Any]]:
    cases: dict[CaseKey, dict[str, Any]] = {}
    for benchmark in benchmarks:
        extra = benchmark.get("extra_info") if isinstance(benchmark, dict) else None
        # Benchmarks of other plugins or of the suite itself may share the file.
        if not isinstance(extra, dict) or EXTRA_INFO_KEY not in extra:
            continue
        key = _case_key(path, benchmark, extra[EXTRA_INFO_KEY])
        if key in cases:
            raise CompareError(
                f"{path}: case {'/'.join(key)} appears more than once, so it cannot be "
                "matched; save runs that run each scenario once per solution"
            )
        cases[key] = extra[EXTRA_INFO_KEY]
    if not cases:
        raise CompareError(
            f"{path}: no benchmark has extra_info['syncbench']; "
            "save the results of a pytest --syncbench run"
        )
    return cases


def load_run(path: Path) -> SavedRun:
    """Read the syncbench cases of a pytest-benchmark JSON file, or raise CompareError."""
    benchmarks = _benchmarks(path, _read_json(path))
    return SavedRun(path=path, cases=_syncbench_cases(path, benchmarks))


# Checks across the two runs


def _identity_values(run: SavedRun, name: str) -> list[Any]:
    values = {json.dumps(info.get(name)) for info in run.cases.values()}
    return [json.loads(value) for value in sorted(values)]


def run_mismatches(base: SavedRun, new: SavedRun) -> list[str]:
    """Describe each of scale, schema, seed and tier whose values differ between runs."""
    mismatches = []
    for name in RUN_IDENTITY_FIELDS:
        base_values = _identity_values(base, name)
        new_values = _identity_values(new, name)
        if base_values != new_values:
            mismatches.append(
                f"{name} {_join_values(base_values)} vs {_join_values(new_values)}"
            )
    return mismatches


def clock_mismatches(base: SavedRun, new: SavedRun) -> list[str]:
    """Describe each case of both runs whose clock (mode, or live speedup) differs."""
    mismatches = []
    for key, base_info in base.cases.items():
        new_info = new.cases.get(key)
        if new_info is None:
            continue
        base_clock, new_clock = case_clock(base_info), case_clock(new_info)
        if base_clock != new_clock:
            mismatches.append(
                f"case {'/'.join(key)} ran on the {base_clock.label} clock in "
                f"{base.path} but on the {new_clock.label} clock in {new.path}"
            )
    return mismatches


def check_clocks(base: SavedRun, new: SavedRun) -> None:
    """Raise CompareError naming every case whose clock differs between the runs."""
    mismatches = clock_mismatches(base, new)
    if mismatches:
        raise CompareError(
            f"{'; '.join(mismatches)}; live figures include processing time "
            "multiplied by the speedup, so compare runs of the same clock and speedup "
            "(--allow-mismatch does not apply)"
        )


def _join_values(values: list[Any]) -> str:
    return ",".join(str(value) for value in values)


_ABSENT = object()


def lookup(info: dict[str, Any], metric: str) -> Any:
    """Return the value at a dotted path such as ``latency_s.p95``, or ``_ABSENT``."""
    value: Any = info
    for part in metric.split("."):
        if not isinstance(value, dict) or part not in value:
            return _ABSENT
        value = value[part]
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    """Return whether ``value`` is an int or float other than NaN and infinity."""
    return _is_number(value) and math.isfinite(value)


def check_metric(run: SavedRun, metric: str) -> None:
    """Raise CompareError unless ``metric`` names a number (or null) in the first case."""
    first = next(iter(run.cases.values()))
    value = lookup(first, metric)
    if value is _ABSENT:
        raise CompareError(
            f"unknown metric {metric!r}: not a field of extra_info['syncbench'] in "
            f"{run.path}; use a dotted path such as api_calls.total or latency_s.p95 "
            "(fields are listed in docs/metrics.md)"
        )
    if value is not None and not _is_number(value):
        inside = numeric_paths(value, metric) if isinstance(value, dict) else []
        if inside:
            hint = f"name one of its numeric fields, such as {', '.join(inside[:3])}"
        else:
            examples = ", ".join(numeric_paths(first, "")[:3])
            hint = f"name a numeric field such as {examples}"
        raise CompareError(f"metric {metric!r} is not a number in {run.path}; {hint}")


def numeric_paths(value: Any, prefix: str) -> list[str]:
    """Return the dotted paths below ``prefix`` whose values are numbers, in order."""
    if _is_number(value):
        return [prefix] if prefix else []
    if not isinstance(value, dict):
        return []
    found = []
    for key, item in value.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        found += numeric_paths(item, path)
    return found


# Evaluation


def _numeric_value(
    path: Path, info: dict[str, Any], metric: str, label: str
) -> Number | None:
    value = lookup(info, metric)
    # A field missing from one case (another schema, under --allow-mismatch) is
    # treated like a null one.
    if value is _ABSENT or value is None:
        return None
    if not _is_number(value):
        raise CompareError(
            f"{path}: metric {metric!r} of case {label} is {value!r}, not a number"
        )
    if not math.isfinite(value):
        # NaN compares false with every limit and infinity makes every change
        # infinite, so no gate could judge the case.
        raise CompareError(
            f"{path}: metric {metric!r} of case {label} is {value!r}; expected a "
            "finite number or null, so rerun the case or correct the file"
        )
    return value


def check_values(run: SavedRun, columns: Sequence[Column]) -> None:
    """Raise CompareError if a case of ``run`` has a non-number or non-finite metric."""
    for key, info in run.cases.items():
        for column in columns:
            _numeric_value(run.path, info, column.metric, "/".join(key))


def _format_number(value: Number) -> str:
    if isinstance(value, float):
        rounded = round(value, 6)
        return str(int(rounded)) if rounded.is_integer() else repr(rounded)
    return str(value)


def _format_change(base: Number, new: Number, relative: bool) -> str:
    delta = new - base
    if relative and base != 0:
        return f"{delta * 100 / abs(base):+.1f}%"
    text = _format_number(delta)
    return text if delta < 0 else f"+{text}"


def _null_result(
    metric: str, gate: Gate | None, base: Number | None, new: Number | None
) -> MetricResult:
    if base is None and new is None:
        return MetricResult("n/a")
    base_text = "null" if base is None else _format_number(base)
    new_text = "null" if new is None else _format_number(new)
    cell = f"{base_text} -> {new_text} (n/a)"
    # A value that disappears (no latency because nothing was delivered) is the worst
    # outcome, not a missing measurement.
    if gate is not None and base is not None:
        return MetricResult(cell, f"{metric} was {base_text} in BASE, null in NEW")
    return MetricResult(cell)


def evaluate(
    metric: str, gate: Gate | None, base: Number | None, new: Number | None
) -> MetricResult:
    """Compare one metric of one case, against ``gate`` if one is given."""
    if base is None or new is None:
        return _null_result(metric, gate, base, new)
    relative = gate.relative if gate is not None else True
    change = _format_change(base, new, relative)
    values = f"{_format_number(base)} -> {_format_number(new)}"
    if gate is None:
        return MetricResult(f"{values} ({change})")
    if gate.relative and base == 0:
        # No percentage of 0 exists, so a relative gate lets no worsening from 0 pass.
        cell = f"{values} ({change}, base 0)"
        if _worsened(gate, base, new):
            failure = (
                f"{metric} {change} from a base of 0, which no relative gate allows"
            )
            return MetricResult(cell, failure)
        return MetricResult(cell)
    cell = f"{values} ({change})"
    if _exceeds(gate, base, new):
        return MetricResult(cell, f"{metric} {change} exceeds {gate.text}")
    return MetricResult(cell)


@dataclass(frozen=True)
class Column:
    """One metric column of the table, gated or shown for information."""

    metric: str
    gate: Gate | None = None

    @property
    def header(self) -> str:
        return f"{self.metric} ({self.gate.text})" if self.gate else self.metric


def _first_line(text: Any) -> str:
    lines = str(text).strip().splitlines()
    return lines[0] if lines else "no error message"


def _compare_case(
    key: CaseKey, base: SavedRun, new: SavedRun, columns: list[Column]
) -> CaseResult:
    result = CaseResult(key)
    label = "/".join(key)
    base_info, new_info = base.cases[key], new.cases[key]
    for column in columns:
        base_value = _numeric_value(base.path, base_info, column.metric, label)
        new_value = _numeric_value(new.path, new_info, column.metric, label)
        metric_result = evaluate(column.metric, column.gate, base_value, new_value)
        result.cells.append(metric_result.cell)
        if metric_result.failure:
            result.failures.append(metric_result.failure)
            result.tripped_names.append(column.metric)
    if new_info.get("status") == "failed":
        result.failures.append(f"failed: {_first_line(new_info.get('error'))}")
        result.tripped_names.append("status failed")
    return result


def _missing_case(key: CaseKey, base: SavedRun, columns: list[Column]) -> CaseResult:
    label = "/".join(key)
    cells = []
    for column in columns:
        value = _numeric_value(base.path, base.cases[key], column.metric, label)
        cells.append(f"{'null' if value is None else _format_number(value)} -> missing")
    return CaseResult(
        key, cells, failures=["missing in NEW"], tripped_names=["missing in NEW"]
    )


def compare_runs(
    base: SavedRun, new: SavedRun, columns: list[Column]
) -> list[CaseResult]:
    """Compare every case of BASE with NEW, then list the cases only NEW has.

    Raises CompareError when a case ran on different clocks in the two runs.
    """
    check_clocks(base, new)
    results = []
    for key in base.cases:
        if key in new.cases:
            results.append(_compare_case(key, base, new, columns))
        else:
            results.append(_missing_case(key, base, columns))
    for key in new.cases:
        if key in base.cases:
            continue
        results.append(
            CaseResult(key, cells=["(only in NEW)"] * len(columns), only_in_new=True)
        )
    return results


# Output


def format_table(columns: Sequence[Column], results: Iterable[CaseResult]) -> list[str]:
    """Return the lines of a table with one row per case, padded to aligned columns."""
    header = ["scenario", "solution", *(c.header for c in columns), "verdict"]
    rows = [[*r.key, *r.cells, r.verdict] for r in results]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    rule = ["-" * width for width in widths]
    return [
        "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in [header, rule, *rows]
    ]


def _cases(count: int) -> str:
    return f"{count} case" if count == 1 else f"{count} cases"


def closing_line(results: Sequence[CaseResult], gated: bool) -> str:
    """Summarize the verdict: the regressed cases with their metrics, or that none did."""
    regressed = [r for r in results if r.failures]
    if regressed:
        listed = "; ".join(
            f"{r.label}: {', '.join(r.tripped_names)}" for r in regressed
        )
        return f"REGRESSED: {len(regressed)} of {_cases(len(results))}: {listed}"
    if not gated:
        return (
            f"ok: {_cases(len(results))} compared; no --fail gate given "
            "(add --fail METRIC:+N% to gate a metric)"
        )
    return f"ok: no gate tripped in {_cases(len(results))}"


def build_columns(gates: Sequence[Gate]) -> list[Column]:
    if gates:
        return [Column(gate.metric, gate) for gate in gates]
    return [Column(metric) for metric in DEFAULT_METRICS]


def compare_files(
    base_path: Path,
    new_path: Path,
    gate_texts: Sequence[str],
    allow_mismatch: bool = False,
) -> tuple[int, list[str]]:
    """Compare two saved runs; return the exit status and the lines to print.

    Raises CompareError on unusable input, including runs that differ in scale, schema,
    seed or tier unless ``allow_mismatch`` is set, and cases that ran on different
    clocks whether or not it is set.
    """
    gates = [parse_gate(text) for text in gate_texts]
    base, new = load_run(base_path), load_run(new_path)
    columns = build_columns(gates)
    for column in columns:
        check_metric(base, column.metric)
    check_values(base, columns)
    check_values(new, columns)
    check_clocks(base, new)
    lines = []
    mismatches = run_mismatches(base, new)
    if mismatches and not allow_mismatch:
        raise CompareError(
            f"{base_path} and {new_path} are different runs ({'; '.join(mismatches)}); "
            "compare runs of the same scale, schema, seed and tier, "
            "or pass --allow-mismatch to compare them anyway"
        )
    if mismatches:
        lines.append(
            f"note: compared despite {'; '.join(mismatches)} (--allow-mismatch)"
        )
    results = compare_runs(base, new, columns)
    lines += format_table(columns, results)
    lines.append(closing_line(results, gated=bool(gates)))
    status = 1 if any(r.failures for r in results) else 0
    return status, lines


# Command line


def run(args: argparse.Namespace) -> int:
    try:
        status, lines = compare_files(
            args.base, args.new, args.fail, args.allow_mismatch
        )
    except CompareError as error:
        print(f"syncbench compare: error: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return status


def add_parser(commands: Any) -> None:
    """Add the ``compare`` command to the ``syncbench`` subcommands."""
    parser = commands.add_parser(
        "compare",
        help="compare two saved runs and fail on regressions",
        description=(
            "Match the cases of two pytest-benchmark JSON files by scenario and "
            "solution, print BASE -> NEW for each metric and exit 1 when a --fail "
            "gate trips, a case failed in NEW or a case of BASE is missing in NEW. "
            "Exit 2 on unusable input, including a case that ran on a different clock "
            "(virtual, or live at another speedup) in BASE and NEW."
        ),
    )
    parser.add_argument("base", type=Path, metavar="BASE.json", help="the baseline run")
    parser.add_argument("new", type=Path, metavar="NEW.json", help="the run to check")
    parser.add_argument(
        "--fail",
        action="append",
        default=[],
        metavar="METRIC:+N%",
        help=(
            "fail when METRIC (a dotted path into extra_info['syncbench'], such as "
            "api_calls.total) rises by more than N percent (+N%%) or N units (+N); "
            "-N%% and -N gate a drop instead. Repeatable. Without it a default set "
            "of metrics is shown and no metric gates the exit status."
        ),
    )
    parser.add_argument(
        "--allow-mismatch",
        action="store_true",
        help="compare runs even when their scale, schema, seed or tier differ",
    )
    parser.set_defaults(run=run)
