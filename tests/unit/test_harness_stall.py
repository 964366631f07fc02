"""A solution that keeps the loop busy without letting the clock move fails its case."""

import asyncio
import logging
import threading
import time

import pytest

from pytest_syncbench.generator import StreamSpec
from pytest_syncbench.harness import STOP_TIMEOUT_S, CaseOutcome, CaseSetup, run_case
from pytest_syncbench.loop import CpuLedger, StallWatchdog
from pytest_syncbench.results import extra_info
from pytest_syncbench.scenarios import ScenarioSpec
from pytest_syncbench.solution import Solution, SolutionContext

SPEC = ScenarioSpec(
    name="stall",
    description="a short stream",
    companies=50,
    streams=(StreamSpec(20, 600.0, 60.0),),
    settle_s=600.0,
)
# Wall seconds the clock may stand still in these tests.
STALL_LIMIT_S = 1.0
# Wall seconds a case may take before the test gives up on it. The cases below end after
# at most three stall limits: the run, the teardown and the closing of the loop.
CASE_WALL_LIMIT_S = 30.0


class SpinsInStart(Solution):
    """Waits in start() for a flag that nothing sets, polling with sleep(0)."""

    name = "spins-in-start"

    async def start(self, context: SolutionContext) -> None:
        self.ready = False
        while not self.ready:
            await asyncio.sleep(0)

    async def stop(self) -> None:
        pass


class SpinsInBackground(Solution):
    """Polls with sleep(0) in a background task; stop() cancels it."""

    name = "spins-in-background"

    async def start(self, context: SolutionContext) -> None:
        self._task = asyncio.create_task(self._spin())

    async def _spin(self) -> None:
        while True:
            await asyncio.sleep(0)

    async def stop(self) -> None:
        self._task.cancel()


class IgnoresCancellation(Solution):
    """Spins in a background task that swallows every cancellation; stop() leaves it."""

    name = "ignores-cancellation"

    async def start(self, context: SolutionContext) -> None:
        self._task = asyncio.create_task(self._spin())

    async def _spin(self) -> None:
        while True:
            try:
                await asyncio.sleep(0)
            except asyncio.CancelledError:
                pass

    async def stop(self) -> None:
        pass


class SpinsInStop(Solution):
    """Syncs nothing and spins in stop(), swallowing cancellation."""

    name = "spins-in-stop"

    async def start(self, context: SolutionContext) -> None:
        pass

    async def stop(self) -> None:
        while True:
            try:
                await asyncio.sleep(0)
            except asyncio.CancelledError:
                pass


class StopNeverReturns(Solution):
    """Syncs nothing and waits in stop() for an event that is never set."""

    name = "stop-never-returns"

    async def start(self, context: SolutionContext) -> None:
        pass

    async def stop(self) -> None:
        await asyncio.Event().wait()


class SleepsBriefly(Solution):
    """Syncs nothing and wakes twice a second: the clock moves, so nothing stalls."""

    name = "sleeps-briefly"

    async def start(self, context: SolutionContext) -> None:
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.5)

    async def stop(self) -> None:
        self._task.cancel()


def _run_bounded(solution_cls: type[Solution]) -> CaseOutcome:
    """Run a case in a thread and fail the test if it does not end in time."""
    setup = CaseSetup(
        spec=SPEC, solution_cls=solution_cls, seed=1, stall_limit_s=STALL_LIMIT_S
    )
    outcomes: list[CaseOutcome] = []
    worker = threading.Thread(
        target=lambda: outcomes.append(run_case(setup)), daemon=True
    )
    worker.start()
    worker.join(CASE_WALL_LIMIT_S)
    assert not worker.is_alive(), f"{solution_cls.name} still runs"
    assert outcomes, f"{solution_cls.name} raised instead of returning an outcome"
    return outcomes[0]


def test_spin_in_start_fails_case():
    outcome = _run_bounded(SpinsInStart)

    assert outcome.status == "failed"
    assert outcome.error is not None
    assert "simulated time stood still for 1 s of wall time" in outcome.error
    assert "spins-in-start.start()" in outcome.error
    assert "asyncio.sleep(0)" in outcome.error
    assert [e.where for e in outcome.solution_errors] == ["start"]


def test_spin_in_background_fails_case():
    outcome = _run_bounded(SpinsInBackground)

    assert outcome.status == "failed"
    assert outcome.error is not None
    assert "a task of spins-in-background runs without awaiting" in outcome.error
    assert outcome.solution_errors == []


def test_task_ignoring_cancel_left_behind(caplog):
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="pytest_syncbench.loop"):
        outcome = _run_bounded(IgnoresCancellation)

    assert outcome.status == "failed"
    assert time.monotonic() - started < CASE_WALL_LIMIT_S
    warnings = [r.getMessage() for r in caplog.records if r.name.endswith(".loop")]
    assert any("IgnoresCancellation._spin" in message for message in warnings)


def test_spin_in_stop_fails_case():
    outcome = _run_bounded(SpinsInStop)
    info = extra_info(outcome, "test", "professional")

    assert info["status"] == "failed"
    assert "spins-in-stop.stop()" in info["error"]
    assert info["solution_errors"] == [
        {
            "where": "stop",
            "error": "SolutionStall: spins-in-stop.stop() did not return: "
            "the simulated clock stood still",
        }
    ]
    assert info["solution_error_count"] == 1


def test_stop_timeout_recorded():
    outcome = _run_bounded(StopNeverReturns)

    # The run itself ended at its deadline; only stop() misbehaved.
    assert outcome.status == "deadline"
    assert outcome.error is None
    assert len(outcome.solution_errors) == 1
    assert outcome.solution_errors[0].where == "stop"
    assert outcome.solution_errors[0].error.startswith("SolutionTimeout: ")
    assert f"within {STOP_TIMEOUT_S:.0f} simulated seconds" in (
        outcome.solution_errors[0].error
    )


def test_moving_clock_never_stalls():
    outcome = _run_bounded(SleepsBriefly)

    assert outcome.status == "deadline"
    assert outcome.error is None


def test_watchdog_reports_still_clock():
    stalls: list[float] = []
    watchdog = StallWatchdog(0.05, lambda: stalls.append(time.monotonic()))

    watchdog.check(10.0)
    time.sleep(0.06)
    watchdog.check(10.0)

    assert len(stalls) == 1
    assert watchdog.stalls == 1


def test_watchdog_quiet_while_clock_moves():
    stalls: list[float] = []
    watchdog = StallWatchdog(0.05, lambda: stalls.append(time.monotonic()))

    watchdog.check(10.0)
    time.sleep(0.06)
    watchdog.check(11.0)

    assert stalls == []


def test_watchdog_names_busiest_actor():
    ledger = CpuLedger()
    watchdog = StallWatchdog(60.0, lambda: None, ledger)
    ledger.charge("mock", 5.0)
    watchdog.check(1.0)

    ledger.charge("solution", 2.0)
    ledger.charge("mock", 0.5)

    assert watchdog.busiest_actor() == "solution"


@pytest.mark.parametrize("limit_s", [0.0, -1.0])
def test_watchdog_invalid_limit_raises(limit_s):
    with pytest.raises(ValueError, match="invalid stall limit"):
        StallWatchdog(limit_s, lambda: None)
