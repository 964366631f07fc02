"""Question 3 from scale-sweep records: breaking points and degradation curves.

A sweep record (scenario ``scale-sweep``, see docs/scale.md) holds, per axis, the load at
which a solution first stopped keeping up (``breaking_point.AXIS.broke_at``) and one
curve point per load tried (``sweep.AXIS``).
"""

from __future__ import annotations

from typing import Any

from pytest_syncbench.report.dataset import Dataset
from pytest_syncbench.report.figures import Num, Piece, Table, source
from pytest_syncbench.report.load import Case
from pytest_syncbench.report.schema import SWEEP_AXES
from pytest_syncbench.report.svg import Line, line_chart

AXIS_UNITS = {"updates_per_hour": "updates/h", "companies": "companies"}
CURVES = (
    ("latency_s.p95", "p95 latency, seconds (log scale)", True),
    ("max_backlog", "largest backlog, changes", False),
    ("calls_per_hour", "HubSpot calls per hour", False),
)


def _point(case: Case, axis: str) -> dict[str, Any] | None:
    point = case.info["breaking_point"].get(axis)
    return point if isinstance(point, dict) else None


def _curve(case: Case, axis: str) -> list[dict[str, Any]]:
    curve = case.info["sweep"].get(axis)
    return curve if isinstance(curve, list) else []


def _field(case: Case, path: str, value: Any, unit: str = "") -> Num:
    number = None if isinstance(value, bool) or value is None else value
    return Num(number, (source(case.file, case.path(path)),), "value", unit)


def _value_at(point: dict[str, Any], dotted: str) -> Any:
    value: Any = point
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def breaking_table(dataset: Dataset) -> Table:
    table = Table(
        ["solution", "scale", "axis", "broke at", "reasons", "held up to", "verdict"],
        caption="breaking points of the scale sweep: the first load at which a "
        "solution stopped keeping up, per axis",
    )
    for case in dataset.breaking:
        for axis in SWEEP_AXES:
            point = _point(case, axis)
            if point is None:
                continue
            unit = AXIS_UNITS.get(str(point.get("varies")), "")
            prefix = f"breaking_point.{axis}"
            broke = point.get("broke_at")
            table.rows.append(
                [
                    case.solution,
                    case.scale,
                    f"{axis} ({point.get('varies')})",
                    _field(case, f"{prefix}.broke_at", broke, unit)
                    if broke is not None
                    else "not reached",
                    ", ".join(str(r) for r in point.get("reasons") or []) or "none",
                    _field(case, f"{prefix}.held_up_to", point.get("held_up_to"), unit),
                    str(point.get("verdict")),
                ]
            )
    return table


def breaking_verdict(dataset: Dataset) -> list[Piece]:
    broken: list[Piece] = []
    held: list[str] = []
    for case in dataset.breaking:
        for axis in SWEEP_AXES:
            point = _point(case, axis)
            if point is None:
                continue
            unit = AXIS_UNITS.get(str(point.get("varies")), "")
            if point.get("broke_at") is None:
                held.append(f"{case.solution} ({axis})")
                continue
            if broken:
                broken.append("; ")
            reasons = ", ".join(str(r) for r in point.get("reasons") or [])
            broken += [
                f"{case.solution} broke on {axis} at ",
                _field(
                    case, f"breaking_point.{axis}.broke_at", point["broke_at"], unit
                ),
                f" ({reasons or 'no reason recorded'})",
            ]
    pieces: list[Piece] = ["Scale sweep: "]
    if broken:
        pieces += [*broken, ". "]
    else:
        pieces.append("no solution broke at any load tried. ")
    if held:
        pieces.append(
            f"Held up to the largest load tried (which says nothing about larger "
            f"loads): {', '.join(held)}."
        )
    return pieces


def degradation_plots(dataset: Dataset) -> list[str]:
    """Return one chart per axis and curve metric, one line per solution and scale."""
    plots = []
    for axis in SWEEP_AXES:
        for metric, label, log_y in CURVES:
            lines = _lines(dataset, axis, metric)
            if not lines:
                continue
            varies = _varies(dataset, axis)
            plots.append(
                line_chart(
                    f"breaking-{axis}-{metric.replace('.', '-')}",
                    f"Scale sweep, {axis}: {label.split(',')[0]} by {varies}",
                    lines,
                    varies,
                    label,
                    log_y=log_y,
                )
            )
    return plots


def _varies(dataset: Dataset, axis: str) -> str:
    for case in dataset.breaking:
        point = _point(case, axis)
        if point is not None:
            return str(point.get("varies"))
    return axis


def _lines(dataset: Dataset, axis: str, metric: str) -> list[Line]:
    varies = _varies(dataset, axis)
    lines = []
    for case in dataset.breaking:
        curve = _curve(case, axis)
        xs = [_value_at(p, varies) for p in curve]
        if len(curve) < 2 or any(not isinstance(x, int | float) for x in xs):
            continue
        ys = [_value_at(p, metric) for p in curve]
        values = [float(y) if isinstance(y, int | float) else None for y in ys]
        if all(v is None for v in values):
            continue
        name = case.solution
        if len({c.scale for c in dataset.breaking}) > 1:
            name = f"{case.solution} ({case.scale})"
        lines.append(
            Line(
                name,
                [float(x) for x in xs],
                values,
                source(case.file, case.path(f"sweep.{axis}")),
            )
        )
    return lines
