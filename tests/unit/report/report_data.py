"""Synthetic pytest-benchmark results for the report tests.

The cases use the smoke scale, so their timelines match the smoke scenario definitions:
update streams from 600 s, the outage from 1,800 s to 3,600 s.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

SOLUTIONS = ("direct-polling", "webhook-sync", "hybrid-cdc", "native-integration")
SCENARIOS = ("bulk", "realtime", "burst", "outage", "scale")
SAMPLE_S = 60.0


def timeseries(
    samples: int, calls_per_sample: int, pending: list[int]
) -> dict[str, Any]:
    times = [5.0 + SAMPLE_S * k for k in range(samples)]
    calls = [10 + calls_per_sample * k for k in range(samples)]
    backlog = (pending + [0] * samples)[:samples]
    return {
        "t_s": times,
        "pending_changes": backlog,
        "solution_backlog": backlog,
        "api_calls": calls,
        "rate_limited": [0] * samples,
        "daily_quota_left": [625_000 - c for c in calls],
    }


def case_info(
    scenario: str,
    solution: str,
    calls: int,
    p95: float,
    calls_per_sample: int = 1,
    pending: list[int] | None = None,
    samples: int = 40,
) -> dict[str, Any]:
    """Return a schema-1 ``extra_info["syncbench"]`` with internally consistent values."""
    return {
        "schema": 1,
        "scenario": scenario,
        "solution": solution,
        "delivers": "aggregates" if solution == "native-integration" else "records",
        "seed": 1,
        "scale": "smoke",
        "tier": "professional",
        "status": "converged",
        "error": None,
        "companies": 5_000 if scenario == "scale" else 1_000,
        "changes": {"tracked": 1_300, "measured": 300, "delivered": 1_300},
        "api_calls": {
            "total": calls,
            "by_endpoint": {"GET /crm/v3/objects/companies": {"200": calls}},
            "rate_limited": 0,
            "daily_quota_share": round(calls / 625_000, 6),
        },
        "destination_calls": {"total": 30, "by_endpoint": {}, "rate_limited": 0},
        "latency_s": {
            "p50": round(p95 / 2, 3),
            "p95": p95,
            "p99": round(p95 * 1.1, 3),
            "max": round(p95 * 1.2, 3),
            "count": 300,
        },
        "throughput_per_min": 40.0,
        "consistency": {"missing": 0, "stale": 1, "ghost": 0},
        "data_loss": 0,
        "cpu_s": 0.5,
        "cpu_mock_s": 0.1,
        "cpu_by_actor_s": {
            "harness": 0.1,
            "mock": 0.1,
            "solution": 0.5,
            "workload": 0.0,
        },
        "peak_rss_bytes": 100 * 1024 * 1024,
        "rss_growth_bytes": 10 * 1024 * 1024,
        "simulated_s": samples * SAMPLE_S,
        "deadline_s": 7_200.0,
        "wall_s": 1.0,
        "max_backlog": max(pending or [0]),
        "timeseries": timeseries(samples, calls_per_sample, pending or []),
        "webhooks": {
            "delivered_events": 0,
            "delivered_batches": 0,
            "retries": 0,
            "dropped_events": 0,
        },
        "solution_stats": {},
    }


# Per solution: total calls, calls per 60-second sample, p95 latency. Polling is the
# most expensive, so the other solutions' reductions are positive.
PROFILE = {
    "direct-polling": (200, 5, 150.0),
    "webhook-sync": (20, 0, 4.0),
    "hybrid-cdc": (60, 1, 4.5),
    "native-integration": (12, 0, 2_400.0),
}
# Backlog through the outage (1,800-3,600 s): normal level 3, a peak of 50 during it,
# back to normal two samples after it ends.
OUTAGE_PENDING = [0] * 25 + [3] * 5 + [50] * 30 + [40, 20, 2]


def all_cases(scenarios: tuple[str, ...] = SCENARIOS) -> list[dict[str, Any]]:
    infos = []
    for scenario in scenarios:
        for solution in SOLUTIONS:
            calls, per_sample, p95 = PROFILE[solution]
            pending = OUTAGE_PENDING if scenario == "outage" else None
            samples = 80 if scenario == "outage" else 40
            infos.append(
                case_info(scenario, solution, calls, p95, per_sample, pending, samples)
            )
    return infos


def stats_for(info: dict[str, Any]) -> dict[str, Any]:
    latency = info["latency_s"]
    if latency["p50"] is None:
        # With no latency, the plugin records the deadline as the only sample.
        deadline = info["deadline_s"]
        return {k: deadline for k in ("min", "q1", "median", "q3", "max", "mean")} | {
            "stddev": 0.0,
            "rounds": 1,
            "iqr": 0.0,
        }
    return {
        "min": round(latency["p50"] / 10, 3),
        "q1": round(latency["p50"] / 2, 3),
        "median": latency["p50"],
        "q3": round(latency["p95"] * 0.8, 3),
        "max": latency["max"],
        "mean": latency["p50"],
        "stddev": 1.0,
        "rounds": latency["count"],
        "iqr": 1.0,
    }


def document(
    infos: list[dict[str, Any]],
    commit: str = "0123456789abcdef0123456789abcdef01234567",
    saved: str = "2026-01-02T03:04:05+00:00",
) -> dict[str, Any]:
    """Return a pytest-benchmark document holding ``infos`` as benchmarks."""
    benchmarks = [
        {
            "group": info["scenario"],
            "name": f"test_{info['scenario']}[{info['solution']}]",
            "fullname": f"tests/scenarios/test_x.py::test_{info['scenario']}[{info['solution']}]",
            "params": {"syncbench_solution": info["solution"]},
            "extra_info": {"syncbench": copy.deepcopy(info)},
            "options": {},
            "stats": stats_for(info),
        }
        for info in infos
    ]
    return {
        "machine_info": {
            "node": "test-node",
            "system": "Linux",
            "machine": "x86_64",
            "python_implementation": "CPython",
            "python_version": "3.11.7",
            "cpu": {"brand_raw": "Test CPU", "count": 2},
        },
        "commit_info": {"id": commit, "branch": "main", "dirty": False},
        "benchmarks": benchmarks,
        "datetime": saved,
        "version": "5.3.1",
    }


def write_results(path: Path, infos: list[dict[str, Any]], **kwargs: Any) -> Path:
    path.write_text(json.dumps(document(infos, **kwargs)), encoding="utf-8")
    return path


def live_clock(speedup: float) -> dict[str, Any]:
    """Return the ``clock`` block of a case run with ``--syncbench-clock=live``."""
    summary = {"p50": 0.05, "p95": 0.1, "p99": 0.1, "max": 0.1, "count": 300}
    return {
        "mode": "live",
        "speedup": speedup,
        "latency_wall_s": summary,
        "tick_lag_s": summary | {"count": 1_440},
    }


def on_clock(
    infos: list[dict[str, Any]], clock: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Set every case's ``clock`` block, or remove it when ``clock`` is None (older results)."""
    for info in infos:
        if clock is None:
            info.pop("clock", None)
        else:
            info["clock"] = copy.deepcopy(clock)
    return infos
