"""Client-side pacing and retry backoff shared by the HubSpot and Databox clients.

Waiting before a request is cheaper than sending it and backing off after a 429: HubSpot
counts requests per app in a rolling 10-second window, and Databox rejects more than 10
requests per second. Time is read from the running event loop, which is virtual in
scenarios; jitter comes from a seeded generator so that runs repeat exactly.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random

# Requests per rolling 10 seconds by account tier, from HubSpot's API usage guidelines
# (private apps per app; OAuth apps per installing account).
HUBSPOT_BURST_LIMITS: dict[str, int] = {
    "free": 100,
    "starter": 100,
    "professional": 190,
    "enterprise": 190,
    "oauth": 110,
}

# Share of the tier's limit the client allows itself: the server counts arrivals, which
# trail our admissions by the request's latency, and other tools may share the app.
BURST_HEADROOM = 0.9

# Waits shorter than this are rounding errors: looptime keeps time in microseconds, and
# a sleep of less than that may return without the clock moving, so waiting would spin.
_RESOLUTION_S = 1e-6

# Jitter stretches each wait by up to this share, never shortens it: a wait for a rate
# window to free must not end early.
JITTER = 0.1


class SlidingWindowLimiter:
    """Admit at most ``limit`` requests in any ``window_s`` seconds, in arrival order.

    The limiter remembers the admission times of the last ``limit`` requests; a request
    waits until the oldest of them has left the window. :meth:`hold` closes the limiter
    for a while, which is how a 429 pauses every request of a client at once.

    ::

        limiter = SlidingWindowLimiter(171, 10.0)
        await limiter.acquire()
    """

    def __init__(self, limit: int, window_s: float) -> None:
        if not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit={limit!r}: must be an integer >= 1")
        if not window_s > 0:
            raise ValueError(f"window_s={window_s!r}: must be a number of seconds > 0")
        self.limit = limit
        self.window_s = window_s
        self._admitted: collections.deque[float] = collections.deque(maxlen=limit)
        self._held_until = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> float:
        """Wait until a request may be sent; return the seconds waited."""
        loop = asyncio.get_running_loop()
        arrived = loop.time()
        async with self._lock:
            while (free_at := self._free_at()) - loop.time() > _RESOLUTION_S:
                await asyncio.sleep(free_at - loop.time())
            # Book the admission no earlier than the window allows, even if the loop
            # woke up a rounding error before it.
            self._admitted.append(max(free_at, loop.time()))
        return loop.time() - arrived

    def hold(self, seconds: float) -> None:
        """Admit nothing for the next ``seconds``."""
        until = asyncio.get_running_loop().time() + seconds
        self._held_until = max(self._held_until, until)

    def _free_at(self) -> float:
        free_at = self._held_until
        if len(self._admitted) == self.limit:
            free_at = max(free_at, self._admitted[0] + self.window_s)
        return free_at


class Backoff:
    """Exponential backoff from ``base_s`` doubling up to ``cap_s``, seeded jitter."""

    def __init__(
        self,
        rng: random.Random,
        max_attempts: int,
        *,
        base_s: float = 1.0,
        cap_s: float = 60.0,
    ) -> None:
        if not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError(f"max_attempts={max_attempts!r}: must be an integer >= 1")
        if not 0 < base_s <= cap_s:
            raise ValueError(
                f"base_s={base_s!r}, cap_s={cap_s!r}: need 0 < base_s <= cap_s"
            )
        self.rng = rng
        self.max_attempts = max_attempts
        self.base_s = base_s
        self.cap_s = cap_s

    def delay(self, attempt: int) -> float:
        """Return the wait after failed attempt ``attempt`` (counted from 1)."""
        return min(self.cap_s, self.jittered(self.base_s * 2 ** (attempt - 1)))

    def jittered(self, seconds: float) -> float:
        return seconds * (1 + JITTER * self.rng.random())


def hubspot_burst_limit(tier: str, logger: logging.Logger) -> int:
    """Return the client-side budget per 10 seconds for a HubSpot account ``tier``."""
    limit = HUBSPOT_BURST_LIMITS.get(tier.strip().lower())
    if limit is None:
        limit = min(HUBSPOT_BURST_LIMITS.values())
        logger.warning(
            "unknown HubSpot tier %r: pacing to the lowest tier's limit", tier
        )
    return max(1, int(limit * BURST_HEADROOM))
