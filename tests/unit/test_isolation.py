"""Cases in a forked child process: the same numbers, clear errors, the option."""

import dataclasses
import os
import signal

import pytest

from pytest_syncbench import Solution
from pytest_syncbench.generator import StreamSpec
from pytest_syncbench.harness import CaseSetup, run_case
from pytest_syncbench.isolation import (
    ISOLATE_MIN_COMPANIES,
    ChildTraceback,
    IsolatedCaseError,
    fork_available,
    run_case_isolated,
    should_isolate,
)
from pytest_syncbench.registry import discover
from pytest_syncbench.results import extra_info, without_machine_fields
from pytest_syncbench.scenarios import ScenarioSpec

pytestmark = pytest.mark.skipif(not fork_available(), reason="needs os.fork")


SPEC = ScenarioSpec(
    name="isolation",
    description="a short stream",
    companies=500,
    streams=(StreamSpec(150, 1200.0, 300.0),),
    settle_s=1800.0,
)


class KilledAtStart(Solution):
    name = "killed-at-start"

    async def start(self, context):
        os.kill(os.getpid(), signal.SIGKILL)

    async def stop(self):
        pass


class ExitsAtStart(Solution):
    name = "exits-at-start"

    async def start(self, context):
        os._exit(3)

    async def stop(self):
        pass


class BrokenStats(Solution):
    """A solution whose ``stats`` raises, which ``run_case`` does not catch."""

    name = "broken-stats"

    async def start(self, context):
        pass

    async def stop(self):
        pass

    @property
    def stats(self):
        raise RuntimeError("stats are unavailable")


class TwoArgumentError(Exception):
    """An exception that pickles but does not unpickle: __init__ takes two values."""

    def __init__(self, table, row):
        super().__init__(f"row {row} of {table} is invalid")


def _setup(solution_cls, progress=None):
    return CaseSetup(spec=SPEC, solution_cls=solution_cls, seed=3, progress=progress)


def _comparable(outcome):
    info = extra_info(outcome, "test", "professional")
    return without_machine_fields(info)


def test_isolated_case_same_numbers():
    cls = discover()["webhook-sync"]
    in_process_lines: list[str] = []
    isolated_lines: list[str] = []

    in_process = run_case(_setup(cls, in_process_lines.append))
    isolated = run_case_isolated(_setup(cls, isolated_lines.append))

    assert in_process.status == "converged", in_process.error
    assert _comparable(isolated) == _comparable(in_process)
    assert isolated.hubspot_calls == in_process.hubspot_calls
    assert isolated.peak_rss_bytes > 0
    assert in_process_lines
    assert isolated_lines == in_process_lines


def test_killed_child_names_signal():
    with pytest.raises(IsolatedCaseError) as raised:
        run_case_isolated(_setup(KilledAtStart))

    message = str(raised.value)
    assert "isolation[killed-at-start]" in message
    assert "SIGKILL" in message
    assert "out-of-memory" in message
    assert "500 companies" in message


def test_child_exit_without_outcome():
    with pytest.raises(IsolatedCaseError) as raised:
        run_case_isolated(_setup(ExitsAtStart))

    message = str(raised.value)
    assert "isolation[exits-at-start]" in message
    assert "exited with code 3" in message


def test_child_exception_raised_again():
    with pytest.raises(RuntimeError, match="stats are unavailable") as raised:
        run_case_isolated(_setup(BrokenStats))

    cause = raised.value.__cause__
    assert isinstance(cause, ChildTraceback)
    assert "in _child_main" in str(cause)


def test_unpicklable_child_exception(monkeypatch):
    def fail(setup):
        raise TwoArgumentError("companies", 7)

    # The forked child inherits the patched module attribute.
    monkeypatch.setattr("pytest_syncbench.isolation.run_case", fail)

    with pytest.raises(IsolatedCaseError) as raised:
        run_case_isolated(_setup(BrokenStats))

    message = str(raised.value)
    assert "TwoArgumentError" in message
    assert "row 7 of companies is invalid" in message


@pytest.mark.parametrize(
    ("mode", "companies", "expected"),
    [
        ("auto", ISOLATE_MIN_COMPANIES - 1, False),
        ("auto", ISOLATE_MIN_COMPANIES, True),
        ("always", 500, True),
        ("never", 2_000_000, False),
    ],
)
def test_should_isolate(mode, companies, expected):
    setup = dataclasses.replace(
        _setup(BrokenStats), spec=dataclasses.replace(SPEC, companies=companies)
    )

    assert should_isolate(setup, mode) is expected


def test_should_isolate_bad_mode():
    with pytest.raises(ValueError, match="invalid isolate mode 'sometimes'"):
        should_isolate(_setup(BrokenStats), "sometimes")


PID_SOLUTION = """
import os

from pytest_syncbench.registry import discover

Native = discover()["native-integration"]


class PidRecording(Native):
    name = "pid-recording"

    async def start(self, context):
        await super().start(context)
        self.stats["pid"] = os.getpid()


def pytest_syncbench_solutions():
    return [PidRecording]
"""

PID_TEST = """
import os


def test_realtime(syncbench_case, request):
    outcome = syncbench_case.run("realtime")
    assert outcome.status != "failed", outcome.error
    isolated = outcome.solution_stats["pid"] != os.getpid()
    print(f"isolated={isolated}")
"""


@pytest.mark.parametrize(("mode", "isolated"), [("always", True), ("never", False)])
def test_option_isolates_case(pytester, mode, isolated):
    pytester.makeconftest(PID_SOLUTION)
    pytester.makepyfile(PID_TEST)

    result = pytester.runpytest(
        "--syncbench",
        "--syncbench-scale=smoke",
        "--syncbench-solutions=pid-recording",
        "--benchmark-disable",
        f"--syncbench-isolate={mode}",
        "-s",
    )

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*isolated={isolated}*"])


KILLED_SOLUTION = """
import os
import signal

from pytest_syncbench import Solution


class Killed(Solution):
    name = "killed"

    async def start(self, context):
        os.kill(os.getpid(), signal.SIGKILL)

    async def stop(self):
        pass


def pytest_syncbench_solutions():
    return [Killed]
"""


def test_killed_child_fails_test(pytester):
    pytester.makeconftest(KILLED_SOLUTION)
    pytester.makepyfile(PID_TEST)

    result = pytester.runpytest(
        "--syncbench",
        "--syncbench-scale=smoke",
        "--syncbench-solutions=killed",
        "--benchmark-disable",
        "--syncbench-isolate=always",
    )

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*realtime[[]killed[]] failed: *killed by SIGKILL*"])


def test_bad_isolate_value_is_usage_error(pytester):
    pytester.makepyfile(PID_TEST)

    result = pytester.runpytest("--syncbench-isolate=sometimes")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*invalid choice: 'sometimes'*auto*always*never*"])
