"""The cases a report is built from, gathered from one or more results files.

The scale of the first file's first case is the report's scale: cases at that scale from
every file answer the questions, and a later file's case replaces an earlier one of the
same scenario and solution (the last one given wins, and ``Dataset.duplicates`` lists
each replacement). Cases of the ``scale`` scenario at any scale also form the scale
sweep, which needs at least two company counts. Every case must have run on the same
clock: virtual, or live at one speedup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pytest_syncbench.report.clock import VIRTUAL_CLOCK, Clock, join_labels
from pytest_syncbench.report.figures import Num, source
from pytest_syncbench.report.load import Case, ReportError, ResultsFile
from pytest_syncbench.report.schema import SWEEP_RECORD_SCENARIO
from pytest_syncbench.scenarios import SCENARIO_NAMES

SOLUTION_ORDER = ("direct-polling", "webhook-sync", "hybrid-cdc", "native-integration")
SWEEP_SCENARIO = "scale"


@dataclass(frozen=True)
class Duplicate:
    """A case given more than once: ``used`` is the one the report keeps (the last)."""

    label: str
    used: Case
    dropped: Case


@dataclass
class Dataset:
    """The cases of a report, in scenario and solution order."""

    files: list[ResultsFile]
    scale: str
    cases: dict[tuple[str, str], Case]
    scenarios: list[str]
    solutions: list[str]
    sweep: list[Case]
    notes: list[str] = field(default_factory=list)
    # Scale-sweep records (breaking points and degradation curves), one per solution
    # and scale, in solution order.
    breaking: list[Case] = field(default_factory=list)
    clock: Clock = VIRTUAL_CLOCK
    duplicates: list[Duplicate] = field(default_factory=list)

    def case(self, scenario: str, solution: str) -> Case | None:
        return self.cases.get((scenario, solution))

    def document(self, file: int) -> dict[str, Any]:
        return self.files[file].document


def _order(names: set[str], preferred: tuple[str, ...]) -> list[str]:
    known = [n for n in preferred if n in names]
    return known + sorted(names - set(preferred))


def _report_scale(files: list[ResultsFile]) -> str:
    """Return the scale of the first case that is not a scale-sweep record."""
    for results in files:
        for case in results.cases:
            if case.scenario != SWEEP_RECORD_SCENARIO:
                return case.scale
    return files[0].cases[0].scale


def _by_solution(
    cases: Iterable[Case], solutions: list[str], then: Callable[[Case], Any]
) -> list[Case]:
    return sorted(
        cases,
        key=lambda c: (
            solutions.index(c.solution) if c.solution in solutions else 99,
            then(c),
        ),
    )


def check_one_clock(files: list[ResultsFile]) -> Clock:
    """Return the clock shared by every case, or raise ReportError naming each file's clocks."""
    clocks = {clock for results in files for clock in results.clocks}
    if len(clocks) == 1:
        return clocks.pop()
    listed = "; ".join(f"{r.path} ({join_labels(r.clocks)})" for r in files)
    raise ReportError(
        f"results of different clocks cannot be reported together: {listed}; live "
        "figures include processing time multiplied by the speedup, so run syncbench "
        "report separately for each clock and speedup"
    )


def _keep(
    store: dict[Any, Case], key: Any, case: Case, label: str, found: list[Duplicate]
) -> None:
    """Store ``case`` under ``key``, recording the case it replaces."""
    earlier = store.get(key)
    if earlier is not None:
        found.append(Duplicate(label, case, earlier))
    store[key] = case


