"""``syncbench compare``: matching saved runs, gates, input errors and exit status."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from pytest_syncbench.cli import main
from pytest_syncbench.compare import DEFAULT_METRICS, Gate, evaluate, parse_gate


def syncbench_info(
    scenario: str = "realtime",
    solution: str = "direct-polling",
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a schema-1 ``extra_info["syncbench"]`` with dotted-path overrides."""
    info: dict[str, Any] = {
        "schema": 1,
        "scenario": scenario,
        "solution": solution,
        "delivers": "records",
        "seed": 1,
        "scale": "smoke",
        "tier": "professional",
        "status": "converged",
        "error": None,
        "changes": {"tracked": 1333, "measured": 333, "delivered": 1333},
        "api_calls": {"total": 100, "rate_limited": 0, "daily_quota_share": 0.0002},
        "latency_s": {"p50": 150.0, "p95": 280.0, "p99": 290.0, "max": 295.0},
        "throughput_per_min": 100.0,
        "consistency": {"missing": 0, "stale": 0, "ghost": 0},
        "data_loss": 0,
        "cpu_s": 0.3,
    }
    for path, value in (values or {}).items():
        *parents, leaf = path.split(".")
        target = info
        for part in parents:
            target = target[part]
        target[leaf] = value
    return info


def benchmark_json(infos: list[dict[str, Any]]) -> dict[str, Any]:
    benchmarks = []
    for info in infos:
        name = f"test_{info['scenario']}[{info['solution']}]"
        benchmarks.append(
            {
                "name": name,
                "fullname": f"tests/test_{info['scenario']}.py::{name}",
                "group": info["scenario"],
                "param": info["solution"],
                "extra_info": {"syncbench": info},
                "stats": {"min": 1.0, "max": 3.0, "mean": 2.0, "median": 2.0},
            }
        )
    return {
        "machine_info": {"python_version": "3.11.0"},
        "commit_info": {"id": "0" * 40},
        "benchmarks": benchmarks,
        "datetime": "2025-01-01T00:00:00+00:00",
        "version": "5.3.1",
    }


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def write_run(path: Path, *infos: dict[str, Any]) -> Path:
    return write_json(path, benchmark_json(list(infos) or [syncbench_info()]))


def compare_one_case(
    tmp_path: Path,
    base: dict[str, Any],
    new: dict[str, Any],
    *gates: str,
) -> int:
    """Run the command on a one-case BASE and NEW differing by the given values."""
    base_path = write_run(tmp_path / "base.json", syncbench_info(values=base))
    new_path = write_run(tmp_path / "new.json", syncbench_info(values=new))
    options = [option for gate in gates for option in ("--fail", gate)]
    return main(["compare", str(base_path), str(new_path), *options])


# Exit status and output


def test_regression_past_gate_exits_1(tmp_path, capsys):
    status = compare_one_case(
        tmp_path,
        {"api_calls.total": 100, "latency_s.p95": 280.0},
        {"api_calls.total": 106, "latency_s.p95": 281.0},
        "api_calls.total:+5%",
        "latency_s.p95:+10%",
    )

    out = capsys.readouterr().out
    assert status == 1
    assert "100 -> 106 (+6.0%)" in out
    assert "REGRESSED: api_calls.total +6.0% exceeds +5%" in out
    assert out.splitlines()[-1] == (
        "REGRESSED: 1 of 1 case: realtime/direct-polling: api_calls.total"
    )


def test_no_regression_exits_0(tmp_path, capsys):
    status = compare_one_case(
        tmp_path,
        {"api_calls.total": 100, "latency_s.p95": 280.0},
        {"api_calls.total": 104, "latency_s.p95": 200.0},
        "api_calls.total:+5%",
        "latency_s.p95:+10%",
    )

    out = capsys.readouterr().out
    assert status == 0
    assert "REGRESSED" not in out
    assert out.splitlines()[-1] == "ok: no gate tripped in 1 case"


def test_table_columns_align(tmp_path, capsys):
    base = write_run(
        tmp_path / "base.json",
        syncbench_info("realtime", "direct-polling"),
        syncbench_info("bulk", "webhook-sync", {"api_calls.total": 5}),
    )
    new = write_run(
        tmp_path / "new.json",
        syncbench_info("realtime", "direct-polling", {"api_calls.total": 250}),
        syncbench_info("bulk", "webhook-sync", {"api_calls.total": 5}),
    )

    main(["compare", str(base), str(new), "--fail", "api_calls.total:+5%"])

    header, rule, first, second, _ = capsys.readouterr().out.splitlines()
    assert header.split() == [
        "scenario",
        "solution",
        "api_calls.total",
        "(+5%)",
        "verdict",
    ]
    assert rule.startswith("--------  --------------  ")
    assert first.index("100 -> 250") == second.index("5 -> 5")
    assert first.index("REGRESSED") == second.rindex("ok")


