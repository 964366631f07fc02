"""Another consumer of the same HubSpot account, spending its shared rate-limit budget.

HubSpot's burst limit is per app and the search and daily limits are per account, so a
second worker or integration on the account takes requests from the same budget as the
solution. The neighbour here does not send HTTP requests: it admits requests directly on
the mock's :class:`~pytest_syncbench.hubspot.ratelimit.RateLimiter`, at a steady pace,
during its window. Its requests therefore use up the budget and show in the rate-limit
headers the solution reads, but never appear in the mock's call log, which counts only
the solution's calls.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass

from pytest_syncbench.clock import Clock
from pytest_syncbench.hubspot.ratelimit import RateLimiter

logger = logging.getLogger(__name__)

# Seconds between the neighbour's rounds of requests.
TICK_S = 0.1


@dataclass(frozen=True, slots=True)
class NeighbourSpec:
    """A neighbour's window and appetite.

    Within ``[start_s, start_s + duration_s)`` it tries ``burst_per_10s`` non-search
    requests every 10 seconds and ``searches_per_second`` searches every second, spread
    evenly. A request the limiter would reject is dropped, not retried, so the
    neighbour takes at most what its pace allows and never more than the account's
    limits.
    """

    start_s: float
    duration_s: float
    burst_per_10s: int
    searches_per_second: int = 0

    def __post_init__(self) -> None:
        for name in ("start_s", "duration_s"):
            value = getattr(self, name)
            if (
                not isinstance(value, int | float)
                or not math.isfinite(value)
                or value < 0
            ):
                raise ValueError(f"invalid {name} {value!r}: expected seconds >= 0")
        for name in ("burst_per_10s", "searches_per_second"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"invalid {name} {value!r}: expected an integer >= 0")

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclass(slots=True)
class NeighbourUsage:
    """Requests the neighbour got admitted and had rejected."""

    admitted: int = 0
    rejected: int = 0
    searches_admitted: int = 0
    searches_rejected: int = 0


async def run_neighbour(
    spec: NeighbourSpec, limiter: RateLimiter, clock: Clock
) -> NeighbourUsage:
    """Spend budget on ``limiter`` during the spec's window; return what it used."""
    usage = NeighbourUsage()
    delay = spec.start_s - clock.now()
    if delay > 0:
        await asyncio.sleep(delay)
    logger.info(
        "neighbour spends up to %d requests per 10 s and %d searches per second "
        "from %.0fs to %.0fs",
        spec.burst_per_10s,
        spec.searches_per_second,
        spec.start_s,
        spec.end_s,
    )
    # Requests owed so far, so that fractional paces add up exactly over time.
    burst_owed = 0.0
    search_owed = 0.0
    while clock.now() < spec.end_s:
        burst_owed += spec.burst_per_10s * TICK_S / 10
        search_owed += spec.searches_per_second * TICK_S
        now_ms = clock.now_ms()
        while burst_owed >= 1:
            burst_owed -= 1
            if _has_room(limiter, now_ms, search=False):
                limiter.check_api(now_ms)
                usage.admitted += 1
            else:
                usage.rejected += 1
        while search_owed >= 1:
            search_owed -= 1
            if _has_room(limiter, now_ms, search=True):
                limiter.check_search(now_ms)
                usage.searches_admitted += 1
            else:
                usage.searches_rejected += 1
        await asyncio.sleep(TICK_S)
    logger.info(
        "neighbour stopped at %.0fs: %d requests and %d searches admitted",
        clock.now(),
        usage.admitted,
        usage.searches_admitted,
    )
    return usage


def _has_room(limiter: RateLimiter, now_ms: int, *, search: bool) -> bool:
    """Return whether the limiter would admit a request now.

    The neighbour checks first, so that its own rejections stay out of the limiter's
    ``rejected`` counters, which count the solution's 429s.
    """
    limits = limiter.config.limits
    if limits.daily is not None and limiter.daily.used(now_ms) >= limits.daily:
        return False
    if search:
        return limiter.search.count(now_ms) < limiter.config.search_per_second
    return limiter.burst.count(now_ms) < limits.burst_per_10s
