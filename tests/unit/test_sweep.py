"""The scale sweep: slope, keep-up rule, breaking-point search and the recorded sweep."""

import json

import pytest

from pytest_syncbench.harness import CaseOutcome, CaseSetup, run_case
from pytest_syncbench.registry import discover
from pytest_syncbench.sweep import (
    COUNT_AXIS,
    RATE_AXIS,
    REASON_BACKLOG,
    REASON_DEADLINE,
    REASON_FAILED,
    REASON_QUOTA,
    SWEEP_SCENARIO,
    PointResult,
    SweepPlan,
    SweepPoint,
    Trend,
    backlog_trend,
    breaking_point,
    calls_per_hour,
    judge,
    least_squares_slope,
    point_spec,
    run_sweep,
    sweep_extra_info,
)

HOUR = 3600.0
# Real measurements of the process vary between runs; everything else must not.
MACHINE_FIELDS = {"cpu_s", "wall_s", "peak_rss_bytes"}
TINY_PLAN = SweepPlan(
    rates=(600, 2_400),
    rate_axis_companies=200,
    counts=(200, 400),
    count_axis_rate=600,
    stream_s=900.0,
    settle_s=1_800.0,
)


def test_slope_of_straight_line():
    slope = least_squares_slope([0.0, HOUR, 2 * HOUR], [0.0, 100.0, 200.0])

    assert slope == pytest.approx(100.0)


def test_slope_of_noisy_samples():
    # mean t 90, mean v 5: covariance 600 over a spread of 18,000 is 1/30 a second.
    slope = least_squares_slope([0.0, 60.0, 120.0, 180.0], [0.0, 10.0, 0.0, 10.0])

    assert slope == pytest.approx(120.0)


@pytest.mark.parametrize(
    ("times", "values", "message"),
    [
        ([0.0, 1.0], [1.0], "2 times and 1 values"),
        ([0.0], [1.0], "at least two"),
        ([5.0, 5.0], [1.0, 2.0], "same time"),
    ],
)
def test_slope_rejects_bad_samples(times, values, message):
    with pytest.raises(ValueError, match=message):
        least_squares_slope(times, values)


def sawtooth(rate_per_h, period_s, growth_per_h, window):
    """Pending changes of a solution that drains everything every ``period_s``."""
    times = [window[0] + 60.0 * i for i in range(int((window[1] - window[0]) / 60) + 1)]
    values = [
        round(
            rate_per_h * ((t - window[0]) % period_s) / HOUR + growth_per_h * t / HOUR
        )
        for t in times
    ]
    return times, values


def test_level_sawtooth_is_not_growing():
    window = (900.0, 1_800.0)
    times, values = sawtooth(6_000, 300.0, 0.0, window)

    trend = backlog_trend(times, values, window, 6_000)

    assert trend.judged
    assert trend.slope_per_h == pytest.approx(0.0)
    assert not trend.growing


def test_rising_troughs_are_growing():
    window = (900.0, 1_800.0)
    # Deliveries fall short of the 6,000 arrivals an hour by half.
    times, values = sawtooth(6_000, 300.0, 3_000.0, window)

    trend = backlog_trend(times, values, window, 6_000)

    assert trend.judged
    assert trend.slope_per_h == pytest.approx(3_000.0, rel=0.05)
    assert trend.growing


def test_pure_ramp_is_left_to_convergence():
    window = (900.0, 1_800.0)
    # Nothing delivered in the window: the backlog rises by every arrival.
    times = [900.0 + 60.0 * i for i in range(16)]
    values = [round(6_000 * t / HOUR) for t in times]

    trend = backlog_trend(times, values, window, 6_000)

    assert not trend.judged
    assert not trend.growing
    assert "judged by convergence" in trend.note


def test_single_drain_in_window_is_not_judged():
    window = (3_300.0, 5_100.0)
    # An hourly pull drains the backlog at 3,600 s, then it ramps for the rest.
    times = [3_300.0 + 60.0 * i for i in range(31)]
    values = [round(10_000 * ((t - 3_600.0) % 3_600.0) / HOUR) for t in times]

    trend = backlog_trend(times, values, window, 10_000)

    assert not trend.judged
    assert not trend.growing
    assert "troughs are up to 1,500 s apart" in trend.note


def test_steady_shortfall_is_growing():
    window = (900.0, 1_800.0)
    # No trough at all: deliveries run at 40% of the 6,000 arrivals an hour.
    times = [900.0 + 60.0 * i for i in range(16)]
    values = [round(0.6 * 6_000 * t / HOUR) for t in times]

    trend = backlog_trend(times, values, window, 6_000)

    assert trend.judged
    assert trend.slope_per_h == pytest.approx(3_600.0, rel=0.05)
    assert trend.growing


