"""Verdicts, the Markdown form and the command's input errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from report_data import (
    OUTAGE_PENDING,
    PROFILE,
    SAMPLE_S,
    all_cases,
    case_info,
    write_results,
)

from pytest_syncbench.cli import main
from pytest_syncbench.report.build import build_report
from pytest_syncbench.report.figures import plain
from pytest_syncbench.report.load import load_results
from pytest_syncbench.report.prices import load_prices
from pytest_syncbench.scenarios import Scale, scenario


def markdown(
    tmp_path: Path, infos: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> str:
    results = write_results(tmp_path / "results.json", infos)
    assert main(["report", str(results), "--format", "markdown"]) == 0
    return capsys.readouterr().out


def build(tmp_path: Path, infos: list[dict[str, Any]]) -> Any:
    results = write_results(tmp_path / "results.json", infos)
    return build_report(load_results([results]), load_prices())


def test_markdown_short_with_five_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = markdown(tmp_path, all_cases(), capsys)
    lines = text.splitlines()
    assert len(lines) < 60
    for number in range(1, 6):
        assert any(line.startswith(f"**{number}. ") for line in lines), number
    assert "| solution |" in text


def test_markdown_api_reduction_from_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = markdown(tmp_path, all_cases(), capsys)
    polling, webhook = PROFILE["direct-polling"][0], PROFILE["webhook-sync"][0]
    expected = round(100 * (1 - webhook / polling), 1)
    assert f"{expected:g}% fewer HubSpot API calls" in text
    assert f"({webhook} vs {polling}," in text


def test_missing_scenario_not_answered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = markdown(tmp_path, all_cases(("bulk", "outage")), capsys)
    assert "Not answered: the input has no realtime scenario" in text
    assert "Not answered: the input has no scale scenario" in text


def test_claim_holds_only_at_90_percent(tmp_path: Path) -> None:
    infos = all_cases(("realtime",))
    report = build(tmp_path, infos)
    stream_polling = report.answers[0].tables[1].rows[0][1].value
    stream_webhook = report.answers[0].tables[1].rows[0][2].value
    cut = 100 * (1 - stream_webhook / stream_polling)
    verdict = plain(report.answers[0].verdict)
    assert ("claim holds" in verdict) == (cut >= 90)

    for info in infos:
        if info["solution"] == "webhook-sync":
            info["timeseries"]["api_calls"] = [
                10 + 4 * k for k in range(len(info["timeseries"]["t_s"]))
            ]
    verdict = plain(build(tmp_path, infos).answers[0].verdict)
    assert "claim does not hold" in verdict


def test_outage_recovery_from_timeseries(tmp_path: Path) -> None:
    report = build(tmp_path, all_cases(("outage",)))
    fault = scenario("outage", Scale.SMOKE).faults[0]
    before = [
        p
        for k, p in enumerate(OUTAGE_PENDING)
        if fault.start_s - fault.duration_s <= 5 + SAMPLE_S * k < fault.start_s
    ]
    normal = max(before)
    first = next(
        k
        for k, p in enumerate(OUTAGE_PENDING)
        if 5 + SAMPLE_S * k >= fault.end_s and p <= normal
    )
    expected = 5 + SAMPLE_S * first - fault.end_s
    row = report.answers[3].tables[0].rows[0]
    assert row[0] == "direct-polling"
    assert row[1].value == pytest.approx(expected)


def test_sweep_found_across_files(tmp_path: Path) -> None:
    small = write_results(tmp_path / "small.json", all_cases())
    large_infos = [case_info("scale", "direct-polling", 900, 400.0)]
    large_infos[0]["scale"] = "default"
    large_infos[0]["companies"] = 250_000
    large_infos[0]["status"] = "deadline"
    large_infos[0]["data_loss"] = 12
    large = write_results(tmp_path / "large.json", large_infos)
    report = build_report(load_results([small, large]), load_prices())
    scale_section = report.answers[2]
    assert len(scale_section.tables) == 2
    text = plain(scale_section.paragraphs[0])
    assert "direct-polling first lost data or missed the deadline at 250,000" in text
    assert any('id="sweep-latency_s-p95"' in plot for plot in scale_section.plots)


def test_no_sweep_says_absent(tmp_path: Path) -> None:
    report = build(tmp_path, all_cases())
    assert "No scale sweep in the input" in plain(report.answers[2].paragraphs[0])
    assert report.answers[2].plots == []


def test_failed_case_reported_not_crashing(tmp_path: Path) -> None:
    infos = all_cases()
    for info in infos:
        if info["solution"] == "hybrid-cdc":
            info["status"] = "failed"
            info["error"] = "start() raised"
            info["latency_s"] = {k: None for k in ("p50", "p95", "p99", "max")}
            info["latency_s"]["count"] = 0
            info["timeseries"] = {k: [] for k in info["timeseries"]}
    report = build(tmp_path, infos)
    verdict = plain(report.answers[3].verdict)
    assert "Cases that did not converge: hybrid-cdc (bulk, realtime, burst" in verdict
    assert "hybrid-cdc" in plain(report.answers[2].verdict)
    row = next(r for r in report.answers[1].tables[0].rows if r[1] == "hybrid-cdc")
    assert row[3].value is None
    assert row[3].text == "n/a"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "file not found"),
        ("not json", "not valid JSON"),
        ('{"benchmarks": 3}', "not pytest-benchmark JSON"),
        (
            '{"benchmarks": [{"extra_info": {}}]}',
            "no benchmark has extra_info['syncbench']",
        ),
    ],
)
def test_bad_input_exits_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["report", str(path), "-o", str(tmp_path / "out.html")]) == 2
    error = capsys.readouterr().err
    assert str(path) in error
    assert message in error


def test_html_written_with_provenance(tmp_path: Path) -> None:
    results = write_results(
        tmp_path / "results.json", all_cases(), commit="feedc0de" * 5
    )
    output = tmp_path / "report.html"
    assert main(["report", str(results), "-o", str(output)]) == 0
    text = output.read_text(encoding="utf-8")
    document = json.loads(results.read_text(encoding="utf-8"))
    assert document["commit_info"]["id"][:12] in text
    assert document["machine_info"]["cpu"]["brand_raw"] in text
    assert "<script" not in text
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text
