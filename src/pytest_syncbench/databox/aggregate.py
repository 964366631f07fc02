"""Read-side aggregation of pushed data points, the way Databox shows a metric.

Databox keeps every pushed point and aggregates at read time. By default the points of
one day are summed, and a metric defined as "latest value" shows the day's last point.
A push that is sent twice, such as a
retry of a push that had landed, therefore doubles a summed day, while a latest-value
day hides it. :func:`repeated_points` finds such repeats whatever the aggregation.

Points are selected by their attributes: ``attributes=None`` selects the points pushed
without attributes (the metric's own series), and a mapping selects the points whose
attributes equal it exactly (one dimension value).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from pytest_syncbench.databox.records import DataPoint

Aggregation = Literal["sum", "latest"]
AGGREGATIONS: tuple[Aggregation, ...] = ("sum", "latest")
DAY_MS = 86_400_000


def select(
    points: Iterable[DataPoint], attributes: Mapping[str, str] | None = None
) -> list[DataPoint]:
    """Return the points whose attributes equal ``attributes`` (None: no attributes)."""
    expected = dict(attributes or {})
    return [point for point in points if point.attributes == expected]


def daily_values(
    points: Iterable[DataPoint],
    aggregation: Aggregation = "sum",
    attributes: Mapping[str, str] | None = None,
) -> dict[int, float | int]:
    """Aggregate the selected points per UTC day, keyed by the day's start in epoch ms.

    ``"sum"`` adds every point of the day. ``"latest"`` takes the point with the latest
    date, and of points with the same date the one pushed last.
    """
    if aggregation not in AGGREGATIONS:
        raise ValueError(
            f"aggregation={aggregation!r}: use one of {', '.join(AGGREGATIONS)}"
        )
    values: dict[int, float | int] = {}
    latest_date: dict[int, int] = {}
    # Points are stored in push order, so a later point with an equal date wins.
    for point in select(points, attributes):
        day = point.date_ms - point.date_ms % DAY_MS
        if aggregation == "sum":
            values[day] = values.get(day, 0) + point.value
        elif point.date_ms >= latest_date.get(day, point.date_ms):
            latest_date[day] = point.date_ms
            values[day] = point.value
    return values


def values_by_date(
    points: Iterable[DataPoint], attributes: Mapping[str, str] | None = None
) -> dict[int, float | int]:
    """Sum the selected points per exact date, keyed by the date in epoch ms.

    A snapshot pushed once per date sums to the snapshot itself, so a value that is a
    multiple of the truth at that date shows a repeated push.
    """
    values: dict[int, float | int] = {}
    for point in select(points, attributes):
        values[point.date_ms] = values.get(point.date_ms, 0) + point.value
    return values


def repeated_points(points: Iterable[DataPoint]) -> int:
    """Count points whose date and attributes equal those of an earlier point.

    Each such point is a second data point for one instant of one series: Databox
    stores it beside the first rather than replacing it.
    """
    seen: set[tuple[int, tuple[tuple[str, str], ...]]] = set()
    repeats = 0
    for point in points:
        identity = (point.date_ms, tuple(sorted(point.attributes.items())))
        if identity in seen:
            repeats += 1
        else:
            seen.add(identity)
    return repeats
