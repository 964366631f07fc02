"""HubSpot's API rate limits: a rolling 10-second burst, a daily quota and the search limit.

Sources: HubSpot's API usage guidelines (burst and daily limits, the response headers and
the 429 bodies), the 2024 changelog on API limit increase packs (see ``config.limits``) and
the CRM search guide (5 search requests per second per account, and search responses carry
no rate-limit headers). OAuth apps get no daily limit and no ``-Daily`` headers.

A request rejected with 429 is not counted against any budget. HubSpot's docs do not say
whether rejected calls count. Not counting them keeps the window's meaning simple (the
burst frees up 10 s after the oldest admitted call) and means a client that retries without
backing off is throttled, not locked out for as long as it keeps retrying.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson

from pytest_syncbench.hubspot.config import HubSpotConfig, Tier
from pytest_syncbench.hubspot.errors import CorrelationIds

INTERVAL_MS = 10_000
SECOND_MS = 1_000
DAY_MS = 86_400_000

# HubSpot names only TEN_SECONDLY_ROLLING and DAILY. For the search limit its 429 message
# reads "secondly limit"; SECONDLY is the policy name this mock gives it.
TEN_SECONDLY_ROLLING = "TEN_SECONDLY_ROLLING"
DAILY = "DAILY"
SECONDLY = "SECONDLY"

_MESSAGES = {
    TEN_SECONDLY_ROLLING: "You have reached your ten_secondly_rolling limit.",
    DAILY: "You have reached your daily limit.",
    SECONDLY: "You have reached your secondly limit.",
}


class RollingWindow:
    """Count of admitted requests in the last ``width_ms`` milliseconds."""

    def __init__(self, width_ms: int) -> None:
        self.width_ms = width_ms
        self._times: deque[int] = deque()

    def count(self, now_ms: int) -> int:
        times = self._times
        horizon = now_ms - self.width_ms
        while times and times[0] <= horizon:
            times.popleft()
        return len(times)

    def admit(self, now_ms: int) -> None:
        self._times.append(now_ms)

    def ms_until_free(self, now_ms: int, limit: int) -> int:
        """Return the wait until fewer than ``limit`` admitted requests are in the window."""
        excess = self.count(now_ms) - limit
        if excess < 0:
            return 0
        return self._times[excess] + self.width_ms - now_ms


class DailyQuota:
    """Requests admitted since the last midnight in the account's time zone."""

    def __init__(self, tz_offset_minutes: int) -> None:
        self.offset_ms = tz_offset_minutes * 60_000
        self._day = -1
        self._used = 0

    def used(self, now_ms: int) -> int:
        day = (now_ms + self.offset_ms) // DAY_MS
        if day != self._day:
            self._day = day
            self._used = 0
        return self._used

    def admit(self, now_ms: int) -> None:
        self.used(now_ms)
        self._used += 1

    def ms_until_reset(self, now_ms: int) -> int:
        return DAY_MS - (now_ms + self.offset_ms) % DAY_MS


@dataclass(slots=True)
class Decision:
    """Outcome of one rate-limit check: the headers to send, and the 429 body if rejected."""

    headers: dict[str, str]
    rejected_body: bytes | None = None
    policy: str | None = None


