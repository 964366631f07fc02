"""Simulated wall clock shared by the mocks, the workload and the solutions.

Scenarios run on a virtual-time event loop (see :mod:`pytest_syncbench.loop`), so nothing in
a scenario may read the system clock. Every component asks a :class:`Clock` instead, which
maps the loop's time onto a fixed calendar epoch so that timestamps, daily quota resets and
webhook signatures look like the real services' and repeat exactly for the same seed.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

# Monday 2026-01-05 09:00:00 UTC: a working-day morning, far from a daily quota reset.
DEFAULT_EPOCH_MS = 1_767_603_600_000


def iso_ms(epoch_ms: int) -> str:
    """Format epoch milliseconds as HubSpot does: ISO-8601 UTC with milliseconds."""
    # time.gmtime is several times faster than datetime formatting, which matters when
    # a million seeded companies each get two timestamps.
    seconds, millis = divmod(epoch_ms, 1000)
    t = time.gmtime(seconds)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{millis:03d}Z"
    )


def parse_iso_ms(value: str) -> int:
    """Parse an ISO-8601 timestamp (``Z`` or an offset) into epoch milliseconds."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return round(dt.timestamp() * 1000)


class Clock:
    """The scenario's calendar time, driven by the running event loop's clock."""

    def __init__(self, epoch_ms: int = DEFAULT_EPOCH_MS) -> None:
        self.epoch_ms = epoch_ms
        self._origin: float | None = None

    def start(self) -> None:
        """Pin simulated second zero to the running loop's current time."""
        self._origin = asyncio.get_running_loop().time()

    def now(self) -> float:
        """Return seconds since the scenario started, on the loop's clock."""
        if self._origin is None:
            raise RuntimeError(
                "Clock.start() must be called on the scenario's loop first"
            )
        return asyncio.get_running_loop().time() - self._origin

    def now_ms(self) -> int:
        """Return the current calendar time as epoch milliseconds."""
        return self.epoch_ms + round(self.now() * 1000)

    def to_seconds(self, epoch_ms: int) -> float:
        """Convert calendar epoch milliseconds to seconds since the scenario started."""
        return (epoch_ms - self.epoch_ms) / 1000
