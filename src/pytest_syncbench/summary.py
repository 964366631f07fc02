"""The table printed at the end of a run."""

from __future__ import annotations

from typing import Any

COLUMNS = (
    ("scenario", "<"),
    ("solution", "<"),
    ("status", "<"),
    ("API calls", ">"),
    ("429s", ">"),
    ("p50 s", ">"),
    ("p95 s", ">"),
    ("missing", ">"),
    ("stale", ">"),
    ("ghost", ">"),
    ("dup", ">"),
    ("lost", ">"),
    ("ok %", ">"),
    ("recov s", ">"),
    ("CPU s", ">"),
    ("sim s", ">"),
    ("wall s", ">"),
)


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.1f}"


def row(info: dict[str, Any]) -> list[str]:
    latency = info["latency_s"]
    consistency = info["consistency"]
    return [
        info["scenario"],
        info["solution"],
        info["status"],
        f"{info['api_calls']['total']:,}",
        f"{info['api_calls']['rate_limited']:,}",
        _seconds(latency["p50"]),
        _seconds(latency["p95"]),
        f"{consistency['missing']:,}",
        f"{consistency['stale']:,}",
        f"{consistency['ghost']:,}",
        f"{consistency.get('duplicated', 0):,}",
        f"{info['data_loss']:,}",
        _percent(info.get("success_rate")),
        _seconds(info.get("recovery_s")),
        f"{info['cpu_s']:.2f}",
        _seconds(info["simulated_s"]),
        f"{info['wall_s']:.1f}",
    ]


def format_summary(results: list[dict[str, Any]]) -> list[str]:
    """Return the lines of a per-scenario, per-solution table of results."""
    body = [row(info) for info in results]
    header = [name for name, _ in COLUMNS]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        parts = [
            f"{cell:{align}{width}}"
            for cell, (_, align), width in zip(cells, COLUMNS, widths, strict=True)
        ]
        return "  ".join(parts).rstrip()

    lines = [line(header), line(["-" * w for w in widths])]
    lines += [line(r) for r in body]
    lines.append(
        "latency: simulated seconds from a change in HubSpot to its visibility in Databox; "
        "dup: data stored twice; lost: changes never delivered; "
        "ok %: requests the mocks answered 2xx; "
        "recov s: seconds from the last fault's end until nothing from before it is pending; "
        "CPU s: the solution's own tasks"
    )
    return lines


def _break_cell(entry: dict[str, Any]) -> str:
    if entry["broke_at"] is None:
        held = entry["held_up_to"]
        return "-" if held is None else f"held up to {held:,}"
    return f"broke at {entry['broke_at']:,} ({', '.join(entry['reasons'])})"


def format_sweep_summary(sweeps: list[dict[str, Any]]) -> list[str]:
    """Return the lines of a table of each sweep's breaking points, one per solution."""
    if not sweeps:
        return []
    plan = sweeps[0]["sweep"]["plan"]
    rate_header = f"updates/h at {plan['update_rate']['companies']:,} companies"
    count_header = (
        f"companies at {plan['record_count']['updates_per_hour']:,} updates/h"
    )
    header = ["solution", "status", rate_header, count_header, "wall s"]
    body = []
    for info in sweeps:
        # The point both axes share is listed twice but ran once.
        points = {
            (p["companies"], p["updates_per_hour"]): p
            for p in info["sweep"]["update_rate"] + info["sweep"]["record_count"]
        }
        wall = sum(p.get("wall_s") or 0.0 for p in points.values())
        body.append(
            [
                info["solution"],
                info["status"],
                _break_cell(info["breaking_point"]["update_rate"]),
                _break_cell(info["breaking_point"]["record_count"]),
                f"{wall:.1f}",
            ]
        )
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(f"{c:<{w}}" for c, w in zip(cells, widths, strict=True))

    lines = [line(header), line(["-" * w for w in widths])]
    lines += [line(r).rstrip() for r in body]
    lines.append(
        "a point breaks when its run misses the deadline, its backlog still grows late in "
        "the stream, or its calls projected to a day exceed the daily limit; "
        "docs/scale.md"
    )
    return lines


def solution_error_lines(results: list[dict[str, Any]]) -> list[str]:
    """Return one warning line for each case whose solution raised or stalled."""
    lines = []
    for info in results:
        count = info.get("solution_error_count") or 0
        if not count:
            continue
        first = info["solution_errors"][0]
        more = f"; +{count - 1} more" if count > 1 else ""
        lines.append(
            f"syncbench: {info['scenario']}[{info['solution']}] solution errors: "
            f"{count} ({first['where']}: {first['error']}{more}); see the log of "
            f"syncbench.solution.{info['solution']}"
        )
    return lines


# Simulated seconds of tick lag (p95) past which a live case is flagged: the process fell
# behind the speedup often enough to stretch the simulated figures noticeably.
LIVE_LAG_WARN_S = 1.0


def live_lines(results: list[dict[str, Any]]) -> list[str]:
    """Return one line per case run on the live clock: wall latencies and tick lag."""
    lines = []
    for info in results:
        clock = info.get("clock") or {}
        if clock.get("mode") != "live":
            continue
        wall = clock["latency_wall_s"]
        lag = clock["tick_lag_s"]
        line = (
            f"syncbench: live {clock['speedup']:g}x {info['scenario']}"
            f"[{info['solution']}] wall latency p50 {_wall(wall['p50'])}, "
            f"p95 {_wall(wall['p95'])}; ticks late by p95 {_seconds(lag['p95'])}, "
            f"max {_seconds(lag['max'])} simulated s"
        )
        if lag["p95"] is not None and lag["p95"] > LIVE_LAG_WARN_S:
            line += "; the process fell behind, so lower --syncbench-speedup"
        lines.append(line)
    return lines


def _wall(value: float | None) -> str:
    return "-" if value is None else f"{value:,.3f} s"
