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
    ("CPU s", ">"),
    ("sim s", ">"),
    ("wall s", ">"),
)


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


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
        "dup: data stored twice; lost: changes never delivered; CPU s: the solution's own tasks"
    )
    return lines
