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


def _set_clock(path: Path, clock: dict[str, object]) -> None:
    document = json.loads(path.read_text())
    document["benchmarks"][0]["extra_info"]["syncbench"]["clock"] = clock
    path.write_text(json.dumps(document))


LIVE_60 = {"mode": "live", "speedup": 60.0, "latency_wall_s": {}, "tick_lag_s": {}}


def test_baseline_of_virtual_run_has_clock(baseline: Path) -> None:
    document = json.loads(baseline.read_text())
    info = document["benchmarks"][0]["extra_info"]["syncbench"]

    assert info["clock"] == {"mode": "virtual"}


@pytest.mark.parametrize(
    ("baseline_clock", "options", "message"),
    [
        (
            LIVE_60,
            [],
            "*case realtime/webhook-sync ran on the live 60x clock in the baseline vs "
            "the virtual clock in this run*",
        ),
        (
            {"mode": "virtual"},
            ["--syncbench-clock=live"],
            "*case realtime/webhook-sync ran on the virtual clock in the baseline vs "
            "the live 60x clock in this run*",
        ),
        (
            LIVE_60,
            ["--syncbench-clock=live", "--syncbench-speedup=120"],
            "*case realtime/webhook-sync ran on the live 60x clock in the baseline vs "
            "the live 120x clock in this run*",
        ),
    ],
)
def test_baseline_of_other_clock_is_usage_error(
    pytester: pytest.Pytester,
    baseline: Path,
    baseline_clock: dict[str, object],
    options: list[str],
    message: str,
) -> None:
    _set_clock(baseline, baseline_clock)

    result = pytester.runpytest(
        *RUN,
        *options,
        f"--syncbench-baseline={baseline}",
        "--syncbench-fail=latency_s.p95:+10%",
    )

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    result.stderr.fnmatch_lines(["*--syncbench-clock and --syncbench-speedup*"])


def test_baseline_of_same_live_speedup_accepted(
    pytester: pytest.Pytester, baseline: Path
) -> None:
    _set_clock(baseline, LIVE_60 | {"speedup": 120})

    # Collection only: the gates are configured before any case would run live.
    result = pytester.runpytest(
        *RUN,
        "--co",
        "--syncbench-clock=live",
        "--syncbench-speedup=120",
        f"--syncbench-baseline={baseline}",
        "--syncbench-fail=latency_s.p95:+10%",
    )

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*test_realtime*"])
