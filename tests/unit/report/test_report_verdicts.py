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


def _outage_cases(recovery: dict[str, float | None]) -> list[dict[str, Any]]:
    infos = all_cases(("outage", "burst"))
    for info in infos:
        if info["scenario"] == "outage":
            info["recovery_s"] = recovery[info["solution"]]
            value = recovery[info["solution"]]
            info["catchup_per_s"] = None if not value else round(300 / value, 3)
        else:
            info["drain_s"] = None if info["solution"] == "webhook-sync" else 42.5
    return infos


def test_recovery_uses_exact_fields(tmp_path: Path) -> None:
    recovery = {
        "direct-polling": 5.0,
        "webhook-sync": 125.5,
        "hybrid-cdc": 61.25,
        "native-integration": None,
    }
    report = build(tmp_path, _outage_cases(recovery))
    section = report.answers[3]
    rows = {row[0]: row for row in section.tables[0].rows}
    for name, value in recovery.items():
        cell = rows[name][1]
        if value is None:
            assert cell == "not recovered"
        else:
            assert cell.value == value
            assert cell.sources[0].endswith("extra_info.syncbench.recovery_s")
    assert rows["direct-polling"][2].value == round(300 / 5.0, 3)
    assert rows["webhook-sync"][6] == "not recovered"
    assert rows["native-integration"][6].value == 42.5
    assert "exact recovery_s and drain_s" in plain(section.paragraphs[0])
    verdict = plain(section.verdict)
    assert "direct-polling caught up fastest (5 s)" in verdict
    assert "webhook-sync slowest (126 s)" in verdict
    assert "Not caught up when the run ended: native-integration" in verdict
    assert "estimates" not in verdict


def test_recovery_verdict_shows_outage_tail(tmp_path: Path) -> None:
    infos = _outage_cases(
        {
            "direct-polling": 5.0,
            "webhook-sync": 60.0,
            "hybrid-cdc": 60.0,
            "native-integration": 60.0,
        }
    )
    for info in infos:
        if info["scenario"] == "outage" and info["solution"] == "direct-polling":
            info["latency_s"]["p99"] = 3052.095
            info["data_loss"] = 7
    report = build(tmp_path, infos)
    verdict = plain(report.answers[3].verdict)
    assert "direct-polling caught up fastest (5 s)" in verdict
    assert "webhook-sync, hybrid-cdc and native-integration tied slowest" in verdict
    assert "the worst outage p99 is direct-polling's (3,052 s)" in verdict
    assert "direct-polling: outage p99 3,052 s, data loss 7" in verdict
    assert "Data lost in some scenario: direct-polling." in verdict


def test_recovery_all_tied(tmp_path: Path) -> None:
    infos = _outage_cases(dict.fromkeys(PROFILE, 30.0))
    verdict = plain(build(tmp_path, infos).answers[3].verdict)
    assert "tied: each caught up in 30 s" in verdict
    assert "fastest" not in verdict
    assert "slowest" not in verdict


def test_recovery_estimated_without_fields(tmp_path: Path) -> None:
    section = build(tmp_path, all_cases(("outage", "burst"))).answers[3]
    note = plain(section.paragraphs[0])
    assert note.startswith("Estimated from the 60-second timeseries samples")
    assert "outage/direct-polling" in note
    assert "burst/webhook-sync" in note
    assert "estimates from 60-second samples" in plain(section.verdict)


def _failure_mode_cases() -> list[dict[str, Any]]:
    infos = all_cases(("outage",))
    for mode in ("failure-ties", "failure-webhooks-dropped"):
        for info in all_cases(("realtime",)):
            info["scenario"] = mode
            info["consistency"] = {"missing": 0, "stale": 0, "ghost": 0}
            info["consistency"]["duplicated"] = 0
            infos.append(info)
    return infos


def test_failure_modes_table_and_survivors(tmp_path: Path) -> None:
    infos = _failure_mode_cases()
    for info in infos:
        if (info["scenario"], info["solution"]) == (
            "failure-webhooks-dropped",
            "webhook-sync",
        ):
            info["data_loss"] = 321
            info["consistency"].update(missing=25, stale=243, ghost=6)
        if (info["scenario"], info["solution"]) == ("failure-ties", "hybrid-cdc"):
            info["consistency"]["duplicated"] = 3
    section = build(tmp_path, infos).answers[3]
    (modes,) = [t for t in section.tables if t.headers[0] == "mode"]
    rows = {(row[0], row[1]): row for row in modes.rows}
    assert len(rows) == 8
    dropped = rows[("failure-webhooks-dropped", "webhook-sync")]
    assert dropped[3].value == 321
    assert dropped[6].value == 6
    assert dropped[8] == "no"
    assert rows[("failure-ties", "hybrid-cdc")][7].value == 3
    assert rows[("failure-ties", "hybrid-cdc")][8] == "no"
    assert rows[("failure-ties", "direct-polling")][8] == "yes"
    verdict = plain(section.verdict)
    assert (
        "Of the 2 failure modes in the input, direct-polling, native-integration "
        "survived all of them." in verdict
    )
    assert "webhook-sync failed failure-webhooks-dropped (data loss 321)" in verdict
    assert "hybrid-cdc failed failure-ties (data loss 0)" in verdict