def test_without_gates_shows_defaults_and_exits_0(tmp_path, capsys):
    status = compare_one_case(
        tmp_path,
        {"api_calls.total": 100, "data_loss": 0},
        {"api_calls.total": 500, "data_loss": 7},
    )

    header = capsys.readouterr().out.splitlines()[0]
    assert status == 0
    assert header.split() == ["scenario", "solution", *DEFAULT_METRICS, "verdict"]


def test_without_gates_change_is_relative(tmp_path, capsys):
    compare_one_case(tmp_path, {"api_calls.total": 100}, {"api_calls.total": 125})

    out = capsys.readouterr().out
    assert "100 -> 125 (+25.0%)" in out


def test_without_gates_zero_base_change_is_absolute(tmp_path, capsys):
    compare_one_case(tmp_path, {"data_loss": 0}, {"data_loss": 7})

    out = capsys.readouterr().out
    assert "0 -> 7 (+7)" in out


# Input errors: exit 2 with one line naming the file or metric and the fix


def run_with_files(base: Path, new: Path, *options: str) -> int:
    return main(["compare", str(base), str(new), *options])


def assert_one_line_error(capsys, *fragments: str) -> None:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == ""
    assert len(lines) == 1
    for fragment in fragments:
        assert fragment in lines[0]


def test_missing_file_exits_2(tmp_path, capsys):
    base = write_run(tmp_path / "base.json")

    status = run_with_files(base, tmp_path / "absent.json")

    assert status == 2
    assert_one_line_error(
        capsys, "absent.json: file not found", "pytest --benchmark-json"
    )


def test_directory_exits_2(tmp_path, capsys):
    base = write_run(tmp_path / "base.json")

    status = run_with_files(base, tmp_path)

    assert status == 2
    assert_one_line_error(capsys, "is a directory")


def test_not_json_exits_2(tmp_path, capsys):
    base = write_run(tmp_path / "base.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")

    status = run_with_files(base, broken)

    assert status == 2
    assert_one_line_error(capsys, "broken.json: not valid JSON", "--benchmark-json")


@pytest.mark.parametrize(
    "document",
    [[1, 2], {"version": "5.3.1"}, {"benchmarks": {"name": "x"}}],
    ids=["list", "no-benchmarks", "benchmarks-not-list"],
)
def test_not_pytest_benchmark_json_exits_2(tmp_path, capsys, document):
    base = write_run(tmp_path / "base.json")
    other = write_json(tmp_path / "other.json", document)

    status = run_with_files(other, base)

    assert status == 2
    assert_one_line_error(
        capsys, "other.json: not pytest-benchmark JSON", "'benchmarks' list"
    )


def test_no_syncbench_extra_info_exits_2(tmp_path, capsys):
    base = write_run(tmp_path / "base.json")
    plain = benchmark_json([syncbench_info()])
    plain["benchmarks"][0]["extra_info"] = {}
    new = write_json(tmp_path / "plain.json", plain)

    status = run_with_files(base, new)

    assert status == 2
    assert_one_line_error(
        capsys, "plain.json: no benchmark has extra_info['syncbench']", "--syncbench"
    )


def test_other_benchmarks_in_file_are_skipped(tmp_path, capsys):
    base = write_run(tmp_path / "base.json")
    mixed = benchmark_json([syncbench_info()])
    unrelated = copy.deepcopy(mixed["benchmarks"][0])
    unrelated["extra_info"] = {}
    mixed["benchmarks"].append(unrelated)
    new = write_json(tmp_path / "mixed.json", mixed)

    status = run_with_files(base, new)

    assert status == 0
    assert "only in NEW" not in capsys.readouterr().out


def test_duplicate_case_exits_2(tmp_path, capsys):
    base = write_run(tmp_path / "base.json")
    twice = write_run(tmp_path / "twice.json", syncbench_info(), syncbench_info())

    status = run_with_files(base, twice)

    assert status == 2
    assert_one_line_error(
        capsys, "twice.json: case realtime/direct-polling appears more than once"
    )


