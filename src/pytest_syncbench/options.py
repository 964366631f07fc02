"""Parsing of the plugin's command-line values, with errors that quote the bad value."""

from __future__ import annotations

import argparse


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
