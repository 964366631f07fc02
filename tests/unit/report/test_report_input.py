"""Malformed results and command-line values: exit 2 with one line naming the problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from report_data import all_cases, document, write_results

from pytest_syncbench.cli import main


def _set(info: dict[str, Any], field: str, value: Any) -> None:
    *parents, last = field.split(".")
    target = info
    for part in parents:
        target = target[part]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value


_DELETE = object()


def _write_broken(
    path: Path, scenarios: tuple[str, ...], index: int, field: str, value: Any
) -> Path:
    """Write results whose case ``index`` has ``field`` set to ``value``."""
    saved = document(all_cases(scenarios))
    _set(saved["benchmarks"][index]["extra_info"]["syncbench"], field, value)
    path.write_text(json.dumps(saved), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("field", "value", "shown", "expected"),
    [
        ("api_calls.total", "34", 'api_calls.total is "34"', "a finite number"),
        ("api_calls.total", None, "api_calls.total is null", "a finite number"),
        ("api_calls", None, "api_calls is null", "an object"),
        ("api_calls", _DELETE, "api_calls is missing", "an object"),
        ("latency_s", None, "latency_s is null", "an object"),
        ("latency_s", _DELETE, "latency_s is missing", "an object"),
        ("cpu_s", None, "cpu_s is null", "a finite number"),
        ("cpu_s", _DELETE, "cpu_s is missing", "a finite number"),
        ("latency_s.p95", "5", 'latency_s.p95 is "5"', "a finite number or null"),
        ("latency_s.p99", "5", 'latency_s.p99 is "5"', "a finite number or null"),
        ("latency_s.max", "5", 'latency_s.max is "5"', "a finite number or null"),
        ("data_loss", "0", 'data_loss is "0"', "a finite number or null"),
        ("simulated_s", "9", 'simulated_s is "9"', "a finite number or null"),
        ("simulated_s", float("nan"), "simulated_s is nan", "a finite number"),
        ("timeseries", "x", 'timeseries is "x"', "an object or null"),
        ("timeseries.t_s", "x", 'timeseries.t_s is "x"', "a list of numbers"),
        ("timeseries.t_s", [0, "1"], 'timeseries.t_s[1] is "1"', "a finite number"),
        (
            "api_calls.daily_quota_share",
            "0.1",
            'api_calls.daily_quota_share is "0.1"',
            "a finite number or null",
        ),
        ("recovery_s", True, "recovery_s is true", "a finite number or null"),
    ],
)
def test_malformed_case_names_field(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    field: str,
    value: Any,
    shown: str,
    expected: str,
) -> None:
    results = _write_broken(
        tmp_path / "results.json", ("realtime", "outage"), 5, field, value
    )
    code = main(["report", str(results), "-o", str(tmp_path / "r.html")])
    error = capsys.readouterr().err
    assert code == 2
    assert error.count("\n") == 1
    assert error.startswith(f"syncbench report: error: {results}: ")
    assert "case outage/webhook-sync: " in error
    assert f"{shown}, expected {expected}" in error
    assert "Traceback" not in error


def test_malformed_case_in_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    infos = all_cases(("realtime",))
    infos[0]["api_calls"]["total"] = "34"
    results = write_results(tmp_path / "results.json", infos)
    assert main(["report", str(results), "--format", "markdown"]) == 2
    assert 'api_calls.total is "34"' in capsys.readouterr().err


def test_malformed_run_in_trend_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "storage"
    folder.mkdir()
    write_results(folder / "0001_good.json", all_cases(("realtime",)))
    bad = _write_broken(folder / "0002_bad.json", ("realtime",), 1, "latency_s", None)
    code = main(["report", "--trend", str(folder), "-o", str(tmp_path / "t.html")])
    assert code == 2
    error = capsys.readouterr().err
    assert str(bad) in error
    assert "latency_s is null" in error


def test_empty_output_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = write_results(tmp_path / "results.json", all_cases(("realtime",)))
    assert main(["report", str(results), "-o", ""]) == 2
    error = capsys.readouterr().err
    assert "output path (-o) is empty" in error
    assert "'.'" not in error
