"""``syncbench report --trend``: headline metrics across saved runs, in time order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report_data import PROFILE, all_cases, write_results

from pytest_syncbench.cli import main

# File names sort in the opposite order of the saved dates, so the order must come from
# the dates.
RUNS = (
    ("0003_c.json", "2026-01-01T00:00:00+00:00", "aaaaaaaa" * 5, 300),
    ("0002_b.json", "2026-01-02T00:00:00+00:00", "bbbbbbbb" * 5, 200),
    ("0001_a.json", "2026-01-03T00:00:00+00:00", "cccccccc" * 5, 100),
)


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    folder = tmp_path / ".benchmarks" / "smoke" / "Linux-CPython-3.11-64bit"
    folder.mkdir(parents=True)
    for name, saved, commit, polling_calls in RUNS:
        infos = all_cases(("realtime",))
        for info in infos:
            if info["solution"] == "direct-polling":
                info["api_calls"]["total"] = polling_calls
        write_results(folder / name, infos, commit=commit, saved=saved)
    (folder / "0000_other.json").write_text('{"benchmarks": []}', encoding="utf-8")
    return tmp_path / ".benchmarks" / "smoke"


def test_trend_html_in_date_order(storage: Path, tmp_path: Path) -> None:
    output = tmp_path / "trend.html"
    assert main(["report", "--trend", str(storage), "-o", str(output)]) == 0
    text = output.read_text(encoding="utf-8")
    commits = [commit[:8] for _, _, commit, _ in RUNS]
    positions = [text.index(commit) for commit in commits]
    assert positions == sorted(positions)
    charts = re.findall(
        r'<svg class="plot" id="(trend-[^"]+)"[^>]*data-series="(\d+)"', text
    )
    assert ("trend-smoke-realtime-api_calls-total", str(len(PROFILE))) in charts
    assert len(charts) == 5


def test_trend_markdown_first_to_last(
    storage: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--trend", str(storage), "--format", "markdown"]) == 0
    text = capsys.readouterr().out
    first, last = RUNS[0][3], RUNS[-1][3]
    assert f"{first} -> {last}" in text
    assert "3 runs" in text


def test_trend_without_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--trend", str(tmp_path), "--format", "markdown"]) == 2
    error = capsys.readouterr().err
    assert str(tmp_path) in error
    assert "no saved run with syncbench results" in error


def test_trend_not_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "absent"
    assert main(["report", "--trend", str(missing), "--format", "markdown"]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_trend_with_results_rejected(
    storage: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = write_results(tmp_path / "r.json", all_cases(("realtime",)))
    assert main(["report", str(results), "--trend", str(storage)]) == 2
    assert "either results files or --trend" in capsys.readouterr().err


@pytest.fixture
def partial_storage(storage: Path) -> Path:
    """Add a newest run of webhook-sync alone, as ``-k webhook`` saves it."""
    folder = storage / "Linux-CPython-3.11-64bit"
    infos = [i for i in all_cases(("realtime",)) if i["solution"] == "webhook-sync"]
    infos[0]["api_calls"]["total"] = 17
    write_results(
        folder / "0004_d.json",
        infos,
        commit="dddddddd" * 5,
        saved="2026-01-04T00:00:00+00:00",
    )
    return storage


def test_trend_markdown_skips_partial_runs(
    partial_storage: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["report", "--trend", str(partial_storage), "--format", "markdown"]) == 0
    )
    rows = {
        line.split(" | ")[1]: line.split(" | ")
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("| realtime |")
    }
    polling = rows["direct-polling"]
    assert polling[2] == "3 (#0 to #2)"
    assert polling[3] == f"{RUNS[0][3]} -> {RUNS[-1][3]}"
    hook = rows["webhook-sync"]
    assert hook[2] == "4 (#0 to #3)"
    assert hook[3] == f"{PROFILE['webhook-sync'][0]} -> 17"
    assert all("n/a" not in cell for cell in polling[3:])


def test_trend_html_series_counts_runs(partial_storage: Path, tmp_path: Path) -> None:
    output = tmp_path / "trend.html"
    assert main(["report", "--trend", str(partial_storage), "-o", str(output)]) == 0
    text = output.read_text(encoding="utf-8")
    assert "direct-polling (3 of 4 runs)" in text
    assert "webhook-sync (4 of 4 runs)" in text