def build_dataset(files: list[ResultsFile]) -> Dataset:
    clock = check_one_clock(files)
    scale = _report_scale(files)
    cases: dict[tuple[str, str], Case] = {}
    notes = []
    duplicates: list[Duplicate] = []
    sweep: dict[tuple[str, int], Case] = {}
    breaking: dict[tuple[str, str], Case] = {}
    other: set[str] = set()
    for results in files:
        for case in results.cases:
            key = (case.scenario, case.solution)
            label = f"{case.scenario}/{case.solution} at scale {case.scale}"
            if case.scenario == SWEEP_RECORD_SCENARIO:
                _keep(breaking, (case.solution, case.scale), case, label, duplicates)
                continue
            if case.scenario == SWEEP_SCENARIO:
                companies = int(case.info.get("companies") or 0)
                sweep_label = f"{label} ({companies} companies)"
                if case.scale == scale:
                    # A replacement at the report's scale is reported once, as a case.
                    sweep[(case.solution, companies)] = case
                else:
                    _keep(
                        sweep, (case.solution, companies), case, sweep_label, duplicates
                    )
            if case.scale != scale:
                other.add(case.scale)
                continue
            _keep(cases, key, case, label, duplicates)

    for duplicate in duplicates:
        notes.append(
            f"{duplicate.label} appears more than once; the report uses the last one "
            f"given, in {files[duplicate.used.file].path}"
        )
    if other:
        notes.append(
            f"cases at scale {', '.join(sorted(other))} only add points to the scale "
            f"sweep; the questions are answered at scale {scale}"
        )
    scenarios = _order({k[0] for k in cases}, SCENARIO_NAMES)
    solutions = _order({k[1] for k in cases}, SOLUTION_ORDER)
    if not solutions:
        solutions = _order({c.solution for c in breaking.values()}, SOLUTION_ORDER)
    return Dataset(
        files,
        scale,
        cases,
        scenarios,
        solutions,
        _by_solution(sweep.values(), solutions, lambda c: c.info.get("companies") or 0),
        notes,
        _by_solution(breaking.values(), solutions, lambda c: c.scale),
        clock,
        duplicates,
    )


def field_value(info: dict[str, Any], field_path: str) -> Any:
    value: Any = info
    for part in field_path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def num(case: Case, field_path: str, unit: str = "") -> Num:
    """Return the field of a case as a number that names its JSON path."""
    value = field_value(case.info, field_path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        value = None
    return Num(value, (source(case.file, case.path(field_path)),), "value", unit)


def _combined_op(name: str, first: Num, second: Num) -> str:
    """Name an operation on two numbers; ``reduction_pct:diff,diff`` when they are derived.

    Each operand after the colon consumes its own sources in order: ``value`` one,
    ``diff`` two.
    """
    if first.op == "value" and second.op == "value":
        return name
    return f"{name}:{first.op},{second.op}"


def reduction(new: Num, base: Num) -> Num:
    """Return how many percent ``new`` is below ``base``."""
    op = _combined_op("reduction_pct", new, base)
    if new.value is None or not base.value:
        return Num(None, new.sources + base.sources, op, "%")
    value = 100 * (1 - new.value / base.value)
    return Num(value, new.sources + base.sources, op, "%")


def ratio(top: Num, bottom: Num, unit: str = "×") -> Num:
    op = _combined_op("ratio", top, bottom)
    if top.value is None or not bottom.value:
        return Num(None, top.sources + bottom.sources, op, unit)
    return Num(top.value / bottom.value, top.sources + bottom.sources, op, unit)


def total(nums: list[Num], unit: str = "") -> Num:
    values = [n.value for n in nums if n.value is not None]
    sources = tuple(s for n in nums for s in n.sources)
    value: float | int | None = sum(values) if values else None
    return Num(value, sources, "sum", unit)


def rank_key(case: Case) -> tuple[Any, ...]:
    """Order cases: finished before unfinished, then less data loss, lower p95, fewer calls."""
    info = case.info
    p95 = (info.get("latency_s") or {}).get("p95")
    return (
        info.get("status") != "converged",
        info.get("data_loss") or 0,
        p95 if p95 is not None else float("inf"),
        (info.get("api_calls") or {}).get("total") or 0,
    )