def test_failure_modes_absent_no_table(tmp_path: Path) -> None:
    section = build(tmp_path, all_cases(("outage",))).answers[3]
    assert all(t.headers[0] != "mode" for t in section.tables)
    assert "failure modes" not in plain(section.verdict)


def test_failure_mode_partial_not_judged(tmp_path: Path) -> None:
    infos = [
        i
        for i in _failure_mode_cases()
        if (i["scenario"], i["solution"]) != ("failure-ties", "native-integration")
    ]
    verdict = plain(build(tmp_path, infos).answers[3].verdict)
    assert "Not run in every mode, so not judged: native-integration." in verdict
    assert "webhook-sync, hybrid-cdc survived all of them" in verdict


def _sweep_point(
    companies: int, rate: int, p95: float, keeps_up: bool
) -> dict[str, Any]:
    return {
        "companies": companies,
        "updates_per_hour": rate,
        "status": "converged" if keeps_up else "deadline",
        "keeps_up": keeps_up,
        "reasons": [] if keeps_up else ["daily-quota"],
        "data_loss": 0,
        "latency_s": {"p50": p95 / 2, "p95": p95},
        "max_backlog": 100,
        "calls_per_hour": companies / 10,
    }


def sweep_record(solution: str, broke_at: int | None) -> dict[str, Any]:
    """Return a scale-sweep record whose record-count axis breaks at ``broke_at``."""
    sizes = [10_000, 100_000, 1_000_000]
    rates = [1_000, 10_000, 50_000]
    held = max((s for s in sizes if broke_at is None or s < broke_at), default=None)
    return {
        "schema": 1,
        "scenario": "scale-sweep",
        "solution": solution,
        "seed": 1,
        "scale": "smoke",
        "tier": "professional",
        "status": "completed",
        "error": None,
        "failed_points": [],
        "breaking_point": {
            "update_rate": {
                "varies": "updates_per_hour",
                "broke_at": None,
                "reasons": [],
                "held_up_to": rates[-1],
                "verdict": "held up to the largest point tried",
            },
            "record_count": {
                "varies": "companies",
                "broke_at": broke_at,
                "reasons": [] if broke_at is None else ["daily-quota"],
                "held_up_to": held,
                "verdict": "as computed by the sweep",
            },
        },
        "sweep": {
            "plan": {},
            "update_rate": [_sweep_point(10_000, r, 300.0, True) for r in rates],
            "record_count": [
                _sweep_point(
                    s, 10_000, 300.0 * (k + 1), broke_at is None or s < broke_at
                )
                for k, s in enumerate(sizes)
            ],
        },
    }


def _write_sweep(path: Path, records: list[dict[str, Any]]) -> Path:
    saved = {
        "benchmarks": [
            {
                "name": f"test_scale_sweep[{r['solution']}]",
                "extra_info": {"syncbench": r},
            }
            for r in records
        ]
    }
    path.write_text(json.dumps(saved), encoding="utf-8")
    return path


def test_sweep_breaking_points_answer_scale(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results.json", all_cases())
    sweep = _write_sweep(
        tmp_path / "sweep.json",
        [sweep_record("direct-polling", 1_000_000), sweep_record("webhook-sync", None)],
    )
    report = build_report(load_results([results, sweep]), load_prices())
    section = report.answers[2]
    verdict = plain(section.verdict)
    assert (
        "direct-polling broke on record_count at 1,000,000 companies (daily-quota)"
        in verdict
    )
    assert "webhook-sync (record_count)" in verdict
    assert "direct-polling (record_count)" not in verdict
    (table,) = [
        t for t in section.tables if t.headers[:3] == ["solution", "scale", "axis"]
    ]
    broke = {(row[0], row[2]): row[3] for row in table.rows}
    assert broke[("direct-polling", "record_count (companies)")].value == 1_000_000
    assert broke[("webhook-sync", "record_count (companies)")] == "not reached"
    plot_ids = [
        p for p in section.plots if 'id="breaking-record_count-latency_s-p95"' in p
    ]
    assert len(plot_ids) == 1
    assert "scale-sweep" not in report.dataset.scenarios


def test_sweep_record_bad_field_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = sweep_record("direct-polling", None)
    record["sweep"]["record_count"][1]["latency_s"]["p95"] = "slow"
    sweep = _write_sweep(tmp_path / "sweep.json", [record])
    results = write_results(tmp_path / "results.json", all_cases(("realtime",)))
    assert (
        main(["report", str(results), str(sweep), "-o", str(tmp_path / "r.html")]) == 2
    )
    error = capsys.readouterr().err
    assert "case scale-sweep/direct-polling" in error
    assert 'sweep.record_count[1].latency_s.p95 is "slow"' in error
