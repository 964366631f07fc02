"""Latency percentiles through HdrHistogram, with undelivered changes right-censored.

A change that never reached the destination has no latency, only a lower bound: its age
when the run ended. Leaving such changes out would let a solution that delivers almost
nothing report the few fast deliveries it made. They are kept as right-censored samples at
that age, so the statistics can only understate how slow a lossy case was.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hdrh.histogram import HdrHistogram

from pytest_syncbench.hubspot.store import Change

# Latencies are recorded in whole milliseconds from 1 ms to 30 days with 3 significant
# digits, so a reported percentile is within 0.1% of the exact sample value.
_LOWEST_MS = 1
_HIGHEST_MS = 30 * 24 * 3600 * 1000
_DIGITS = 3


def censored_ages_s(
    undelivered: Iterable[Change], since_seq: int, start_ms: int, end_s: float
) -> list[float]:
    """Return the age at ``end_s`` of each undelivered change with seq >= ``since_seq``.

    Ages are simulated seconds from the commit to the end of the run. As for a delivered
    change, a change committed before the run started counts from the start.
    """
    ages = []
    for change in undelivered:
        if change.seq < since_seq:
            continue
        committed_s = max(0.0, (change.committed_ms - start_ms) / 1000)
        ages.append(max(0.0, end_s - committed_s))
    return ages


def summarize(
    samples_s: Sequence[float], censored: int = 0
) -> dict[str, float | int | None]:
    """Return p50, p95, p99, max (seconds), count and censored of latency samples.

    The last ``censored`` samples are right-censored ages of undelivered changes; the
    others are latencies of delivered ones. Percentiles and ``max`` cover every sample.
    ``count`` is the number of delivered samples. Percentiles come from the histogram,
    capped at ``max``, which is the exact largest sample (a histogram bucket can reach
    past it). With no samples every figure is None and both counts are 0.
    """
    if not 0 <= censored <= len(samples_s):
        raise ValueError(
            f"invalid censored count {censored}: expected 0 to {len(samples_s)}, "
            "the number of samples"
        )
    if not samples_s:
        return {
            "p50": None,
            "p95": None,
            "p99": None,
            "max": None,
            "count": 0,
            "censored": 0,
        }
    histogram = HdrHistogram(_LOWEST_MS, _HIGHEST_MS, _DIGITS)
    for sample in samples_s:
        histogram.record_value(min(_HIGHEST_MS, round(sample * 1000)))
    largest = round(max(samples_s), 3)

    def at(percentile: float) -> float:
        return min(largest, histogram.get_value_at_percentile(percentile) / 1000)

    return {
        "p50": at(50),
        "p95": at(95),
        "p99": at(99),
        "max": largest,
        "count": len(samples_s) - censored,
        "censored": censored,
    }
