"""The live clock: wall time sped up by a factor, and cases run on it."""

from __future__ import annotations

import asyncio
import time

import pytest

from pytest_syncbench.harness import CaseSetup, run_case
from pytest_syncbench.loop import (
    LiveTimeLoop,
    StallWatchdog,
    close_loop,
    new_case_loop,
)
from pytest_syncbench.registry import discover
from pytest_syncbench.results import extra_info
from pytest_syncbench.scenarios import ScenarioSpec, StreamSpec

SPEC = ScenarioSpec(
    name="live-short",
    description="a short stream for the live clock",
    companies=200,
    streams=(StreamSpec(60, 300.0, 300.0),),
    settle_s=900.0,
)


def test_loop_time_runs_speedup_times_faster_than_wall_time():
    loop = LiveTimeLoop(speedup=3000.0)

    async def sleep_600() -> tuple[float, float]:
        wall_start, loop_start = time.monotonic(), loop.time()
        await asyncio.sleep(600.0)
        return time.monotonic() - wall_start, loop.time() - loop_start

    try:
        wall_s, loop_s = loop.run_until_complete(sleep_600())
    finally:
        close_loop(loop)
    assert loop_s >= 600.0
    # 600 loop seconds at 3000x are 0.2 wall seconds; a busy machine may add some.
    assert 0.19 <= wall_s < 2.0
    assert loop_s == pytest.approx(wall_s * 3000.0, rel=0.05)


@pytest.mark.parametrize("speedup", [0.0, -1.0, float("nan"), float("inf")])
def test_loop_rejects_bad_speedup(speedup):
    with pytest.raises(ValueError, match="invalid speedup"):
        LiveTimeLoop(speedup)


def test_unknown_clock_mode_is_named():
    with pytest.raises(ValueError, match="unknown clock mode 'wall'"):
        new_case_loop("wall", 1.0)


def test_live_case_reports_wall_latencies_beside_simulated_ones():
    setup = CaseSetup(
        spec=SPEC,
        solution_cls=discover()["webhook-sync"],
        seed=2,
        clock_mode="live",
        speedup=1000.0,
    )
    info = extra_info(run_case(setup), "test", setup.tier)

    assert info["status"] == "converged", info["error"]
    assert info["data_loss"] == 0
    clock = info["clock"]
    assert clock["mode"] == "live"
    assert clock["speedup"] == 1000.0
    simulated, wall = info["latency_s"], clock["latency_wall_s"]
    assert wall["count"] == simulated["count"] > 0
    for key in ("p50", "p95", "max"):
        assert wall[key] == pytest.approx(simulated[key] / 1000.0, rel=0.01, abs=0.002)
    assert clock["tick_lag_s"]["count"] > 0


def test_virtual_case_says_its_clock():
    setup = CaseSetup(spec=SPEC, solution_cls=discover()["webhook-sync"], seed=2)
    info = extra_info(run_case(setup), "test", setup.tier)
    assert info["clock"] == {"mode": "virtual"}


@pytest.mark.parametrize("value", ["0", "0.5", "-5", "fast", "nan", "1001", "1e300"])
def test_bad_speedup_option_is_a_usage_error(pytester, value):
    result = pytester.runpytest(
        "--syncbench-clock=live", f"--syncbench-speedup={value}"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*invalid speedup '{value}': expected a number from 1 to 1,000*"]
    )


def test_speedup_without_live_clock_is_a_usage_error(pytester):
    result = pytester.runpytest("--syncbench", "--syncbench-speedup=100")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--syncbench-speedup applies only to the live clock*"]
    )


def test_live_clock_is_named_in_the_header(pytester):
    pytester.makepyfile("def test_nothing():\n    assert True\n")
    result = pytester.runpytest(
        "--syncbench", "--syncbench-clock=live", "--syncbench-speedup=120"
    )
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["syncbench: live clock, 120 simulated seconds per wall second"]
    )


def test_live_clock_default_speedup_is_named(pytester):
    pytester.makepyfile("def test_nothing():\n    assert True\n")
    result = pytester.runpytest("--syncbench", "--syncbench-clock=live")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["syncbench: live clock, 60 simulated seconds per wall second"]
    )


def test_closing_gives_up_on_a_task_that_ignores_cancellation(caplog):
    loop = LiveTimeLoop(speedup=100.0)
    loop.watchdog = StallWatchdog(0.2, lambda: None)

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(3600.0)
            except asyncio.CancelledError:
                continue

    task = loop.create_task(stubborn())
    loop.run_until_complete(_tick())
    started = time.monotonic()
    close_loop(loop)

    assert time.monotonic() - started < 5.0
    assert not task.done()
    assert "ignored cancellation and still ran 0.2 wall seconds later" in caplog.text


async def _tick() -> None:
    await asyncio.sleep(0)
