"""The plugin's options, skipping and output, driven through pytester."""

import json

import pytest

SCENARIO_TEST = """
def test_realtime(syncbench_case):
    outcome = syncbench_case.run("realtime")
    assert outcome.status != "failed"
"""


def test_scenarios_skipped_without_option(pytester):
    pytester.makepyfile(SCENARIO_TEST)

    result = pytester.runpytest("-rs")

    result.assert_outcomes(skipped=4)
    result.stdout.fnmatch_lines(["*scenario tests run only with --syncbench*"])


def test_ids_name_each_solution(pytester):
    pytester.makepyfile(SCENARIO_TEST)

    result = pytester.runpytest("--collect-only", "-q")

    result.stdout.fnmatch_lines(
        [
            "*test_realtime[[]direct-polling[]]",
            "*test_realtime[[]webhook-sync[]]",
            "*test_realtime[[]hybrid-cdc[]]",
            "*test_realtime[[]native-integration[]]",
        ]
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--syncbench-scale=huge", "*invalid choice: 'huge'*smoke*default*full*"),
        ("--syncbench-seed=-3", "*invalid seed '-3'*non-negative integer*"),
        ("--syncbench-seed=abc", "*invalid seed 'abc'*"),
        (
            "--syncbench-solutions=polling",
            "*unknown solution 'polling'*available: direct-polling*",
        ),
    ],
)
def test_bad_option_is_usage_error(pytester, option, message):
    pytester.makepyfile(SCENARIO_TEST)

    result = pytester.runpytest(option)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_subset_of_solutions(pytester):
    pytester.makepyfile(SCENARIO_TEST)

    result = pytester.runpytest(
        "--collect-only", "-q", "--syncbench-solutions=hybrid-cdc,direct-polling"
    )

    result.stdout.fnmatch_lines(["*2 tests collected*"])


def test_smoke_run_writes_json_and_table(pytester):
    pytester.makepyfile(SCENARIO_TEST)
    out = pytester.path / "out.json"

    result = pytester.runpytest(
        "--syncbench",
        "--syncbench-scale=smoke",
        "--syncbench-solutions=direct-polling",
        f"--benchmark-json={out}",
    )

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*syncbench summary*", "*realtime*direct-polling*"])
    data = json.loads(out.read_text())
    info = data["benchmarks"][0]["extra_info"]["syncbench"]
    assert info["schema"] == 1
    assert info["scenario"] == "realtime"
    assert info["solution"] == "direct-polling"
    assert info["api_calls"]["total"] > 0
    assert data["benchmarks"][0]["stats"]["rounds"] == info["latency_s"]["count"]


def test_results_saved_by_default(pytester):
    pytester.makepyfile(SCENARIO_TEST)

    pytester.runpytest(
        "--syncbench",
        "--syncbench-scale=smoke",
        "--syncbench-solutions=native-integration",
    )

    saved = list((pytester.path / ".benchmarks" / "smoke").rglob("*.json"))
    assert len(saved) == 1


BROKEN_SOLUTION = """
from pytest_syncbench import Solution


class Broken(Solution):
    name = "broken"

    async def start(self, context):
        raise RuntimeError("cannot reach the warehouse")

    async def stop(self):
        pass


def pytest_syncbench_solutions():
    return [Broken]
"""


def test_failed_case_still_written(pytester):
    pytester.makeconftest(BROKEN_SOLUTION)
    pytester.makepyfile(SCENARIO_TEST)
    out = pytester.path / "out.json"

    result = pytester.runpytest(
        "--syncbench",
        "--syncbench-scale=smoke",
        "--syncbench-solutions=broken",
        f"--benchmark-json={out}",
    )

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*realtime[[]broken[]] failed: RuntimeError: cannot reach*"]
    )
    info = json.loads(out.read_text())["benchmarks"][0]["extra_info"]["syncbench"]
    assert info["status"] == "failed"
    assert "cannot reach the warehouse" in info["error"]


def test_user_solution_must_subclass_solution(pytester):
    pytester.makeconftest(
        "class NotASolution:\n"
        "    name = 'x'\n"
        "def pytest_syncbench_solutions():\n"
        "    return [NotASolution]\n"
    )
    pytester.makepyfile(SCENARIO_TEST)

    result = pytester.runpytest("--co")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*cannot load a sync solution*is not a subclass of pytest_syncbench.Solution*"]
    )


HANGING_SOLUTION = """
import asyncio

from pytest_syncbench import Solution


class Hanging(Solution):
    name = "hanging"

    async def start(self, context):
        await asyncio.Event().wait()

    async def stop(self):
        pass


def pytest_syncbench_solutions():
    return [Hanging]
"""


def test_start_that_never_returns_fails_case(pytester):
    pytester.makeconftest(HANGING_SOLUTION)
    pytester.makepyfile(SCENARIO_TEST)

    result = pytester.runpytest(
        "--syncbench", "--syncbench-scale=smoke", "--syncbench-solutions=hanging"
    )

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*hanging.start() did not return within 300 simulated*"]
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "from pytest_syncbench import Solution\n"
            "class Odd(Solution):\n"
            "    name = 'odd'\n"
            "    delivers = 'records'\n"
            "    async def start(self, context): pass\n"
            "    async def stop(self): pass\n"
            "def pytest_syncbench_solutions():\n"
            "    return [Odd]\n",
            "*Odd.delivers is 'records'; expected one of Delivery.RECORDS*",
        ),
        (
            "from pytest_syncbench import Solution\n"
            "class Single(Solution):\n"
            "    name = 'single'\n"
            "    async def start(self, context): pass\n"
            "    async def stop(self): pass\n"
            "def pytest_syncbench_solutions():\n"
            "    return Single\n",
            "*pytest_syncbench_solutions() in *conftest.py returned*return a list*",
        ),
        (
            "from pytest_syncbench import Solution\n"
            "class Nameless(Solution):\n"
            "    async def start(self, context): pass\n"
            "    async def stop(self): pass\n"
            "def pytest_syncbench_solutions():\n"
            "    return [Nameless]\n",
            "*Nameless from pytest_syncbench_solutions() in *conftest.py has no 'name'*",
        ),
    ],
)
def test_bad_user_solution_is_usage_error(pytester, body, message):
    pytester.makeconftest(body)
    pytester.makepyfile(SCENARIO_TEST)

    result = pytester.runpytest("--co")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
