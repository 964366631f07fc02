"""Clocks in ``syncbench report``: no mixing, live results marked, duplicates announced."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report_data import PROFILE, all_cases, live_clock, on_clock, write_results

from pytest_syncbench.cli import main

VIRTUAL = {"mode": "virtual"}
LIVE_60 = live_clock(60)


def _write(path: Path, clock: dict | None, polling_calls: int | None = None) -> Path:
    infos = on_clock(all_cases(("realtime",)), clock)
    if polling_calls is not None:
        for info in infos:
            if info["solution"] == "direct-polling":
                info["api_calls"]["total"] = polling_calls
    return write_results(path, infos)


def _markdown(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, str, str]:
    code = main(["report", *map(str, paths), "--format", "markdown"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("reverse", [False, True])
def test_live_and_virtual_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reverse: bool
) -> None:
    files = [
        _write(tmp_path / "virt.json", VIRTUAL),
        _write(tmp_path / "live.json", LIVE_60),
    ]
    if reverse:
        files.reverse()

    code, out, error = _markdown(capsys, *files)

    assert code == 2
    assert out == ""
    assert error.count("\n") == 1
    assert error.startswith("syncbench report: error: ")
    assert f"{tmp_path / 'virt.json'} (virtual)" in error
    assert f"{tmp_path / 'live.json'} (live 60x)" in error
    assert "separately" in error


def test_live_speedups_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fast = _write(tmp_path / "fast.json", live_clock(120))
    slow = _write(tmp_path / "slow.json", LIVE_60)

    code, _, error = _markdown(capsys, slow, fast)

    assert code == 2
    assert f"{slow} (live 60x)" in error
    assert f"{fast} (live 120x)" in error


def test_mixed_clocks_in_one_file_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    infos = all_cases(("realtime",))
    infos[0]["clock"] = LIVE_60
    mixed = write_results(tmp_path / "mixed.json", infos)

    code, _, error = _markdown(capsys, mixed)

    assert code == 2
    assert f"{mixed} (live 60x, virtual)" in error


def test_results_without_clock_are_virtual(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _write(tmp_path / "old.json", None)
    new = write_results(
        tmp_path / "new.json", on_clock(all_cases(("outage",)), VIRTUAL)
    )

    code, out, error = _markdown(capsys, old, new)

    assert code == 0
    assert error == ""
    assert "virtual clock" in out
    assert "live clock at" not in out


def test_old_results_rejected_with_live(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _write(tmp_path / "old.json", None)
    live = _write(tmp_path / "live.json", LIVE_60)

    code, _, error = _markdown(capsys, old, live)

    assert code == 2
    assert f"{old} (virtual)" in error


@pytest.mark.parametrize(
    ("clock", "shown"),
    [
        ("text", "clock is 'text'"),
        ({"mode": "wall"}, "clock.mode is 'wall'"),
        ({"mode": "live"}, "clock.speedup of a live case is None"),
        ({"mode": "live", "speedup": 0}, "clock.speedup of a live case is 0"),
    ],
)
def test_malformed_clock_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], clock: object, shown: str
) -> None:
    infos = all_cases(("realtime",))
    infos[1]["clock"] = clock
    results = write_results(tmp_path / "results.json", infos)

    code, _, error = _markdown(capsys, results)

    assert code == 2
    assert error.count("\n") == 1
    assert "case realtime/webhook-sync: " in error
    assert shown in error


def test_live_markdown_marked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = _write(tmp_path / "live.json", LIVE_60)

    code, out, _ = _markdown(capsys, live)

    assert code == 0
    heading, _, provenance, *rest = out.splitlines()
    assert heading.endswith("live 60x clock")
    assert "live 60x clock" in provenance
    caveat = (
        "Live clock at 60x: figures include the machine's processing time stretched "
        "60 times; see docs/live.md."
    )
    assert f"> **{caveat}**" in rest
    first_answer = next(n for n, line in enumerate(rest) if line.startswith("**"))
    assert rest.index(f"> **{caveat}**") < first_answer


def test_virtual_markdown_unmarked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    virtual = _write(tmp_path / "virt.json", VIRTUAL)

    code, out, _ = _markdown(capsys, virtual)

    assert code == 0
    assert "live clock" not in out.lower()
    assert "virtual clock" in out.splitlines()[0]


def test_live_html_marked(tmp_path: Path) -> None:
    live = _write(tmp_path / "live.json", live_clock(600))
    output = tmp_path / "report.html"

    assert main(["report", str(live), "-o", str(output)]) == 0

    text = output.read_text(encoding="utf-8")
    caveat = (
        "Live clock at 600x: figures include the machine&#x27;s processing time "
        "stretched 600 times; see docs/live.md."
    )
    summary = text.index("<h2>Summary</h2>")
    assert text.index(f'<p class="clock" id="clock">{caveat}</p>') == summary + len(
        "<h2>Summary</h2>"
    )
    provenance = text[text.index('<section id="provenance">') :]
    assert "<th>clock</th>" in provenance
    assert "<td>live 600x</td>" in provenance
    assert "Clock: live clock at 600x" in provenance


def test_virtual_html_unmarked(tmp_path: Path) -> None:
    virtual = _write(tmp_path / "virt.json", VIRTUAL)
    output = tmp_path / "report.html"

    assert main(["report", str(virtual), "-o", str(output)]) == 0

    text = output.read_text(encoding="utf-8")
    assert 'class="clock"' not in text
    assert "<td>virtual</td>" in text


def _polling_calls(markdown: str) -> str:
    row = next(
        line for line in markdown.splitlines() if line.startswith("| direct-polling |")
    )
    return row.split(" | ")[1]


@pytest.mark.parametrize("reverse", [False, True])
def test_duplicate_case_last_file_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reverse: bool
) -> None:
    first = _write(tmp_path / "first.json", VIRTUAL, polling_calls=111)
    second = _write(tmp_path / "second.json", VIRTUAL, polling_calls=222)
    files = [second, first] if reverse else [first, second]
    used, dropped = files[-1], files[0]
    used_calls = 111 if used == first else 222

    code, out, error = _markdown(capsys, *files)

    assert code == 0
    assert _polling_calls(out) == str(used_calls)
    warnings = error.splitlines()
    assert len(warnings) == len(PROFILE)
    polling = next(w for w in warnings if "realtime/direct-polling" in w)
    assert polling == (
        f"syncbench report: warning: realtime/direct-polling at scale smoke is in "
        f"{dropped} and {used}; the report uses the last one given, from {used}"
    )


def test_duplicate_noted_in_provenance(tmp_path: Path) -> None:
    first = _write(tmp_path / "first.json", VIRTUAL)
    second = _write(tmp_path / "second.json", VIRTUAL)
    output = tmp_path / "report.html"

    assert main(["report", str(first), str(second), "-o", str(output)]) == 0

    provenance = output.read_text(encoding="utf-8").split('<section id="provenance">')[
        1
    ]
    assert (
        f"Note: realtime/webhook-sync at scale smoke appears more than once; the "
        f"report uses the last one given, in {second}." in provenance
    )


def test_distinct_cases_no_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    realtime = _write(tmp_path / "realtime.json", VIRTUAL)
    outage = write_results(tmp_path / "outage.json", all_cases(("outage",)))

    code, _, error = _markdown(capsys, realtime, outage)

    assert code == 0
    assert error == ""


@pytest.fixture
def live_storage(tmp_path: Path) -> Path:
    """Four live runs in date order: 60x, 120x, 60x, 120x, with distinct polling calls."""
    folder = tmp_path / ".benchmarks" / "smoke-live" / "Linux-CPython-3.11-64bit"
    folder.mkdir(parents=True)
    runs = [(60, 101), (120, 202), (60, 103), (120, 204)]
    for number, (speedup, calls) in enumerate(runs):
        infos = on_clock(all_cases(("realtime",)), live_clock(speedup))
        for info in infos:
            if info["solution"] == "direct-polling":
                info["api_calls"]["total"] = calls
        write_results(
            folder / f"000{number}_run.json",
            infos,
            saved=f"2026-01-0{number + 1}T00:00:00+00:00",
        )
    return folder.parent


def test_trend_splits_speedups_markdown(
    live_storage: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--trend", str(live_storage), "--format", "markdown"]) == 0

    rows = {
        tuple(line.split(" | ")[:2]): line.split(" | ")
        for line in capsys.readouterr().out.splitlines()
        if "direct-polling" in line
    }
    slow = rows[("| realtime (live 60x)", "direct-polling")]
    fast = rows[("| realtime (live 120x)", "direct-polling")]
    assert len(rows) == 2
    assert slow[2] == "2 (#0 to #2)"
    assert slow[3] == "101 -> 103"
    assert fast[2] == "2 (#1 to #3)"
    assert fast[3] == "202 -> 204"


def test_trend_splits_speedups_html(live_storage: Path, tmp_path: Path) -> None:
    output = tmp_path / "trend.html"

    assert main(["report", "--trend", str(live_storage), "-o", str(output)]) == 0

    text = output.read_text(encoding="utf-8")
    charts = dict(
        re.findall(
            r'<svg class="plot" id="(trend-[^"]+)"[^>]*data-series="(\d+)"', text
        )
    )
    assert charts["trend-smoke-live-60x-realtime-api_calls-total"] == str(len(PROFILE))
    assert charts["trend-smoke-live-120x-realtime-api_calls-total"] == str(len(PROFILE))
    assert "trend-smoke-realtime-api_calls-total" not in charts
    assert "realtime (smoke, live 60x): HubSpot API calls" in text
    assert f"{len(PROFILE)} of 4 runs" not in text
    assert "(2 of 4 runs)" in text