def test_unknown_metric_exits_2(tmp_path, capsys):
    status = compare_one_case(tmp_path, {}, {}, "latency_s.p90:+5%")

    assert status == 2
    assert_one_line_error(
        capsys, "unknown metric 'latency_s.p90'", "base.json", "latency_s.p95"
    )


def test_metric_naming_object_exits_2(tmp_path, capsys):
    status = compare_one_case(tmp_path, {}, {}, "latency_s:+5%")

    assert status == 2
    assert_one_line_error(
        capsys, "metric 'latency_s' is not a number", "such as latency_s.p50"
    )


def test_metric_naming_text_exits_2(tmp_path, capsys):
    status = compare_one_case(tmp_path, {}, {}, "status:+0")

    assert status == 2
    assert_one_line_error(
        capsys,
        "metric 'status' is not a number",
        "such as schema, seed, changes.tracked",
    )


@pytest.mark.parametrize("metric", ["status", "scenario", "solution"])
def test_text_metric_hint_names_numbers(tmp_path, capsys, metric):
    status = compare_one_case(tmp_path, {}, {}, f"{metric}:+1")

    assert status == 2
    error = capsys.readouterr().err
    hinted = error.partition("such as ")[2].strip().split(", ")
    assert hinted
    info = syncbench_info()
    for path in hinted:
        value = info
        for part in path.split("."):
            value = value[part]
        assert isinstance(value, int | float), path
        assert not isinstance(value, bool), path


@pytest.mark.parametrize(
    ("side", "value"),
    [
        ("new", float("nan")),
        ("new", float("inf")),
        ("base", float("nan")),
        ("base", float("-inf")),
    ],
)
def test_non_finite_metric_exits_2(tmp_path, capsys, side, value):
    changed = {"api_calls.total": value}
    base, new = (changed, {}) if side == "base" else ({}, changed)
    status = compare_one_case(tmp_path, base, new, "api_calls.total:+5%")

    assert status == 2
    assert_one_line_error(
        capsys,
        f"{side}.json",
        "realtime/direct-polling",
        "'api_calls.total'",
        "expected a finite number",
    )


def test_non_finite_ungated_metric_exits_2(tmp_path, capsys):
    status = compare_one_case(tmp_path, {}, {"latency_s.p95": float("nan")})

    assert status == 2
    assert_one_line_error(capsys, "new.json", "'latency_s.p95'", "is nan")


@pytest.mark.parametrize(
    "value",
    [
        "api_calls.total",
        "api_calls.total:5%",
        "api_calls.total:+",
        "api_calls.total:+five%",
        "api_calls.total:+5%%",
        ":+5%",
    ],
)
def test_malformed_fail_value_exits_2(tmp_path, capsys, value):
    status = compare_one_case(tmp_path, {}, {}, value)

    assert status == 2
    assert_one_line_error(
        capsys, f"invalid --fail value {value!r}", "expected METRIC:+N% or METRIC:+N"
    )


@pytest.mark.parametrize(
    ("field", "base_value", "new_value"),
    [("scale", "smoke", "default"), ("seed", 1, 2), ("schema", 1, 2)],
)
def test_mismatched_runs_rejected(tmp_path, capsys, field, base_value, new_value):
    status = compare_one_case(tmp_path, {field: base_value}, {field: new_value})

    assert status == 2
    assert_one_line_error(
        capsys,
        f"{field} {base_value} vs {new_value}",
        "base.json and",
        "new.json",
        "--allow-mismatch",
    )


def test_allow_mismatch_compares(tmp_path, capsys):
    base = write_run(tmp_path / "base.json", syncbench_info(values={"scale": "smoke"}))
    new = write_run(
        tmp_path / "new.json",
        syncbench_info(values={"scale": "default", "api_calls.total": 200}),
    )

    status = run_with_files(
        base, new, "--allow-mismatch", "--fail", "api_calls.total:+5%"
    )

    out = capsys.readouterr().out
    assert status == 1
    assert out.splitlines()[0] == (
        "note: compared despite scale smoke vs default (--allow-mismatch)"
    )


# Gates: relative, absolute and negative


def test_parse_gate_relative():
    assert parse_gate("api_calls.total:+5%") == Gate("api_calls.total", 5.0, True)


def test_parse_gate_absolute():
    assert parse_gate("data_loss:+0") == Gate("data_loss", 0.0, False)


