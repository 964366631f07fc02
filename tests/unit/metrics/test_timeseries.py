"""Time series samples and the backlog maximum."""

from pytest_syncbench.metrics.timeseries import TimeSeries


def test_samples_and_max_backlog():
    series = TimeSeries()
    series.add(0.0, 0, 0, 10, 0, 625_000)
    series.add(60.0, 42, 40, 25, 1, 625_000)
    series.add(120.0, 7, 5, 40, 3, 625_000)

    data = series.as_dict()

    assert data["t_s"] == [0.0, 60.0, 120.0]
    assert data["pending_changes"] == [0, 42, 7]
    assert data["daily_quota_left"] == [624_990, 624_975, 624_960]
    assert data["rate_limited"] == [0, 1, 3]
    assert series.max_backlog == 42


def test_no_daily_limit_gives_none():
    series = TimeSeries()
    series.add(0.0, 0, 0, 10, 0, None)

    assert series.as_dict()["daily_quota_left"] == [None]


def test_empty_series_max_is_zero():
    assert TimeSeries().max_backlog == 0
