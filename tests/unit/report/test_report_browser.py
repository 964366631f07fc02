"""The HTML report in headless Chromium: no errors, no requests, every plot drawn.

Chromium is the system binary (Debian's ``chromium`` package), driven with Playwright's
Python package; Playwright's own browser download is never used. Without either the test
skips, unless the environment variable CI is set, where a missing browser fails it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from report_data import all_cases, write_results

from pytest_syncbench.cli import main

CHROMIUM_NAMES = ("chromium", "chromium-browser")


def _browser_or_skip() -> tuple[Any, str]:
    binary = next((p for n in CHROMIUM_NAMES if (p := shutil.which(n))), None)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    missing = []
    if binary is None:
        missing.append("no chromium binary on PATH (apt-get install chromium)")
    if sync_playwright is None:
        missing.append(
            "the playwright package is not installed (pip install playwright)"
        )
    if missing:
        reason = "; ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but the browser test cannot run: {reason}")
        pytest.skip(reason)
    assert binary is not None
    return sync_playwright, binary


@pytest.fixture(scope="module")
def report_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    results = write_results(folder / "results.json", all_cases())
    output = folder / "report.html"
    assert main(["report", str(results), "-o", str(output)]) == 0
    return output


@pytest.fixture(scope="module")
def page_state(report_path: Path) -> dict[str, Any]:
    sync_playwright, binary = _browser_or_skip()
    messages: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=binary, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on(
            "console",
            lambda m: (
                messages.append(f"{m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda error: messages.append(f"page error: {error}"))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(report_path.as_uri())
        state = page.evaluate(
            """() => ({
            plots: Array.from(document.querySelectorAll('svg.plot')).map(svg => {
                const box = svg.getBoundingClientRect();
                return {
                    id: svg.id,
                    kind: svg.dataset.kind,
                    series: Number(svg.dataset.series),
                    width: box.width,
                    height: box.height,
                    lines: svg.querySelectorAll('polyline.series').length,
                    drawnLines: Array.from(svg.querySelectorAll('polyline.series'))
                        .filter(p => p.getBBox().width > 0).length,
                    boxes: svg.querySelectorAll('g.box').length,
                    bars: svg.querySelectorAll('rect.bar').length,
                };
            }),
            answers: Array.from(document.querySelectorAll('section.answer')).map(s => ({
                question: s.dataset.question,
                title: s.querySelector('h2').textContent,
                numbers: Array.from(s.querySelectorAll('.verdict .num'))
                    .map(n => n.dataset.value),
            })),
        })"""
        )
        browser.close()
    state["messages"] = messages
    state["requests"] = requests
    return state


def test_no_console_errors(page_state: dict[str, Any]) -> None:
    assert page_state["messages"] == []


def test_only_local_file_requested(
    page_state: dict[str, Any], report_path: Path
) -> None:
    outside = [
        url
        for url in page_state["requests"]
        if not url.startswith(("file://", "data:"))
    ]
    assert outside == []
    assert report_path.as_uri() in page_state["requests"]


def test_every_plot_rendered(page_state: dict[str, Any]) -> None:
    plots = page_state["plots"]
    kinds = {plot["kind"] for plot in plots}
    assert kinds == {"line", "box", "bar"}
    for plot in plots:
        assert plot["width"] > 0, plot["id"]
        assert plot["height"] > 0, plot["id"]
        assert plot["series"] > 0, plot["id"]
        if plot["kind"] == "line":
            assert plot["lines"] == plot["series"], plot["id"]
            assert plot["drawnLines"] >= 1, plot["id"]
        elif plot["kind"] == "box":
            assert plot["boxes"] == plot["series"], plot["id"]
        else:
            assert plot["bars"] >= plot["series"], plot["id"]


def test_expected_plots_present(page_state: dict[str, Any]) -> None:
    ids = {plot["id"] for plot in page_state["plots"]}
    assert "latency-realtime" in ids
    assert "calls-realtime" in ids
    assert "backlog-outage" in ids
    assert "backlog-burst" in ids
    assert "resources-cpu" in ids


def test_five_answers_with_numbers(page_state: dict[str, Any]) -> None:
    answers = page_state["answers"]
    assert [a["question"] for a in answers] == ["1", "2", "3", "4", "5"]
    for answer in answers:
        numbers = [float(v) for v in answer["numbers"] if v != ""]
        assert numbers, answer["title"]
