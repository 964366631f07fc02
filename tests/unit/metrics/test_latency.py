"""Latency percentiles."""

import pytest

from pytest_syncbench.metrics.latency import summarize


def test_percentiles_of_known_samples():
    samples = [float(i) for i in range(1, 101)]  # 1..100 seconds

    summary = summarize(samples)

    # HdrHistogram with 3 significant digits reports within 0.1% of the exact value.
    assert summary["p50"] == pytest.approx(50.0, rel=1e-3)
    assert summary["p95"] == pytest.approx(95.0, rel=1e-3)
    assert summary["p99"] == pytest.approx(99.0, rel=1e-3)
    assert summary["max"] == 100.0
    assert summary["count"] == 100


def test_percentile_never_exceeds_max():
    summary = summarize([3600.0])

    assert summary["p99"] == 3600.0


def test_no_samples_gives_none():
    summary = summarize([])

    assert summary["p50"] is None
    assert summary["count"] == 0
