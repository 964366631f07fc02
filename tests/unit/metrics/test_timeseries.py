"""Time series samples and the backlog maximum."""

from types import SimpleNamespace

from pytest_syncbench.generator import StreamSpec
from pytest_syncbench.metrics.timeseries import TimeSeries
from pytest_syncbench.results import stream_max_backlog


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


def test_interval_counts_and_databox_columns():
    series = TimeSeries()
    series.add(0.0, 0, 0, 10, 0, 625_000, databox_calls=4)
    series.add(60.0, 3, 2, 25, 2, 625_000, staleness_s=12.5, databox_calls=9)
    series.add(
        120.0,
        0,
        0,
        25,
        2,
        625_000,
        databox_calls=20,
        databox_rate_limited=6,
    )

    data = series.as_dict()

    assert data["api_calls_interval"] == [10, 15, 0]
    assert data["rate_limited_interval"] == [0, 2, 0]
    assert data["databox_calls"] == [4, 9, 20]
    assert data["databox_calls_interval"] == [4, 5, 11]
    assert data["databox_rate_limited"] == [0, 0, 6]
    assert data["staleness_s"] == [0.0, 12.5, 0.0]


def test_every_column_has_one_value_per_sample():
    series = TimeSeries()
    for t in range(5):
        series.add(60.0 * t, t, t, t, 0, None, databox_calls=t)

    lengths = {name: len(values) for name, values in series.as_dict().items()}

    assert set(lengths.values()) == {5}


def test_stream_max_backlog_skips_the_initial_sync():
    series = TimeSeries()
    for t_s, pending in ((0.0, 9_000), (60.0, 4_000), (600.0, 30), (660.0, 45)):
        series.add(t_s, pending, 0, 0, 0, None)
    with_stream = SimpleNamespace(
        spec=SimpleNamespace(
            streams=(StreamSpec(count=10, duration_s=60.0, start_s=600.0),)
        ),
        series=series,
    )
    without = SimpleNamespace(spec=SimpleNamespace(streams=()), series=series)

    assert series.max_backlog == 9_000
    assert stream_max_backlog(with_stream) == 45
    assert stream_max_backlog(without) is None
