"""Regression gates during a run: ``--syncbench-baseline=FILE --syncbench-fail=METRIC:+N%``.

The gates are those of ``syncbench compare`` (parsing, evaluation and table come from
``compare.py``), applied to the cases of the current run against a saved baseline. Only
the baseline's cases that this run ran are compared, so ``-k`` or
``--syncbench-solutions`` may select a subset. The summary counts the cases left out.
Every baseline case must have run on this run's clock (``--syncbench-clock`` and, when
live, the speedup), because live figures include processing time multiplied by the
speedup.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_syncbench.compare import (
    Column,
    CompareError,
    SavedRun,
    build_columns,
    check_metric,
    check_values,
    closing_line,
    compare_runs,
    format_table,
    load_run,
    parse_gate,
)
from pytest_syncbench.report.clock import LIVE, VIRTUAL_CLOCK, Clock, case_clock
from pytest_syncbench.results import SCHEMA_VERSION

BASELINE_OPTION = "--syncbench-baseline"
FAIL_OPTION = "--syncbench-fail"


@dataclass(frozen=True)
class GateSetup:
    """The baseline and the metric columns to check at the end of the run."""

    baseline: SavedRun
    columns: list[Column]
    gated: bool


def _identity(baseline: SavedRun, name: str) -> set[str]:
    return {str(info.get(name)) for info in baseline.cases.values()}


def _mismatches(config: pytest.Config, baseline: SavedRun) -> list[str]:
    expected = {
        "scale": str(config.getoption("syncbench_scale")),
        "seed": str(config.getoption("syncbench_seed")),
        "tier": str(config.getoption("syncbench_tier")),
        "schema": str(SCHEMA_VERSION),
    }
    return [
        f"{name} {','.join(sorted(_identity(baseline, name)))} in the baseline vs "
        f"{value} in this run"
        for name, value in expected.items()
        if _identity(baseline, name) != {value}
    ]


def _run_clock(config: pytest.Config) -> Clock:
    # Imported here because the plugin module imports this one.
    from pytest_syncbench.plugin import speedup_of

    if config.getoption("syncbench_clock") != LIVE:
        return VIRTUAL_CLOCK
    return Clock(LIVE, float(speedup_of(config)))


def _clock_mismatches(config: pytest.Config, baseline: SavedRun) -> list[str]:
    run_clock = _run_clock(config)
    mismatches = []
    for key, info in baseline.cases.items():
        clock = case_clock(info)
        if clock != run_clock:
            mismatches.append(
                f"case {'/'.join(key)} ran on the {clock.label} clock in the baseline "
                f"vs the {run_clock.label} clock in this run"
            )
    return mismatches


def configure_gates(config: pytest.Config) -> GateSetup | None:
    """Load the baseline and parse the gates, or raise UsageError naming the bad value."""
    path = config.getoption("syncbench_baseline")
    texts = config.getoption("syncbench_fail") or []
    if path is None:
        if texts:
            raise pytest.UsageError(
                f"{FAIL_OPTION} needs a baseline to compare with; add "
                f"{BASELINE_OPTION}=FILE (a JSON file of an earlier pytest --syncbench run)"
            )
        return None
    try:
        gates = [parse_gate(text) for text in texts]
        baseline = load_run(Path(path))
        columns = build_columns(gates)
        for column in columns:
            check_metric(baseline, column.metric)
        check_values(baseline, columns)
    except CompareError as error:
        raise pytest.UsageError(f"{BASELINE_OPTION}/{FAIL_OPTION}: {error}") from None
    mismatches = _mismatches(config, baseline)
    if mismatches:
        raise pytest.UsageError(
            f"{BASELINE_OPTION}={path} is a different run ({'; '.join(mismatches)}); "
            "pass a baseline saved with the same --syncbench-scale, --syncbench-seed and "
            "--syncbench-tier"
        )
    clock_mismatches = _clock_mismatches(config, baseline)
    if clock_mismatches:
        raise pytest.UsageError(
            f"{BASELINE_OPTION}={path} ran on another clock "
            f"({'; '.join(clock_mismatches)}); live figures include processing time "
            "multiplied by the speedup, so pass a baseline saved with the same "
            "--syncbench-clock and --syncbench-speedup"
        )
    return GateSetup(baseline, columns, gated=bool(gates))


def evaluate_gates(
    setup: GateSetup, results: list[dict[str, Any]]
) -> tuple[int, list[str]]:
    """Compare this run's cases with the baseline; return the exit status and lines."""
    if not results:
        return 0, [
            f"no syncbench case ran, so nothing was compared with {setup.baseline.path}"
        ]
    new_cases = {(info["scenario"], info["solution"]): info for info in results}
    compared = {k: v for k, v in setup.baseline.cases.items() if k in new_cases}
    left_out = len(setup.baseline.cases) - len(compared)
    base = SavedRun(setup.baseline.path, compared)
    new = SavedRun(Path("this run"), new_cases)
    try:
        outcomes = compare_runs(base, new, setup.columns)
    except CompareError as error:
        return 1, [f"cannot compare with {setup.baseline.path}: {error}"]
    lines = [f"baseline: {setup.baseline.path}"]
    lines += format_table(setup.columns, outcomes)
    if left_out:
        lines.append(
            f"{left_out} case(s) of the baseline did not run here and were not compared"
        )
    lines.append(closing_line(outcomes, setup.gated))
    status = 1 if any(outcome.failures for outcome in outcomes) else 0
    return status, lines
