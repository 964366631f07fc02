"""Exceptions of a solution are logged and kept in the outcome, not swallowed."""

import asyncio
import logging

from pytest_syncbench.generator import StreamSpec
from pytest_syncbench.harness import MAX_SOLUTION_ERRORS, CaseSetup, run_case
from pytest_syncbench.results import extra_info
from pytest_syncbench.scenarios import Fault, FaultKind, ScenarioSpec
from pytest_syncbench.solution import Solution, SolutionContext

SPEC = ScenarioSpec(
    name="errors",
    description="a short stream",
    companies=50,
    streams=(StreamSpec(20, 600.0, 60.0),),
    settle_s=600.0,
)
CRASHING = ScenarioSpec(
    name="errors-crash",
    description="a short stream with a crash of the solution",
    companies=50,
    streams=(StreamSpec(20, 600.0, 60.0),),
    faults=(Fault(200.0, 100.0, FaultKind.SOLUTION_CRASH),),
    settle_s=600.0,
)


class Idle(Solution):
    """Syncs nothing; the subclasses below break one method each."""

    name = "idle"

    async def start(self, context: SolutionContext) -> None:
        pass

    async def stop(self) -> None:
        pass


class TaskDies(Idle):
    """Runs a background task that raises and is never awaited."""

    name = "task-dies"

    async def start(self, context: SolutionContext) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        await asyncio.sleep(30.0)
        raise ValueError("background task died")


class TaskErrorHandled(Idle):
    """Awaits its failing task and handles the exception itself."""

    name = "task-error-handled"

    async def start(self, context: SolutionContext) -> None:
        self._task = asyncio.create_task(self._supervise())

    async def _supervise(self) -> None:
        try:
            await asyncio.create_task(self._fail())
        except ValueError:
            pass

    async def _fail(self) -> None:
        await asyncio.sleep(30.0)
        raise ValueError("handled by the solution")


class ManyTasksDie(Idle):
    """Starts more failing tasks than the outcome keeps."""

    name = "many-tasks-die"
    failing_tasks = MAX_SOLUTION_ERRORS + 3

    async def start(self, context: SolutionContext) -> None:
        self._tasks = [
            asyncio.create_task(self._fail(i)) for i in range(self.failing_tasks)
        ]

    async def _fail(self, number: int) -> None:
        await asyncio.sleep(10.0 + number)
        raise RuntimeError(f"task {number} failed")


class CallbackRaises(Idle):
    """Schedules a plain callback that raises."""

    name = "callback-raises"

    async def start(self, context: SolutionContext) -> None:
        asyncio.get_running_loop().call_later(5.0, self._tick)

    def _tick(self) -> None:
        raise KeyError("missing")


class StartRaises(Idle):
    name = "start-raises"

    async def start(self, context: SolutionContext) -> None:
        raise ConnectionError("cannot reach the mock\nsecond line")


class StopRaises(Idle):
    name = "stop-raises"

    async def stop(self) -> None:
        raise RuntimeError("stop failed")


class CrashRaises(Idle):
    name = "crash-raises"

    async def crash(self) -> None:
        raise OSError("crash failed")


def test_dead_task_recorded():
    outcome = run_case(CaseSetup(spec=SPEC, solution_cls=TaskDies, seed=1))
    info = extra_info(outcome, "test", "professional")

    assert info["status"] == "deadline"
    assert info["solution_errors"] == [
        {"where": "task", "error": "ValueError: background task died"}
    ]
    assert info["solution_error_count"] == 1


def test_dead_task_logged_with_traceback(caplog):
    with caplog.at_level(logging.ERROR, logger="syncbench.solution"):
        run_case(CaseSetup(spec=SPEC, solution_cls=TaskDies, seed=1))

    records = [r for r in caplog.records if r.name == "syncbench.solution.task-dies"]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert "TaskDies._run" in records[0].getMessage()
    assert records[0].exc_info is not None
    assert records[0].exc_info[0] is ValueError


def test_handled_task_error_not_recorded():
    outcome = run_case(CaseSetup(spec=SPEC, solution_cls=TaskErrorHandled, seed=1))

    assert outcome.solution_errors == []
    assert outcome.solution_error_count == 0


def test_errors_kept_up_to_limit():
    outcome = run_case(CaseSetup(spec=SPEC, solution_cls=ManyTasksDie, seed=1))

    assert outcome.solution_error_count == ManyTasksDie.failing_tasks
    assert len(outcome.solution_errors) == MAX_SOLUTION_ERRORS
    assert all(e.where == "task" for e in outcome.solution_errors)


def test_raising_callback_recorded():
    outcome = run_case(CaseSetup(spec=SPEC, solution_cls=CallbackRaises, seed=1))

    assert [e.as_dict() for e in outcome.solution_errors] == [
        {"where": "callback", "error": "KeyError: 'missing'"}
    ]


def test_start_error_recorded():
    outcome = run_case(CaseSetup(spec=SPEC, solution_cls=StartRaises, seed=1))

    assert outcome.status == "failed"
    # The summary keeps only the first line of the message.
    assert [e.as_dict() for e in outcome.solution_errors] == [
        {"where": "start", "error": "ConnectionError: cannot reach the mock"}
    ]


def test_stop_error_recorded():
    outcome = run_case(CaseSetup(spec=SPEC, solution_cls=StopRaises, seed=1))

    assert outcome.status == "deadline"
    assert [e.as_dict() for e in outcome.solution_errors] == [
        {"where": "stop", "error": "RuntimeError: stop failed"}
    ]


def test_crash_error_recorded():
    outcome = run_case(CaseSetup(spec=CRASHING, solution_cls=CrashRaises, seed=1))

    assert outcome.status == "failed"
    assert [e.as_dict() for e in outcome.solution_errors] == [
        {"where": "crash", "error": "OSError: crash failed"}
    ]
