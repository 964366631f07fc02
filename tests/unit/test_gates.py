"""The ``--syncbench-baseline`` and ``--syncbench-fail`` gates, driven through pytester.

One smoke-scale realtime case of webhook-sync (a couple of seconds) makes the baseline;
the same seed gives the same simulated numbers, so a second run passes every gate unless
the baseline is edited to look better.
"""

import json
from pathlib import Path

import pytest

SCENARIO_TEST = """
def test_realtime(syncbench_case):
    syncbench_case.run("realtime")
"""
RUN = (
    "--syncbench",
    "--syncbench-scale=smoke",
    "--syncbench-solutions=webhook-sync",
    "-p",
    "no:randomly",
)


@pytest.fixture
def baseline(pytester: pytest.Pytester) -> Path:
    pytester.makepyfile(SCENARIO_TEST)
    path = pytester.path / "baseline.json"
    result = pytester.runpytest(*RUN, f"--benchmark-json={path}")
    result.assert_outcomes(passed=1)
    return path


def _edit_calls(path: Path, factor: float) -> int:
    document = json.loads(path.read_text())
    info = document["benchmarks"][0]["extra_info"]["syncbench"]
    info["api_calls"]["total"] = int(info["api_calls"]["total"] * factor)
    path.write_text(json.dumps(document))
    return info["api_calls"]["total"]


def test_gates_pass_on_same_run(pytester: pytest.Pytester, baseline: Path) -> None:
    result = pytester.runpytest(
        *RUN,
        f"--syncbench-baseline={baseline}",
        "--syncbench-fail=api_calls.total:+5%",
        "--syncbench-fail=latency_s.p95:+10%",
    )

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "*syncbench gates*",
            "*realtime*webhook-sync*ok*",
            "ok: no gate tripped in 1 case",
        ]
    )


def test_gate_trips_and_fails_run(pytester: pytest.Pytester, baseline: Path) -> None:
    _edit_calls(baseline, 0.5)

    result = pytester.runpytest(
        *RUN, f"--syncbench-baseline={baseline}", "--syncbench-fail=api_calls.total:+5%"
    )

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*syncbench gates*",
            "*api_calls.total +*% exceeds +5%*",
            "REGRESSED: 1 of 1 case: realtime/webhook-sync: api_calls.total",
        ]
    )


def test_gate_within_threshold_passes(
    pytester: pytest.Pytester, baseline: Path
) -> None:
    # The baseline shows half the calls; a +150% gate allows the doubling.
    _edit_calls(baseline, 0.5)

    result = pytester.runpytest(
        *RUN,
        f"--syncbench-baseline={baseline}",
        "--syncbench-fail=api_calls.total:+150%",
    )

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["ok: no gate tripped in 1 case"])


def test_unrun_baseline_cases_not_gated(
    pytester: pytest.Pytester, baseline: Path
) -> None:
    document = json.loads(baseline.read_text())
    other = json.loads(json.dumps(document["benchmarks"][0]))
    other["extra_info"]["syncbench"]["solution"] = "direct-polling"
    document["benchmarks"].append(other)
    baseline.write_text(json.dumps(document))

    result = pytester.runpytest(
        *RUN, f"--syncbench-baseline={baseline}", "--syncbench-fail=data_loss:+0"
    )

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["1 case(s) of the baseline did not run here*"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--syncbench-baseline=absent.json"],
            "*--syncbench-baseline/--syncbench-fail: absent.json: file not found*",
        ),
        (
            [
                "--syncbench-baseline=baseline.json",
                "--syncbench-fail=api_calls.nope:+5%",
            ],
            "*unknown metric 'api_calls.nope'*",
        ),
        (
            [
                "--syncbench-baseline=baseline.json",
                "--syncbench-fail=api_calls.total:5",
            ],
            "*invalid --fail value 'api_calls.total:5'*",
        ),
        (
            ["--syncbench-fail=api_calls.total:+5%"],
            "*--syncbench-fail needs a baseline*--syncbench-baseline=FILE*",
        ),
        (
            ["--syncbench-baseline=baseline.json", "--syncbench-seed=9"],
            "*is a different run (seed 1 in the baseline vs 9 in this run)*",
        ),
    ],
)
def test_bad_gate_is_usage_error(
    pytester: pytest.Pytester, baseline: Path, options: list[str], message: str
) -> None:
    result = pytester.runpytest(*RUN, *options)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_benchmark_compare_fail_still_trips(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SCENARIO_TEST)
    storage = f"--benchmark-storage=file://{pytester.path / 'storage'}"
    first = pytester.runpytest(*RUN, storage, "--benchmark-save=base")
    first.assert_outcomes(passed=1)
    (saved,) = (pytester.path / "storage").rglob("*.json")
    document = json.loads(saved.read_text())
    stats = document["benchmarks"][0]["stats"]
    stats["median"] = stats["median"] / 2
    saved.write_text(json.dumps(document))

    result = pytester.runpytest(
        *RUN, storage, "--benchmark-compare", "--benchmark-compare-fail=median:10%"
    )

    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*syncbench summary*"])
    assert "Performance has regressed" in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_baseline_is_usage_error(
    pytester: pytest.Pytester, baseline: Path, value: float
) -> None:
    document = json.loads(baseline.read_text())
    document["benchmarks"][0]["extra_info"]["syncbench"]["api_calls"]["total"] = value
    baseline.write_text(json.dumps(document))

    result = pytester.runpytest(
        *RUN, f"--syncbench-baseline={baseline}", "--syncbench-fail=api_calls.total:+5%"
    )

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*baseline.json: metric 'api_calls.total' of case realtime/webhook-sync*"
            "expected a finite number*"
        ]
    )