def test_window_without_samples_is_not_judged():
    trend = backlog_trend([900.0, 960.0], [5, 6], (900.0, 1_800.0), 6_000)

    assert not trend.judged
    assert trend.slope_per_h is None
    assert "no sample" in trend.note


def flat_trend(growing: bool) -> Trend:
    slope = 500.0 if growing else 0.0
    return Trend((0.0, 1.0), 10, slope, 100.0, True, "")


@pytest.mark.parametrize(
    ("status", "growing", "per_day", "expected"),
    [
        ("converged", False, 1_000.0, []),
        ("deadline", False, 1_000.0, [REASON_DEADLINE]),
        ("failed", False, None, [REASON_FAILED]),
        ("converged", True, 1_000.0, [REASON_BACKLOG]),
        ("converged", False, 700_000.0, [REASON_QUOTA]),
        ("converged", False, 625_000.0, []),
        ("deadline", True, 700_000.0, [REASON_DEADLINE, REASON_BACKLOG, REASON_QUOTA]),
    ],
)
def test_judge_lists_reasons(status, growing, per_day, expected):
    assert judge(status, flat_trend(growing), per_day, 625_000) == expected


def test_judge_without_daily_limit_ignores_calls():
    assert judge("converged", flat_trend(False), 10**9, None) == []


def result(companies, rate, reasons):
    status = "failed" if REASON_FAILED in reasons else "converged"
    return PointResult(SweepPoint(companies, rate), status, None, list(reasons))


def test_breaking_point_is_first_point_that_breaks():
    results = [
        result(10_000, 10_000, []),
        result(50_000, 10_000, []),
        result(250_000, 10_000, [REASON_QUOTA]),
    ]

    entry = breaking_point(results, COUNT_AXIS)

    assert entry["broke_at"] == 250_000
    assert entry["held_up_to"] == 50_000
    assert entry["reasons"] == [REASON_QUOTA]


def test_breaking_point_ignores_later_recovery():
    results = [
        result(1_000, 1_000, []),
        result(1_000, 5_000, [REASON_BACKLOG]),
        result(1_000, 9_000, []),
    ]

    entry = breaking_point(results, RATE_AXIS)

    assert entry["broke_at"] == 5_000
    assert entry["held_up_to"] == 1_000


def test_breaking_point_null_when_every_point_holds():
    results = [result(1_000, 1_000, []), result(1_000, 5_000, [])]

    entry = breaking_point(results, RATE_AXIS)

    assert entry["broke_at"] is None
    assert entry["held_up_to"] == 5_000
    assert entry["verdict"].startswith("held up to the largest point tried")


def test_breaking_point_at_first_point():
    entry = breaking_point([result(1_000, 1_000, [REASON_DEADLINE])], RATE_AXIS)

    assert entry["broke_at"] == 1_000
    assert entry["held_up_to"] is None


def test_calls_per_hour_counts_the_window():
    times = [0.0, 100.0, 200.0, 1_000.0, 1_900.0, 4_000.0]

    assert calls_per_hour(times, 100.0, 1_900.0) == pytest.approx(4 / 0.5)


def test_calls_per_hour_rejects_empty_window():
    with pytest.raises(ValueError, match="end after the start"):
        calls_per_hour([], 10.0, 10.0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rates": ()}, "invalid rates"),
        ({"rates": (5_000, 1_000)}, "increasing order"),
        ({"counts": (0, 10)}, "invalid counts value 0"),
        ({"stream_s": 0.0}, "invalid stream_s"),
        ({"count_axis_rate": -1}, "invalid count_axis_rate"),
    ],
)
def test_plan_rejects_bad_values(changes, message):
    fields = {
        "rates": (1_000,),
        "rate_axis_companies": 100,
        "counts": (100,),
        "count_axis_rate": 1_000,
        "stream_s": 600.0,
        **changes,
    }
    with pytest.raises(ValueError, match=message):
        SweepPlan(**fields)


def test_plan_runs_shared_point_once():
    points = TINY_PLAN.points()

    assert points == [
        SweepPoint(200, 600),
        SweepPoint(200, 2_400),
        SweepPoint(400, 600),
    ]


def test_point_spec_streams_the_rate():
    spec = point_spec(SweepPoint(200, 2_400), TINY_PLAN)

    assert spec.name == SWEEP_SCENARIO
    assert spec.companies == 200
    assert spec.update_count == 600
    assert spec.streams[0].duration_s == 900.0
    assert spec.settle_s == 1_800.0


