"""The fields of ``extra_info["syncbench"]`` a report reads, checked when a file loads.

A case whose field has the wrong type raises ``ReportError`` naming the file, the case,
the field and the value, so no malformed value reaches the arithmetic of a section.
Fields not listed here are not read as numbers by the report and are not checked.
"""

from __future__ import annotations

import json
from typing import Any

from pytest_syncbench.compare import is_finite_number

# Objects the report indexes into without a fallback.
REQUIRED_OBJECTS = ("api_calls", "latency_s")
# Numbers that must be present and not null.
REQUIRED_NUMBERS = ("api_calls.total", "cpu_s")
# Numbers that may be missing or null.
OPTIONAL_NUMBERS = (
    "api_calls.rate_limited",
    "api_calls.daily_quota_share",
    "latency_s.p50",
    "latency_s.p95",
    "latency_s.p99",
    "latency_s.max",
    "latency_s.count",
    "data_loss",
    "simulated_s",
    "companies",
    "max_backlog",
    "peak_rss_bytes",
    "throughput_per_min",
    "webhooks.dropped_events",
    "consistency.missing",
    "consistency.stale",
    "consistency.ghost",
    "consistency.duplicated",
    "recovery_s",
    "drain_s",
    "catchup_per_s",
)
# Objects that may be missing or null, and whose members must then be objects.
OPTIONAL_OBJECTS = ("webhooks", "consistency", "timeseries")
# Optional strings: a number or object in their place would be shown as text.
OPTIONAL_TEXT = ("status", "scale")
# The timeseries lists the report plots or reads; each item is a number or null.
TIMESERIES_LISTS = ("t_s", "pending_changes", "solution_backlog", "api_calls")
# A scale sweep's record contains breaking points and curves instead of a case's fields.
SWEEP_RECORD_SCENARIO = "scale-sweep"
SWEEP_AXES = ("update_rate", "record_count")
_POINT_NUMBERS = (
    "companies",
    "updates_per_hour",
    "data_loss",
    "latency_s.p95",
    "max_backlog",
    "calls_per_hour",
    "projected_quota_share",
)
_ABSENT = object()


class FieldError(ValueError):
    """A field of a case with a value the report cannot use."""


def _lookup(info: dict[str, Any], field: str) -> Any:
    value: Any = info
    for part in field.split("."):
        if not isinstance(value, dict):
            return _ABSENT
        value = value.get(part, _ABSENT)
        if value is _ABSENT:
            return _ABSENT
    return value


def _shown(value: Any) -> str:
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:
        return repr(value)


def _invalid(field: str, value: Any, expected: str) -> FieldError:
    if value is _ABSENT:
        return FieldError(f"{field} is missing, expected {expected}")
    return FieldError(f"{field} is {_shown(value)}, expected {expected}")


def _check_number(info: dict[str, Any], field: str, required: bool) -> None:
    value = _lookup(info, field)
    if value is _ABSENT or value is None:
        if required:
            raise _invalid(field, value, "a finite number")
        return
    if not is_finite_number(value):
        expected = "a finite number" if required else "a finite number or null"
        raise _invalid(field, value, expected)


def _check_timeseries(info: dict[str, Any]) -> None:
    series = info.get("timeseries")
    if series is None:
        return
    for name in TIMESERIES_LISTS:
        values = series.get(name)
        if values is None:
            continue
        field = f"timeseries.{name}"
        if not isinstance(values, list):
            raise _invalid(field, values, "a list of numbers")
        for index, item in enumerate(values):
            if item is not None and not is_finite_number(item):
                raise _invalid(f"{field}[{index}]", item, "a finite number or null")


def check_fields(info: dict[str, Any]) -> None:
    """Raise FieldError for the first field the report reads that has the wrong type."""
    if info.get("scenario") == SWEEP_RECORD_SCENARIO:
        _check_sweep(info)
        return
    for field in REQUIRED_OBJECTS:
        value = info.get(field, _ABSENT)
        if not isinstance(value, dict):
            raise _invalid(field, value, "an object")
    for field in OPTIONAL_OBJECTS:
        value = info.get(field)
        if value is not None and not isinstance(value, dict):
            raise _invalid(field, value, "an object or null")
    for field in OPTIONAL_TEXT:
        value = info.get(field)
        if value is not None and not isinstance(value, str):
            raise _invalid(field, value, "a string or null")
    for field in REQUIRED_NUMBERS:
        _check_number(info, field, required=True)
    for field in OPTIONAL_NUMBERS:
        _check_number(info, field, required=False)
    _check_timeseries(info)


def _check_sweep(info: dict[str, Any]) -> None:
    points = info.get("breaking_point")
    if not isinstance(points, dict):
        raise _invalid("breaking_point", points, "an object")
    curves = info.get("sweep")
    if not isinstance(curves, dict):
        raise _invalid("sweep", curves, "an object")
    for axis in SWEEP_AXES:
        point = points.get(axis, _ABSENT)
        if point is _ABSENT or point is None:
            continue
        field = f"breaking_point.{axis}"
        if not isinstance(point, dict):
            raise _invalid(field, point, "an object or null")
        for name in ("varies", "verdict"):
            if not isinstance(point.get(name), str):
                raise _invalid(f"{field}.{name}", point.get(name, _ABSENT), "a string")
        for name in ("broke_at", "held_up_to"):
            _check_number(point, name, required=False)
        if not isinstance(point.get("reasons", []), list):
            raise _invalid(f"{field}.reasons", point["reasons"], "a list of strings")
        _check_curve(curves, axis)


def _check_curve(curves: dict[str, Any], axis: str) -> None:
    curve = curves.get(axis, _ABSENT)
    field = f"sweep.{axis}"
    if not isinstance(curve, list):
        raise _invalid(field, curve, "a list of points")
    for index, point in enumerate(curve):
        if not isinstance(point, dict):
            raise _invalid(f"{field}[{index}]", point, "an object")
        try:
            for name in _POINT_NUMBERS:
                _check_number(point, name, required=False)
        except FieldError as error:
            raise FieldError(f"{field}[{index}].{error}") from None
