"""Parsing of the plugin's command-line values, with errors that quote the bad value."""

from __future__ import annotations

import argparse
import math


def parse_seed(value: str) -> int:
    try:
        seed = int(value)
    except ValueError:
        seed = -1
    if seed < 0:
        raise argparse.ArgumentTypeError(
            f"invalid seed {value!r}: expected a non-negative integer such as 1 or 42"
        )
    return seed


def parse_solutions(value: str | None, available: list[str]) -> list[str]:
    """Return the solutions named in a comma-separated list, in the registry's order.

    ``None`` selects every available solution. Unknown or missing names raise ValueError.
    """
    if value is None:
        return list(available)
    wanted = [name.strip() for name in value.split(",") if name.strip()]
    if not wanted:
        raise ValueError(
            f"no solution named in {value!r}; available: {', '.join(available)}"
        )
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise ValueError(
            f"unknown solution {', '.join(map(repr, unknown))}; "
            f"available: {', '.join(available)}"
        )
    return [name for name in available if name in wanted]


# Bounds of --syncbench-speedup. Below 1 a scenario of hours would take longer than real
# time. Above 1,000 timeouts of a few simulated seconds last milliseconds of wall time: at
# 6,000 and 10,000 on a 2-core machine requests timed out, ticks came up to 53 simulated
# seconds late and cases hung or leaked sockets (docs/live.md).
MIN_SPEEDUP = 1.0
MAX_SPEEDUP = 1_000.0


def parse_speedup(value: str) -> float:
    """Parse ``--syncbench-speedup``: how many simulated seconds pass per wall second."""
    try:
        speedup = float(value)
    except ValueError:
        speedup = math.nan
    if not MIN_SPEEDUP <= speedup <= MAX_SPEEDUP:
        raise argparse.ArgumentTypeError(
            f"invalid speedup {value!r}: expected a number from {MIN_SPEEDUP:g} to "
            f"{MAX_SPEEDUP:,.0f}, such as 60 (one simulated minute per wall second)"
        )
    return speedup


def parse_port(value: str) -> int:
    """Parse a TCP port to listen on: 1 to 65535, or 0 for any free port."""
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"invalid port {value!r}: expected 1 to 65535 such as 9464, "
            "or 0 for any free port"
        )
    return port
