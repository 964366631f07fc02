"""Latency percentiles through HdrHistogram."""

from __future__ import annotations

from collections.abc import Sequence

from hdrh.histogram import HdrHistogram

# Latencies are recorded in whole milliseconds from 1 ms to 30 days with 3 significant
# digits, so a reported percentile is within 0.1% of the exact sample value.
_LOWEST_MS = 1
_HIGHEST_MS = 30 * 24 * 3600 * 1000
_DIGITS = 3


def summarize(samples_s: Sequence[float]) -> dict[str, float | int | None]:
    """Return p50, p95, p99, max (seconds) and count of latency samples.

    Percentiles come from the histogram, capped at ``max``, which is the exact largest
    sample (a histogram bucket can reach past it). With no
    samples every figure is None and ``count`` is 0.
    """
    if not samples_s:
        return {"p50": None, "p95": None, "p99": None, "max": None, "count": 0}
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
        "count": len(samples_s),
    }
