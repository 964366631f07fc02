"""Properties of the mock's rate limiter over random request times (Hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_syncbench.clock import DEFAULT_EPOCH_MS
from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.hubspot.errors import CorrelationIds
from pytest_syncbench.hubspot.ratelimit import DAY_MS, RateLimiter

EXAMPLES = settings(max_examples=150, deadline=None)


def _times(gaps: list[int]) -> list[int]:
    times = []
    now = DEFAULT_EPOCH_MS
    for gap in gaps:
        now += gap
        times.append(now)
    return times


def _max_in_window(admitted: list[int], width_ms: int) -> int:
    """Return the maximum number of admitted times in any window (t - width_ms, t]."""
    maximum = 0
    first = 0
    for last, time in enumerate(admitted):
        while admitted[first] <= time - width_ms:
            first += 1
        maximum = max(maximum, last - first + 1)
    return maximum


@EXAMPLES
@given(
    burst=st.integers(1, 20),
    gaps=st.lists(st.integers(0, 2_500), min_size=1, max_size=300),
)
def test_burst_never_exceeded(burst: int, gaps: list[int]) -> None:
    limiter = RateLimiter(HubSpotConfig(burst_limit=burst), CorrelationIds(0))
    admitted: list[int] = []
    for time in _times(gaps):
        in_window = sum(1 for t in admitted if t > time - 10_000)
        decision = limiter.check_api(time)
        if decision.policy is None:
            admitted.append(time)
        else:
            # A rejection means the window really was full.
            assert decision.policy == "TEN_SECONDLY_ROLLING"
            assert in_window >= burst
    assert _max_in_window(admitted, 10_000) <= burst


@EXAMPLES
@given(
    daily=st.integers(1, 30),
    tz_offset_minutes=st.integers(-840, 840),
    gaps=st.lists(st.integers(0, 3 * 3_600_000), min_size=1, max_size=200),
)
def test_daily_never_exceeded(
    daily: int, tz_offset_minutes: int, gaps: list[int]
) -> None:
    config = HubSpotConfig(
        daily_limit=daily, burst_limit=1_000, tz_offset_minutes=tz_offset_minutes
    )
    limiter = RateLimiter(config, CorrelationIds(0))
    offset_ms = tz_offset_minutes * 60_000
    per_day: dict[int, int] = {}
    for time in _times(gaps):
        day = (time + offset_ms) // DAY_MS
        decision = limiter.check_api(time)
        if decision.policy is None:
            per_day[day] = per_day.get(day, 0) + 1
        else:
            assert decision.policy == "DAILY"
            assert per_day.get(day, 0) >= daily
    assert max(per_day.values(), default=0) <= daily


@EXAMPLES
@given(
    per_second=st.integers(1, 6),
    gaps=st.lists(st.integers(0, 600), min_size=1, max_size=300),
)
def test_search_never_exceeds_per_second(per_second: int, gaps: list[int]) -> None:
    config = HubSpotConfig(search_per_second=per_second)
    limiter = RateLimiter(config, CorrelationIds(0))
    admitted: list[int] = []
    for time in _times(gaps):
        in_window = sum(1 for t in admitted if t > time - 1_000)
        decision = limiter.check_search(time)
        if decision.policy is None:
            admitted.append(time)
        else:
            assert decision.policy == "SECONDLY"
            assert in_window >= per_second
        assert decision.headers == {}
    assert _max_in_window(admitted, 1_000) <= per_second


@EXAMPLES
@given(gaps=st.lists(st.integers(0, 400), min_size=1, max_size=300))
def test_default_search_limit_is_five(gaps: list[int]) -> None:
    limiter = RateLimiter(HubSpotConfig(), CorrelationIds(0))
    admitted = [t for t in _times(gaps) if limiter.check_search(t).policy is None]
    assert _max_in_window(admitted, 1_000) <= 5
