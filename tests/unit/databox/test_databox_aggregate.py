"""Read-side aggregation of pushed metrics: per-day sums, latest values and repeats."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pytest_syncbench.clock import parse_iso_ms
from pytest_syncbench.databox.aggregate import (
    daily_values,
    repeated_points,
    values_by_date,
)
from pytest_syncbench.databox.records import DataPoint
from pytest_syncbench.databox.server import DataboxMock

Serve = Callable[..., Any]  # the conftest fixture
AUTH = {
    "Authorization": "Basic " + base64.b64encode(b"push-token-0001:").decode(),
}
DAY = parse_iso_ms("2026-01-05T00:00:00Z")
NEXT_DAY = parse_iso_ms("2026-01-06T00:00:00Z")


def _point(value: float, date: str, **attributes: str) -> DataPoint:
    return DataPoint(
        key="companies", value=value, date_ms=parse_iso_ms(date), attributes=attributes
    )


def test_duplicated_push_doubles_day_sum(serve: Serve) -> None:
    items = [{"key": "companies", "value": 250, "date": "2026-01-05T10:00:00Z"}]

    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        await client.post("/data", json=items, headers=AUTH)
        once = mock.daily_values("companies")
        # The same push again, as a client retrying a push that had landed sends it.
        await client.post("/data", json=items, headers=AUTH)
        return once, mock.daily_values("companies"), mock

    once, twice, mock = serve(scenario)
    assert once == {DAY: 250}
    assert twice == {DAY: 500}
    assert mock.values_by_date("companies") == {
        parse_iso_ms("2026-01-05T10:00:00Z"): 500
    }
    assert mock.repeated_points("companies") == 1
    assert mock.repeated_points() == 1


def test_latest_value_hides_duplicate(serve: Serve) -> None:
    items = [{"key": "companies", "value": 250, "date": "2026-01-05T10:00:00Z"}]

    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        await client.post("/data", json=items, headers=AUTH)
        await client.post("/data", json=items, headers=AUTH)
        return mock

    mock = serve(scenario, latest_value_metrics=frozenset({"companies"}))
    assert mock.aggregation_of("companies") == "latest"
    assert mock.aggregation_of("deals") == "sum"
    assert mock.daily_values("companies") == {DAY: 250}
    assert mock.repeated_points("companies") == 1


def test_sum_adds_the_points_of_each_day() -> None:
    points = [
        _point(1, "2026-01-05T01:00:00Z"),
        _point(2, "2026-01-05T23:59:59Z"),
        _point(4, "2026-01-06T00:00:00Z"),
    ]
    assert daily_values(points, "sum") == {DAY: 3, NEXT_DAY: 4}


def test_latest_takes_latest_date_per_day() -> None:
    points = [
        _point(7, "2026-01-05T18:00:00Z"),
        _point(5, "2026-01-05T09:00:00Z"),
        _point(9, "2026-01-06T08:00:00Z"),
    ]
    assert daily_values(points, "latest") == {DAY: 7, NEXT_DAY: 9}


def test_latest_equal_dates_takes_last_pushed() -> None:
    points = [_point(7, "2026-01-05T18:00:00Z"), _point(8, "2026-01-05T18:00:00Z")]
    assert daily_values(points, "latest") == {DAY: 8}


def test_attributes_select_one_series() -> None:
    points = [
        _point(10, "2026-01-05T10:00:00Z"),
        _point(4, "2026-01-05T10:00:00Z", stage="lead"),
        _point(6, "2026-01-05T10:00:00Z", stage="customer"),
    ]
    assert daily_values(points) == {DAY: 10}
    assert daily_values(points, attributes={"stage": "lead"}) == {DAY: 4}
    assert values_by_date(points, {"stage": "customer"}) == {
        parse_iso_ms("2026-01-05T10:00:00Z"): 6
    }


def test_other_series_points_are_not_repeats() -> None:
    points = [
        _point(10, "2026-01-05T10:00:00Z"),
        _point(4, "2026-01-05T10:00:00Z", stage="lead"),
        _point(10, "2026-01-05T11:00:00Z"),
    ]
    assert repeated_points(points) == 0


def test_each_extra_copy_counts_as_a_repeat() -> None:
    points = [_point(10, "2026-01-05T10:00:00Z", stage="lead") for _ in range(3)]
    assert repeated_points(points) == 2


def test_unknown_aggregation_names_choices() -> None:
    with pytest.raises(
        ValueError, match="aggregation='median': use one of sum, latest"
    ):
        daily_values([], "median")  # type: ignore[arg-type]


def test_unknown_metric_has_no_values(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        return mock.daily_values("absent"), mock.repeated_points("absent")

    assert serve(scenario) == ({}, 0)
