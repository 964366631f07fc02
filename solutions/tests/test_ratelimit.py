import asyncio
import logging
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions.common.ratelimit import (
    Backoff,
    SlidingWindowLimiter,
    hubspot_burst_limit,
)
from solutions.tests.support import run

LOG = logging.getLogger("test")


async def admit_all(limiter: SlidingWindowLimiter, offsets: list[float]) -> list[float]:
    """Start one requester per offset; return the loop times at which each got in."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    admitted: list[float] = []

    async def requester(offset: float) -> None:
        await asyncio.sleep(offset)
        await limiter.acquire()
        admitted.append(loop.time() - start)

    await asyncio.gather(*(requester(o) for o in offsets))
    return sorted(admitted)


def max_in_any_window(times: list[float], window: float) -> int:
    # The busiest window starts at an admission. The loop keeps time in microseconds, so
    # an admission may be seen up to one microsecond before the window ends.
    return max(sum(1 for u in times if t <= u < t + window - 1e-6) for t in times)


@settings(max_examples=40, deadline=None)
@given(
    limit=st.integers(1, 12),
    offsets=st.lists(st.floats(0, 40, allow_nan=False), min_size=1, max_size=60),
)
def test_limit_holds_in_every_window(limit, offsets):
    limiter = SlidingWindowLimiter(limit, 10.0)
    times = run(lambda: admit_all(limiter, offsets))
    assert max_in_any_window(times, 10.0) <= limit


def test_admits_a_full_budget_at_once():
    times = run(lambda: admit_all(SlidingWindowLimiter(5, 10.0), [0.0] * 5))
    assert times == [0.0] * 5


def test_excess_request_waits_for_window():
    times = run(lambda: admit_all(SlidingWindowLimiter(5, 10.0), [0.0] * 7))
    assert times[5:] == pytest.approx([10.0, 10.0])


def test_acquire_returns_the_seconds_waited():
    async def scenario() -> list[float]:
        limiter = SlidingWindowLimiter(1, 2.0)
        return [await limiter.acquire() for _ in range(3)]

    assert run(scenario) == pytest.approx([0.0, 2.0, 2.0])


def test_hold_pauses_every_request():
    async def scenario() -> float:
        limiter = SlidingWindowLimiter(100, 10.0)
        limiter.hold(7.5)
        return await limiter.acquire()

    assert run(scenario) == pytest.approx(7.5)


def test_rejects_a_limit_below_one():
    with pytest.raises(ValueError, match="limit=0"):
        SlidingWindowLimiter(0, 10.0)


def test_backoff_doubles_with_small_jitter():
    backoff = Backoff(random.Random("seed"), 6)
    delays = [backoff.delay(n) for n in range(1, 6)]
    for delay, base in zip(delays, [1, 2, 4, 8, 16], strict=True):
        assert base <= delay <= base * 1.1


def test_backoff_is_capped_at_sixty_seconds():
    assert Backoff(random.Random("seed"), 20).delay(12) == 60.0


def test_backoff_repeats_for_one_seed():
    a = Backoff(random.Random("seed"), 6)
    b = Backoff(random.Random("seed"), 6)
    assert [a.delay(n) for n in range(1, 6)] == [b.delay(n) for n in range(1, 6)]


@pytest.mark.parametrize(
    ("tier", "expected"),
    [
        ("free", 90),
        ("starter", 90),
        ("professional", 171),
        ("Enterprise", 171),
        ("oauth", 99),
    ],
)
def test_burst_budget_is_ninety_percent_of_the_tier(tier, expected):
    assert hubspot_burst_limit(tier, LOG) == expected


def test_unknown_tier_falls_back_to_the_lowest_limit(caplog):
    with caplog.at_level(logging.WARNING):
        limit = hubspot_burst_limit("platinum", LOG)
    assert limit == 90
    assert "platinum" in caplog.text