def test_parse_gate_negative_relative():
    assert parse_gate("throughput_per_min:-2.5%") == Gate(
        "throughput_per_min", 2.5, True, drop_is_worse=True
    )


def test_parse_gate_negative_absolute():
    assert parse_gate("throughput_per_min:-3") == Gate(
        "throughput_per_min", 3.0, False, drop_is_worse=True
    )


@pytest.mark.parametrize(
    ("gate", "base", "new", "tripped"),
    [
        ("+10%", 100, 110, False),
        ("+10%", 100, 110.5, True),
        ("+10%", 0.3, 0.33, False),
        ("+10%", 100, 50, False),
        ("+0.3", 0.8, 1.1, False),
        ("+0.3", 0.8, 1.1001, True),
        ("+2", 5, 7, False),
        ("+2", 5, 7.1, True),
        ("+0", 5, 5, False),
        ("+0", 5, 6, True),
        ("+0", 5, 4, False),
        ("-5%", 100, 95, False),
        ("-5%", 100, 94, True),
        ("-5%", 100, 500, False),
        ("+5%", 0, 1, True),
        ("+5%", 0, -1, False),
        ("-5%", 0, -1, True),
        ("-5%", 0, 5, False),
        ("-3", 10, 7, False),
        ("-3", 10, 6.9, True),
    ],
)
def test_gate_threshold(gate, base, new, tripped):
    result = evaluate("metric", parse_gate(f"metric:{gate}"), base, new)

    assert (result.failure is not None) is tripped


def test_absolute_gate_shows_absolute_change(tmp_path, capsys):
    status = compare_one_case(
        tmp_path, {"data_loss": 2}, {"data_loss": 5}, "data_loss:+0"
    )

    out = capsys.readouterr().out
    assert status == 1
    assert "2 -> 5 (+3)" in out
    assert "data_loss +3 exceeds +0" in out


def test_negative_gate_trips_on_drop(tmp_path, capsys):
    status = compare_one_case(
        tmp_path,
        {"throughput_per_min": 100.0},
        {"throughput_per_min": 80.0},
        "throughput_per_min:-10%",
    )

    out = capsys.readouterr().out
    assert status == 1
    assert "throughput_per_min (-10%)" in out
    assert "throughput_per_min -20.0% exceeds -10%" in out


def test_negative_gate_passes_rise(tmp_path):
    status = compare_one_case(
        tmp_path,
        {"throughput_per_min": 100.0},
        {"throughput_per_min": 180.0},
        "throughput_per_min:-10%",
    )

    assert status == 0


# Zero base and null values


def test_zero_base_relative_gate_trips(tmp_path, capsys):
    status = compare_one_case(
        tmp_path,
        {"consistency.ghost": 0},
        {"consistency.ghost": 1},
        "consistency.ghost:+50%",
    )

    out = capsys.readouterr().out
    assert status == 1
    assert "0 -> 1 (+1, base 0)" in out
    assert "from a base of 0, which no relative gate allows" in out


def test_zero_base_relative_gate_unchanged_passes(tmp_path, capsys):
    status = compare_one_case(
        tmp_path,
        {"consistency.ghost": 0},
        {"consistency.ghost": 0},
        "consistency.ghost:+50%",
    )

    out = capsys.readouterr().out
    assert status == 0
    assert "0 -> 0 (+0, base 0)" in out


def test_zero_base_absolute_gate_allows_limit(tmp_path):
    status = compare_one_case(
        tmp_path,
        {"consistency.ghost": 0},
        {"consistency.ghost": 1},
        "consistency.ghost:+1",
    )

    assert status == 0


def test_null_in_both_is_not_applicable(tmp_path, capsys):
    status = compare_one_case(
        tmp_path, {"latency_s.p95": None}, {"latency_s.p95": None}, "latency_s.p95:+0%"
    )

    out = capsys.readouterr().out
    assert status == 0
    assert " n/a " in out


def test_null_base_is_not_applicable(tmp_path, capsys):
    status = compare_one_case(
        tmp_path, {"latency_s.p95": None}, {"latency_s.p95": 900.0}, "latency_s.p95:+0%"
    )

    out = capsys.readouterr().out
    assert status == 0
    assert "null -> 900 (n/a)" in out


