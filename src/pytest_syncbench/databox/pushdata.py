"""Validation of push API bodies into data points.

Rules from the Databox push API docs: metric keys are case-sensitive letters, digits
and ``_``. Values are numbers with up to 16 whole digits and 6 decimals. Dates are
ISO-8601 and default to the arrival time. Each item is judged on its own, so one bad
item does not reject its neighbours, and the caller reports a partial failure.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from pytest_syncbench.clock import parse_iso_ms
from pytest_syncbench.databox.records import DataPoint
from pytest_syncbench.databox.responses import NOT_WRAPPED

_KEY = re.compile(r"[A-Za-z0-9_]+")
_MAX_WHOLE = 10**16  # 16 whole digits
_DECIMALS = 6
# Fields of a legacy item that are not dimensions.
_LEGACY_RESERVED = frozenset({"date", "unit", "periodFrom", "periodTo"})


class PushBodyError(ValueError):
    """The body as a whole is unusable (not JSON, wrong shape, empty)."""


@dataclass(slots=True)
class ParsedPush:
    points: list[DataPoint] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def parse_items(payload: Any, now_ms: int, arrival_s: float) -> ParsedPush:
    """Parse the current shape: a JSON array of ``{key, value, date?, unit?, ...}``."""
    if not isinstance(payload, list):
        raise PushBodyError("Invalid request body: expected a JSON array of items")
    if not payload:
        raise PushBodyError("No data to insert")
    parsed = ParsedPush()
    for item in payload:
        try:
            parsed.points.append(_parse_item(item, now_ms, arrival_s))
        except ValueError as exc:
            parsed.failures.append(str(exc))
    return parsed


def parse_legacy(payload: Any, now_ms: int, arrival_s: float) -> ParsedPush:
    """Parse the legacy shape ``{"data": [{"$metric": value, dimension: ...}]}``."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise PushBodyError(NOT_WRAPPED)
    if not payload["data"]:
        raise PushBodyError("No data to insert")
    parsed = ParsedPush()
    for item in payload["data"]:
        try:
            parsed.points.extend(_parse_legacy_item(item, now_ms, arrival_s))
        except ValueError as exc:
            parsed.failures.append(str(exc))
    return parsed


def _parse_item(item: Any, now_ms: int, arrival_s: float) -> DataPoint:
    if not isinstance(item, dict):
        raise ValueError("Invalid item: expected an object")
    key = _metric_key(item.get("key"))
    attributes = _attributes(item.get("attributes"))
    period_from, period_to = _period(item)
    return DataPoint(
        key=key,
        value=_metric_value(key, item.get("value")),
        date_ms=_date_ms(item.get("date"), now_ms, "date"),
        unit=_unit(item.get("unit")),
        attributes=attributes,
        period_from_ms=period_from,
        period_to_ms=period_to,
        arrival_s=arrival_s,
    )


def _parse_legacy_item(item: Any, now_ms: int, arrival_s: float) -> list[DataPoint]:
    if not isinstance(item, dict):
        raise ValueError("Invalid item: expected an object")
    metrics = {k[1:]: v for k, v in item.items() if k.startswith("$")}
    if not metrics:
        raise ValueError("Invalid item: no $metric field")
    dimensions = {
        k: _attribute_value(k, v)
        for k, v in item.items()
        if not k.startswith("$") and k not in _LEGACY_RESERVED
    }
    date_ms = _date_ms(item.get("date"), now_ms, "date")
    unit = _unit(item.get("unit"))
    period_from, period_to = _period(item)
    points = []
    for raw_key, raw_value in metrics.items():
        key = _metric_key(raw_key)
        points.append(
            DataPoint(
                key=key,
                value=_metric_value(key, raw_value),
                date_ms=date_ms,
                unit=unit,
                attributes=dict(dimensions),
                period_from_ms=period_from,
                period_to_ms=period_to,
                arrival_s=arrival_s,
            )
        )
    return points


def is_metric_key(value: Any) -> bool:
    """Return whether ``value`` is a usable metric key."""
    return isinstance(value, str) and _KEY.fullmatch(value) is not None


def _metric_key(value: Any) -> str:
    if not is_metric_key(value):
        raise ValueError(f"Invalid metric key {value!r}: use letters, digits and _")
    return value


def _metric_value(key: str, value: Any) -> float | int:
    if value is None:
        raise ValueError(f"Validation error - Data must contain metric value ({key!r})")
    invalid = f"Validation error - Invalid metric value for {key!r}: {value!r}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{invalid} is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{invalid} is not finite")
    if abs(value) >= _MAX_WHOLE:
        raise ValueError(f"{invalid} has more than 16 whole digits")
    if isinstance(value, float):
        # Assumed storage as a fixed 6-decimal number: extra decimals are rounded, not
        # rejected, since a float such as 0.1 + 0.2 cannot be written with 6 decimals.
        return round(value, _DECIMALS)
    return value


def _period(item: dict[str, Any]) -> tuple[int | None, int | None]:
    """Return the item's ``periodFrom`` and ``periodTo`` in epoch ms, when given."""
    period_from = _optional_date_ms(item.get("periodFrom"), "periodFrom")
    period_to = _optional_date_ms(item.get("periodTo"), "periodTo")
    if period_from is not None and period_to is not None and period_from > period_to:
        raise ValueError(
            f"Invalid period: periodFrom {item['periodFrom']!r} is after "
            f"periodTo {item['periodTo']!r}"
        )
    return period_from, period_to


def _date_ms(value: Any, now_ms: int, name: str) -> int:
    if value is None:
        return now_ms
    return _parse_date(value, name)


def _optional_date_ms(value: Any, name: str) -> int | None:
    return None if value is None else _parse_date(value, name)


def _parse_date(value: Any, name: str) -> int:
    if not isinstance(value, str):
        raise ValueError(f"Invalid {name} {value!r}: expected an ISO-8601 string")
    try:
        return parse_iso_ms(value)
    except ValueError:
        raise ValueError(
            f"Invalid {name} {value!r}: expected an ISO-8601 string"
        ) from None


def _unit(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"Invalid unit {value!r}: expected a string")


def _attributes(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, list):
        raise ValueError("Invalid attributes: expected an array of {key, value}")
    attributes: dict[str, str] = {}
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            raise ValueError("Invalid attributes: expected an array of {key, value}")
        attributes[entry["key"]] = _attribute_value(entry["key"], entry.get("value"))
    return attributes


def _attribute_value(key: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"Invalid value of attribute {key!r}: {value!r}")
