"""Rolling-window request limiter on the simulated clock."""

from __future__ import annotations

import math
from collections import deque

# Far below looptime's default 1e-6 s resolution, far above float error at these scales.
_TOLERANCE_S = 1e-9


class RollingWindowLimiter:
    """Admit at most ``limit`` requests in any window of ``window_s`` seconds.

    Databox states its push limit per second without saying whether the second is a
    calendar second or a sliding one. A sliding window is the stricter reading, because
    a burst straddling a second boundary cannot pass twice the limit. Rejected requests
    take no slot, because the docs say they are not stored.
    """

    def __init__(self, rate_per_s: float, window_s: float = 1.0) -> None:
        if rate_per_s <= 0 or window_s <= 0:
            raise ValueError(
                f"rate_per_s={rate_per_s!r}, window_s={window_s!r}: "
                "both must be above 0"
            )
        limit = math.floor(rate_per_s * window_s)
        if limit < 1:
            # A rate below one per window (for example 0.5/s) becomes one request per
            # 1/rate seconds rather than rounding down to a limiter that admits nothing.
            limit, window_s = 1, 1 / rate_per_s
        self.window_s = window_s
        self.limit = limit
        self._admitted: deque[float] = deque()

    def try_acquire(self, now_s: float) -> bool:
        """Take a slot at ``now_s`` if one is free, and return whether one was free."""
        admitted = self._admitted
        # The tolerance keeps float error from holding a slot past its window: a client
        # pacing itself at exactly the limit must not be refused for 1e-16 seconds.
        horizon = now_s - self.window_s + _TOLERANCE_S
        while admitted and admitted[0] <= horizon:
            admitted.popleft()
        if len(admitted) >= self.limit:
            return False
        admitted.append(now_s)
        return True
