"""The measurements of one case as stored in pytest-benchmark's ``extra_info``.

The layout is versioned by ``SCHEMA_VERSION``; docs/metrics.md documents every field. Bump
the version whenever a field changes meaning or is removed; adding a field keeps it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pytest_syncbench.generator import SYNCED_PROPERTIES
from pytest_syncbench.harness import CaseOutcome
from pytest_syncbench.metrics.latency import summarize
from pytest_syncbench.metrics.lost import lost_by_kind, lost_changes
from pytest_syncbench.metrics.reliability import succeeded

SCHEMA_VERSION = 1
EXTRA_INFO_KEY = "syncbench"
# Fields that measure the machine running the case, which vary between runs. Every other
# field of a case on the virtual clock repeats exactly for the same seed.
MACHINE_FIELDS = frozenset(
    {
        "cpu_s",
        "cpu_mock_s",
        "cpu_by_actor_s",
        "peak_rss_bytes",
        "rss_growth_bytes",
        "wall_s",
    }
)


def without_machine_fields(info: dict[str, Any]) -> dict[str, Any]:
    """Return ``info`` without :data:`MACHINE_FIELDS`, the part a seed fixes."""
    return {key: value for key, value in info.items() if key not in MACHINE_FIELDS}


def call_table(calls: list[Any]) -> dict[str, Any]:
    """Count calls by endpoint and status from a mock's call log."""
    by_endpoint: dict[str, Counter[str]] = {}
    rate_limited = 0
    for call in calls:
        endpoint, status = call.endpoint, int(call.status)
        by_endpoint.setdefault(endpoint, Counter())[str(status)] += 1
        if status == 429:
            rate_limited += 1
    return {
        "total": len(calls),
        "by_endpoint": {
            k: dict(sorted(v.items())) for k, v in sorted(by_endpoint.items())
        },
        "rate_limited": rate_limited,
    }


def throughput_per_min(outcome: CaseOutcome) -> float:
    """Changes made visible per simulated minute, from the first visibility to the last."""
    if not outcome.delivered_changes or outcome.first_visible_s is None:
        return 0.0
    assert outcome.last_visible_s is not None
    span_min = max(1.0, outcome.last_visible_s - outcome.first_visible_s) / 60
    return round(outcome.delivered_changes / span_min, 1)


def extra_info(outcome: CaseOutcome, scale: str, tier: str) -> dict[str, Any]:
    api_calls = call_table(outcome.hubspot_calls)
    if outcome.daily_limit:
        # The share of one day's quota that the simulated duration consumed.
        api_calls["daily_quota_share"] = round(
            api_calls["total"] / outcome.daily_limit, 6
        )
    else:
        api_calls["daily_quota_share"] = None
    destination_calls = call_table(outcome.databox_calls)
    api_calls["succeeded"] = succeeded(outcome.hubspot_calls)
    destination_calls["succeeded"] = succeeded(outcome.databox_calls)
    cpu = outcome.cpu_s
    return {
        "schema": SCHEMA_VERSION,
        "scenario": outcome.spec.name,
        "solution": outcome.solution,
        "delivers": outcome.delivers.value,
        "seed": outcome.seed,
        "scale": scale,
        "tier": tier,
        "status": outcome.status,
        "error": outcome.error,
        "companies": outcome.spec.companies,
        "changes": {
            "tracked": outcome.tracked_changes,
            "measured": outcome.measured_changes,
            "delivered": outcome.delivered_changes,
        },
        "api_calls": api_calls,
        "destination_calls": destination_calls,
        "latency_s": summarize(outcome.latencies_s, outcome.censored_changes),
        "throughput_per_min": throughput_per_min(outcome),
        "consistency": outcome.consistency.as_dict(),
        "data_loss": outcome.data_loss,
        "lost_by_kind": lost_by_kind(outcome.lost),
        "lost_changes": lost_changes(outcome.lost, SYNCED_PROPERTIES, outcome.epoch_ms),
        "cpu_s": round(cpu.get("solution", 0.0), 3),
        "cpu_mock_s": round(cpu.get("mock", 0.0), 3),
        "cpu_by_actor_s": {k: round(v, 3) for k, v in sorted(cpu.items())},
        "peak_rss_bytes": outcome.peak_rss_bytes,
        "rss_growth_bytes": outcome.rss_growth_bytes,
        "simulated_s": outcome.simulated_s,
        "deadline_s": outcome.spec.deadline_s,
        "wall_s": outcome.wall_s,
        "max_backlog": outcome.series.max_backlog,
        "stream_max_backlog": stream_max_backlog(outcome),
        "timeseries": outcome.series.as_dict(),
        "webhooks": outcome.webhooks,
        "solution_stats": outcome.solution_stats,
        "solution_errors": [error.as_dict() for error in outcome.solution_errors],
        "solution_error_count": outcome.solution_error_count,
        "clock": clock_info(outcome),
        **outcome.reliability,
    }


def clock_info(outcome: CaseOutcome) -> dict[str, Any]:
    """Return the clock the case ran on, and in live mode what a watcher saw.

    On the live clock every simulated second lasts 1/speedup wall seconds, so the wall
    latencies are the same samples on the wall scale. ``tick_lag_s`` is how late the
    harness's 5-second ticks came. When the process cannot keep up with the speedup,
    simulated time passes while callbacks wait, and every figure stretches by that much.
    """
    if outcome.clock_mode != "live":
        return {"mode": outcome.clock_mode}
    speedup = outcome.speedup
    wall = [sample / speedup for sample in outcome.latencies_s]
    return {
        "mode": "live",
        "speedup": speedup,
        "latency_wall_s": summarize(wall, outcome.censored_changes),
        "tick_lag_s": summarize(outcome.tick_lag_s),
    }


def stream_max_backlog(outcome: CaseOutcome) -> int | None:
    """Return the largest backlog sampled once the first write stream has started.

    ``max_backlog`` also covers the initial sync of the seeded companies, which in most
    scenarios dwarfs what a burst or an outage leaves behind. None without streams.
    """
    starts = [stream.start_s for stream in outcome.spec.streams]
    if not starts:
        return None
    first = min(starts)
    series = outcome.series
    pending = [
        value
        for t_s, value in zip(series.t_s, series.pending_changes, strict=True)
        if t_s >= first
    ]
    return max(pending, default=0)