def polling():
    return discover()["direct-polling"]


def without_machine_fields(curve):
    return {
        axis: [
            {k: v for k, v in point.items() if k not in MACHINE_FIELDS}
            for point in points
        ]
        for axis, points in curve.items()
        if axis != "plan"
    }


def test_tiny_sweep_records_every_field():
    lines = []
    swept = run_sweep(TINY_PLAN, polling(), 3, point_progress=lines.append)

    info = sweep_extra_info(swept, "direct-polling", 3, "smoke", "professional")

    assert info["scenario"] == SWEEP_SCENARIO
    assert info["status"] == "completed"
    assert info["error"] is None
    assert len(info["sweep"][RATE_AXIS]) == 2
    assert len(info["sweep"][COUNT_AXIS]) == 2
    assert set(info["breaking_point"]) == {RATE_AXIS, COUNT_AXIS}
    point = info["sweep"][RATE_AXIS][1]
    assert point["updates_per_hour"] == 2_400
    assert point["latency_s"]["p95"] > 0
    assert point["hubspot_calls"] > 0
    assert point["projected_calls_per_day"] > 0
    assert point["keeps_up"] == (point["reasons"] == [])
    assert len(lines) == 2 * len(TINY_PLAN.points())
    assert json.loads(json.dumps(info)) == info


def test_tiny_sweep_repeats_exactly():
    first = run_sweep(TINY_PLAN, polling(), 5)
    second = run_sweep(TINY_PLAN, polling(), 5)

    assert without_machine_fields(first.curve()) == without_machine_fields(
        second.curve()
    )
    assert first.breaking_points() == second.breaking_points()


def test_failing_point_is_recorded_and_named():
    def runner(setup: CaseSetup) -> CaseOutcome:
        if setup.spec.companies == 400:
            raise RuntimeError("store exhausted")
        return run_case(setup)

    swept = run_sweep(TINY_PLAN, polling(), 3, runner=runner)
    info = sweep_extra_info(swept, "direct-polling", 3, "smoke", "professional")

    assert info["status"] == "failed"
    assert "400 companies at 600 updates/h" in info["error"]
    assert "RuntimeError: store exhausted" in info["error"]
    assert info["failed_points"] == ["400 companies at 600 updates/h"]
    assert info["breaking_point"][COUNT_AXIS]["broke_at"] == 400
    assert info["breaking_point"][COUNT_AXIS]["reasons"] == [REASON_FAILED]
    assert info["sweep"][RATE_AXIS][1]["status"] == "converged"
    assert len(swept.latency_samples()) == len(TINY_PLAN.points())


SWEEP_TEST = """
def test_scale_sweep(syncbench_case):
    syncbench_case.sweep()
"""

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


def test_plugin_sweep_writes_json_and_table(pytester):
    pytester.makepyfile(SWEEP_TEST)
    out = pytester.path / "out.json"

    outcome = pytester.runpytest(
        "--syncbench",
        "--syncbench-scale=smoke",
        "--syncbench-solutions=native-integration",
        f"--benchmark-json={out}",
    )

    outcome.assert_outcomes(passed=1)
    outcome.stdout.fnmatch_lines(
        [
            "*syncbench scale sweep: breaking points*",
            "*native-integration*completed*",
        ]
    )
    record = json.loads(out.read_text())["benchmarks"][0]
    info = record["extra_info"]["syncbench"]
    points = {
        (p["companies"], p["updates_per_hour"])
        for axis in (RATE_AXIS, COUNT_AXIS)
        for p in info["sweep"][axis]
    }
    assert info["scenario"] == SWEEP_SCENARIO
    assert set(info["breaking_point"]) == {RATE_AXIS, COUNT_AXIS}
    assert record["stats"]["rounds"] == len(points)


def test_plugin_sweep_failure_still_written(pytester):
    pytester.makeconftest(BROKEN_SOLUTION)
    pytester.makepyfile(SWEEP_TEST)
    out = pytester.path / "out.json"

    outcome = pytester.runpytest(
        "--syncbench",
        "--syncbench-scale=smoke",
        "--syncbench-solutions=broken",
        f"--benchmark-json={out}",
    )

    outcome.assert_outcomes(failed=1)
    outcome.stdout.fnmatch_lines(
        ["*scale-sweep[[]broken[]] failed at *companies at*cannot reach*"]
    )
    info = json.loads(out.read_text())["benchmarks"][0]["extra_info"]["syncbench"]
    assert info["status"] == "failed"
    assert info["failed_points"]
    assert info["breaking_point"][RATE_AXIS]["reasons"] == [REASON_FAILED]