def test_null_new_trips(tmp_path, capsys):
    status = compare_one_case(
        tmp_path,
        {"latency_s.p95": 280.0},
        {"latency_s.p95": None},
        "latency_s.p95:+10%",
    )

    out = capsys.readouterr().out
    assert status == 1
    assert "280 -> null (n/a)" in out
    assert "latency_s.p95 was 280 in BASE, null in NEW" in out


def test_null_new_without_gate_exits_0(tmp_path):
    status = compare_one_case(
        tmp_path, {"latency_s.p95": 280.0}, {"latency_s.p95": None}
    )

    assert status == 0


def test_null_quota_share_is_known_metric(tmp_path):
    status = compare_one_case(
        tmp_path,
        {"api_calls.daily_quota_share": None},
        {"api_calls.daily_quota_share": None},
        "api_calls.daily_quota_share:+5%",
    )

    assert status == 0


# Case status and matching


def test_failed_case_trips_without_gates(tmp_path, capsys):
    status = compare_one_case(
        tmp_path,
        {},
        {"status": "failed", "error": "RuntimeError: boom\nTraceback line"},
    )

    out = capsys.readouterr().out
    assert status == 1
    assert "REGRESSED: failed: RuntimeError: boom" in out
    assert "Traceback line" not in out
    assert out.splitlines()[-1] == (
        "REGRESSED: 1 of 1 case: realtime/direct-polling: status failed"
    )


def test_deadline_status_does_not_trip(tmp_path):
    status = compare_one_case(tmp_path, {}, {"status": "deadline"}, "data_loss:+0")

    assert status == 0


def test_case_missing_in_new_trips(tmp_path, capsys):
    base = write_run(
        tmp_path / "base.json",
        syncbench_info("realtime", "direct-polling"),
        syncbench_info("bulk", "hybrid-cdc"),
    )
    new = write_run(tmp_path / "new.json", syncbench_info("realtime", "direct-polling"))

    status = run_with_files(base, new, "--fail", "api_calls.total:+5%")

    out = capsys.readouterr().out
    assert status == 1
    assert "100 -> missing" in out
    assert out.splitlines()[-1] == (
        "REGRESSED: 1 of 2 cases: bulk/hybrid-cdc: missing in NEW"
    )


def test_case_only_in_new_reported(tmp_path, capsys):
    base = write_run(
        tmp_path / "base.json", syncbench_info("realtime", "direct-polling")
    )
    new = write_run(
        tmp_path / "new.json",
        syncbench_info("realtime", "direct-polling"),
        syncbench_info("realtime", "webhook-sync"),
    )

    status = run_with_files(base, new, "--fail", "api_calls.total:+5%")

    rows = capsys.readouterr().out.splitlines()
    assert status == 0
    assert rows[3].split()[:3] == ["realtime", "webhook-sync", "(only"]
    assert rows[3].endswith("new case, not in BASE")


def test_cases_matched_by_scenario_and_solution(tmp_path, capsys):
    base = write_run(
        tmp_path / "base.json",
        syncbench_info("realtime", "direct-polling", {"api_calls.total": 10}),
        syncbench_info("realtime", "webhook-sync", {"api_calls.total": 20}),
    )
    new = write_run(
        tmp_path / "new.json",
        syncbench_info("realtime", "webhook-sync", {"api_calls.total": 20}),
        syncbench_info("realtime", "direct-polling", {"api_calls.total": 10}),
    )

    status = run_with_files(base, new, "--fail", "api_calls.total:+0")

    out = capsys.readouterr().out
    assert status == 0
    assert "10 -> 10 (+0)" in out
    assert "20 -> 20 (+0)" in out


# End to end: two real smoke runs of the plugin


REALTIME_TEST = """
def test_realtime(syncbench_case):
    syncbench_case.run("realtime")
"""


def run_realtime(pytester: pytest.Pytester, seed: int) -> Path:
    out = pytester.path / f"seed{seed}.json"
    result = pytester.runpytest(
        "--syncbench",
        "--syncbench-scale=smoke",
        "--syncbench-solutions=direct-polling",
        "-k",
        "realtime",
        f"--syncbench-seed={seed}",
        f"--benchmark-json={out}",
    )
    result.assert_outcomes(passed=1)
    return out


