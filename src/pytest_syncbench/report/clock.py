"""The clock a case ran on, read from the ``clock`` block of ``extra_info["syncbench"]``.

A case is either ``{"mode": "virtual"}`` or ``{"mode": "live", "speedup": N, ...}``.
Results saved before the block existed have no ``clock`` key and ran on the virtual clock.
Figures of live cases include the machine's processing time multiplied by the speedup
(see docs/live.md), so cases of different clocks, or of different speedups, measure
different things and are never set side by side.

This module imports only the standard library, because ``compare`` imports it and the
report's own modules import ``compare``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

VIRTUAL = "virtual"
LIVE = "live"
LIVE_DOC = "docs/live.md"


class ClockError(ValueError):
    """A ``clock`` block that is not an object, names no known mode or has no speedup."""


@dataclass(frozen=True)
class Clock:
    """The clock of one case: ``virtual``, or ``live`` with its speedup."""

    mode: str
    speedup: float | None = None

    @property
    def live(self) -> bool:
        return self.mode == LIVE

    @property
    def label(self) -> str:
        """Return ``virtual`` or ``live 60x``."""
        if self.speedup is None:
            return self.mode
        return f"{self.mode} {self.speedup:g}x"

    @property
    def slug(self) -> str:
        """Return the label with only letters, digits and dashes, for HTML ids."""
        return self.label.replace(" ", "-").replace(".", "_")

    @property
    def caveat(self) -> str:
        """Return the sentence that qualifies a live case's figures, or "" if virtual."""
        if not self.live:
            return ""
        return (
            f"live clock at {self.speedup:g}x: figures include the machine's processing "
            f"time stretched {self.speedup:g} times; see {LIVE_DOC}"
        )

    @property
    def notice(self) -> str:
        """Return the caveat as a sentence: capitalized, with a full stop."""
        caveat = self.caveat
        return f"{caveat[:1].upper()}{caveat[1:]}." if caveat else ""


VIRTUAL_CLOCK = Clock(VIRTUAL)


def case_clock(info: dict[str, Any]) -> Clock:
    """Return the clock of a case's ``extra_info["syncbench"]``, or raise ClockError."""
    block = info.get("clock")
    if block is None:
        return VIRTUAL_CLOCK
    if not isinstance(block, dict):
        raise ClockError(f"clock is {block!r}, expected an object with a mode")
    mode = block.get("mode")
    if mode == VIRTUAL:
        return VIRTUAL_CLOCK
    if mode != LIVE:
        raise ClockError(f"clock.mode is {mode!r}, expected {VIRTUAL!r} or {LIVE!r}")
    speedup = block.get("speedup")
    if (
        isinstance(speedup, bool)
        or not isinstance(speedup, int | float)
        or not math.isfinite(speedup)
        or speedup <= 0
    ):
        raise ClockError(
            f"clock.speedup of a live case is {speedup!r}, expected a number > 0"
        )
    return Clock(LIVE, float(speedup))


def join_labels(clocks: set[Clock]) -> str:
    """Return the labels of ``clocks`` in a stable order, comma-separated."""
    return ", ".join(sorted(clock.label for clock in clocks))