class RateLimiter:
    """All limits of one mock account, keyed on the scenario clock's epoch milliseconds."""

    def __init__(self, config: HubSpotConfig, correlation_ids: CorrelationIds) -> None:
        self.config = config
        self.correlation_ids = correlation_ids
        self.burst = RollingWindow(INTERVAL_MS)
        # Feeds only the deprecated -Secondly-Remaining header, never a rejection.
        self.secondly = RollingWindow(SECOND_MS)
        self.search = RollingWindow(SECOND_MS)
        self.daily = DailyQuota(config.tz_offset_minutes)
        self.rejected: dict[str, int] = {TEN_SECONDLY_ROLLING: 0, DAILY: 0, SECONDLY: 0}

    def check_api(self, now_ms: int) -> Decision:
        """Admit or reject a non-search request and build its rate-limit headers."""
        limits = self.config.limits
        daily_used = self.daily.used(now_ms)
        burst_used = self.burst.count(now_ms)
        policy: str | None = None
        wait_ms = 0
        if limits.daily is not None and daily_used >= limits.daily:
            policy = DAILY
            wait_ms = self.daily.ms_until_reset(now_ms)
        elif burst_used >= limits.burst_per_10s:
            policy = TEN_SECONDLY_ROLLING
            wait_ms = self.burst.ms_until_free(now_ms, limits.burst_per_10s)
        else:
            self.burst.admit(now_ms)
            self.secondly.admit(now_ms)
            self.daily.admit(now_ms)
            daily_used += 1
            burst_used += 1
        headers = self._headers(now_ms, daily_used, burst_used)
        if policy is None:
            return Decision(headers)
        return self._reject(policy, wait_ms, headers)

    def check_search(self, now_ms: int) -> Decision:
        """Admit or reject a search request.

        Search has its own per-second limit and is not counted in the 10-second burst
        window. It is counted against the daily quota, which covers every call.
        """
        limits = self.config.limits
        limit = self.config.search_per_second
        if limits.daily is not None and self.daily.used(now_ms) >= limits.daily:
            return self._reject(DAILY, self.daily.ms_until_reset(now_ms), {})
        if self.search.count(now_ms) >= limit:
            return self._reject(SECONDLY, self.search.ms_until_free(now_ms, limit), {})
        self.search.admit(now_ms)
        self.daily.admit(now_ms)
        return Decision({})

    def injected_rejection(self, now_ms: int, search: bool) -> Decision:
        """Build a 429 for a fault rule's storm, as if the limit were spent.

        The request is not admitted and is not counted in :attr:`rejected`. A search gets
        the secondly body and no headers; other requests get the burst body and headers
        showing no burst left.
        """
        if search:
            body = self._body(SECONDLY)
            headers: dict[str, str] = {}
        else:
            body = self._body(TEN_SECONDLY_ROLLING)
            burst = self.config.limits.burst_per_10s
            headers = self._headers(now_ms, self.daily.used(now_ms), burst)
            headers["X-HubSpot-RateLimit-Secondly-Remaining"] = "0"
        if self.config.send_retry_after:
            headers["Retry-After"] = "1"
        return Decision(headers, body, SECONDLY if search else TEN_SECONDLY_ROLLING)

    def _headers(self, now_ms: int, daily_used: int, burst_used: int) -> dict[str, str]:
        limits = self.config.limits
        per_second = max(1, limits.burst_per_10s // 10)
        headers = {
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(INTERVAL_MS),
            "X-HubSpot-RateLimit-Max": str(limits.burst_per_10s),
            "X-HubSpot-RateLimit-Remaining": str(
                max(0, limits.burst_per_10s - burst_used)
            ),
            "X-HubSpot-RateLimit-Secondly": str(per_second),
            "X-HubSpot-RateLimit-Secondly-Remaining": str(
                max(0, per_second - self.secondly.count(now_ms))
            ),
        }
        if self.config.tier != Tier.OAUTH and limits.daily is not None:
            headers["X-HubSpot-RateLimit-Daily"] = str(limits.daily)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(
                max(0, limits.daily - daily_used)
            )
        return headers

    def _reject(self, policy: str, wait_ms: int, headers: dict[str, str]) -> Decision:
        self.rejected[policy] += 1
        if self.config.send_retry_after:
            headers = {**headers, "Retry-After": str(max(1, math.ceil(wait_ms / 1000)))}
        return Decision(headers, self._body(policy), policy)

    def _body(self, policy: str) -> bytes:
        body: dict[str, Any] = {
            "status": "error",
            "message": _MESSAGES[policy],
            "errorType": "RATE_LIMIT",
            "correlationId": self.correlation_ids.next(),
            "policyName": policy,
        }
        return orjson.dumps(body)