def test_compare_two_smoke_runs(pytester, capsys):
    pytester.makepyfile(REALTIME_TEST)
    base = run_realtime(pytester, seed=1)
    new = run_realtime(pytester, seed=2)
    capsys.readouterr()

    # Simulated figures repeat exactly per seed: seed 1 makes 74 HubSpot calls and seed
    # 2 makes 75, and both deliver every change.
    status = main(
        [
            "compare",
            str(base),
            str(new),
            "--allow-mismatch",
            "--fail",
            "api_calls.total:+0",
            "--fail",
            "data_loss:+0",
        ]
    )

    out = capsys.readouterr().out
    assert status == 1
    assert "note: compared despite seed 1 vs 2 (--allow-mismatch)" in out
    assert "74 -> 75 (+1)" in out
    assert "0 -> 0 (+0)" in out
    assert out.splitlines()[-1] == (
        "REGRESSED: 1 of 1 case: realtime/direct-polling: api_calls.total"
    )


# Clocks


def live(speedup: float) -> dict[str, Any]:
    return {
        "mode": "live",
        "speedup": speedup,
        "latency_wall_s": {"p50": 2.5, "p95": 4.7, "count": 333},
        "tick_lag_s": {"p50": 0.01, "p95": 0.1, "count": 1440},
    }


@pytest.mark.parametrize(
    ("base_clock", "new_clock", "base_label", "new_label"),
    [
        ({"mode": "virtual"}, live(60), "virtual", "live 60x"),
        (live(60), {"mode": "virtual"}, "live 60x", "virtual"),
        (live(60), live(120), "live 60x", "live 120x"),
        (None, live(60), "virtual", "live 60x"),
    ],
)
def test_different_clocks_exit_2(
    tmp_path, capsys, base_clock, new_clock, base_label, new_label
):
    status = compare_one_case(
        tmp_path,
        {"clock": base_clock},
        {"clock": new_clock},
        "latency_s.p95:+10%",
    )

    assert status == 2
    assert_one_line_error(
        capsys,
        "case realtime/direct-polling ran on the "
        f"{base_label} clock in {tmp_path / 'base.json'} but on the {new_label} "
        f"clock in {tmp_path / 'new.json'}",
        "same clock and speedup",
    )


def test_different_clocks_ignore_allow_mismatch(tmp_path, capsys):
    base = write_run(tmp_path / "base.json", syncbench_info(values={"clock": live(60)}))
    new = write_run(
        tmp_path / "new.json", syncbench_info(values={"clock": {"mode": "virtual"}})
    )

    status = run_with_files(base, new, "--allow-mismatch")

    assert status == 2
    assert_one_line_error(capsys, "live 60x clock", "virtual clock")


def test_different_clocks_named_per_case(tmp_path, capsys):
    base = write_run(
        tmp_path / "base.json",
        syncbench_info("realtime", "webhook-sync", {"clock": live(60)}),
        syncbench_info("outage", "webhook-sync", {"clock": live(60)}),
    )
    new = write_run(
        tmp_path / "new.json",
        syncbench_info("realtime", "webhook-sync", {"clock": live(60)}),
        syncbench_info("outage", "webhook-sync", {"clock": live(600)}),
    )

    status = run_with_files(base, new)

    assert status == 2
    captured = capsys.readouterr()
    assert "case outage/webhook-sync ran on the live 60x clock" in captured.err
    assert "realtime/webhook-sync" not in captured.err


@pytest.mark.parametrize(
    ("base_clock", "new_clock"),
    [
        (live(60), live(60)),
        (live(60), live(60.0)),
        (None, {"mode": "virtual"}),
        ({"mode": "virtual"}, None),
    ],
)
def test_same_clock_compares(tmp_path, capsys, base_clock, new_clock):
    status = compare_one_case(
        tmp_path,
        {"clock": base_clock, "latency_s.p95": 100.0},
        {"clock": new_clock, "latency_s.p95": 200.0},
        "latency_s.p95:+10%",
    )

    captured = capsys.readouterr()
    assert status == 1
    assert captured.err == ""
    assert "latency_s.p95 +100.0% exceeds +10%" in captured.out


@pytest.mark.parametrize(
    ("clock", "shown"),
    [
        ("live", "clock is 'live'"),
        ({"mode": "wall"}, "clock.mode is 'wall'"),
        ({"mode": "live", "speedup": "60"}, "clock.speedup of a live case is '60'"),
    ],
)
def test_malformed_clock_exits_2(tmp_path, capsys, clock, shown):
    status = compare_one_case(tmp_path, {}, {"clock": clock})

    assert status == 2
    assert_one_line_error(
        capsys, f"{tmp_path / 'new.json'}: case realtime/direct-polling: {shown}"
    )
