"""Latency percentiles."""

import pytest

from pytest_syncbench.hubspot.store import Change, ChangeKind
from pytest_syncbench.metrics.latency import censored_ages_s, summarize


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
    assert summary["censored"] == 0


def test_censored_samples_enter_percentiles():
    delivered = [1.0, 2.0]
    ages = [600.0, 700.0, 800.0]

    summary = summarize(delivered + ages, censored=len(ages))

    # The third of five samples: without the censored ones the median would be 1.5 s.
    assert summary["p50"] == pytest.approx(600.0, rel=1e-3)
    assert summary["max"] == 800.0
    assert summary["count"] == 2
    assert summary["censored"] == 3


def test_only_censored_samples():
    summary = summarize([300.0, 900.0], censored=2)

    assert summary["p50"] == pytest.approx(300.0, rel=1e-3)
    assert summary["count"] == 0
    assert summary["censored"] == 2


def test_no_censored_samples_by_default():
    samples = [float(i) for i in range(1, 11)]

    summary = summarize(samples)

    assert summary["count"] == 10
    assert summary["censored"] == 0


@pytest.mark.parametrize("censored", [-1, 4])
def test_invalid_censored_count_raises(censored):
    with pytest.raises(ValueError, match="invalid censored count"):
        summarize([1.0, 2.0, 3.0], censored=censored)


def _change(seq: int, committed_ms: int) -> Change:
    return Change(seq, seq, ChangeKind.UPDATE, committed_ms, {})


def test_censored_age_counts_to_run_end():
    start_ms = 1_000_000
    changes = [_change(5, start_ms + 100_000), _change(6, start_ms + 250_000)]

    ages = censored_ages_s(changes, since_seq=0, start_ms=start_ms, end_s=400.0)

    assert ages == [300.0, 150.0]


def test_censored_age_skips_unmeasured_changes():
    start_ms = 1_000_000
    changes = [_change(2, start_ms + 10_000), _change(7, start_ms + 20_000)]

    ages = censored_ages_s(changes, since_seq=5, start_ms=start_ms, end_s=100.0)

    assert ages == [80.0]


def test_censored_age_of_seeded_change_counts_from_start():
    start_ms = 1_000_000
    seeded = _change(0, start_ms - 3_600_000)

    ages = censored_ages_s([seeded], since_seq=0, start_ms=start_ms, end_s=50.0)

    assert ages == [50.0]
