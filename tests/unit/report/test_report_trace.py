"""Every number in the HTML report names the JSON fields it came from, and they match."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from report_data import all_cases, write_results

from pytest_syncbench.cli import main

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def resolve(document: Any, path: str) -> Any:
    """Follow a path such as ``benchmarks[3].extra_info.syncbench.latency_s.p95``."""
    value = document
    for key, index in _PART.findall(path):
        value = value[int(index)] if index else value[key]
    return value


class NumberCollector(HTMLParser):
    """Collects the attributes and text of every ``span.num``."""

    def __init__(self) -> None:
        super().__init__()
        self.numbers: list[dict[str, str]] = []
        self._open: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "span" and values.get("class") == "num":
            self._open = {**values, "text": ""}

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._open is not None:
            self.numbers.append(self._open)
            self._open = None


@pytest.fixture(scope="module")
def report(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    folder = tmp_path_factory.mktemp("trace")
    results = write_results(folder / "results.json", all_cases())
    output = folder / "report.html"
    assert main(["report", str(results), "-o", str(output)]) == 0
    collector = NumberCollector()
    collector.feed(output.read_text(encoding="utf-8"))
    document = json.loads(results.read_text(encoding="utf-8"))
    return document, collector.numbers


def _inputs(document: dict[str, Any], number: dict[str, str]) -> list[float]:
    values = []
    for item in number["data-src"].split(";"):
        file, _, path = item.partition(":")
        assert file == "0", item
        values.append(resolve(document, path))
    return values


def _operands(inputs: list[float], ops: list[str]) -> list[float]:
    """Fold the sources of derived operands: ``value`` takes one, ``diff`` two."""
    values = []
    for op in ops:
        if op == "value":
            values.append(inputs.pop(0))
        elif op == "diff":
            values.append(inputs.pop(0) - inputs.pop(0))
        else:
            pytest.fail(f"unknown operand op {op!r}")
    assert inputs == []
    return values


def _displayed_number(text: str) -> float:
    cleaned = re.sub(r"[^0-9.eE+-]", "", text.replace(",", "").split(" ")[0])
    return float(cleaned)


def test_numbers_carry_sources(
    report: tuple[dict[str, Any], list[dict[str, str]]],
) -> None:
    _, numbers = report
    assert len(numbers) > 100
    sourced = [n for n in numbers if n["data-op"] != "model"]
    assert all(n["data-src"] for n in sourced)


def test_field_values_match_json(
    report: tuple[dict[str, Any], list[dict[str, str]]],
) -> None:
    document, numbers = report
    plain = [n for n in numbers if n["data-op"] == "value" and n["data-value"]]
    assert len(plain) > 50
    for number in plain:
        (expected,) = _inputs(document, number)
        assert float(number["data-value"]) == pytest.approx(expected), number


def test_derived_values_recomputed(
    report: tuple[dict[str, Any], list[dict[str, str]]],
) -> None:
    document, numbers = report
    checked = set()
    for number in numbers:
        op, shown = number["data-op"], number["data-value"]
        if not shown or op in ("value", "model"):
            continue
        inputs = _inputs(document, number)
        op, _, operands = op.partition(":")
        if operands:
            inputs = _operands(inputs, operands.split(","))
        if op == "reduction_pct":
            expected = 100 * (1 - inputs[0] / inputs[1])
        elif op == "ratio":
            expected = inputs[0] / inputs[1]
        elif op == "diff":
            expected = inputs[0] - inputs[1]
        elif op == "sum":
            expected = sum(inputs)
        elif op == "percent":
            expected = inputs[0] * 100
        elif op == "mib":
            expected = inputs[0] / (1024 * 1024)
        else:
            pytest.fail(f"unknown data-op {op!r}")
        assert float(shown) == pytest.approx(expected, abs=0.06), number
        checked.add(op)
    assert {"reduction_pct", "ratio", "diff", "sum"} <= checked


def test_shown_text_matches_value(
    report: tuple[dict[str, Any], list[dict[str, str]]],
) -> None:
    _, numbers = report
    for number in numbers:
        if not number["data-value"]:
            assert number["text"] == "n/a", number
            continue
        value, shown = float(number["data-value"]), _displayed_number(number["text"])
        tolerance = max(abs(value) * 0.006, 0.0006)
        assert math.isclose(shown, value, abs_tol=tolerance), number


def test_every_answer_traced(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results.json", all_cases())
    output = tmp_path / "report.html"
    assert main(["report", str(results), "-o", str(output)]) == 0
    text = output.read_text(encoding="utf-8")
    verdicts = re.findall(r'<p class="verdict[^"]*">(.*?)</p>', text)
    assert len(verdicts) == 5
    for verdict in verdicts:
        assert 'class="num"' in verdict
        assert "data-src=" in verdict


def test_data_value_full_precision(tmp_path: Path) -> None:
    infos = all_cases(("realtime",))
    for info in infos:
        if info["solution"] == "direct-polling":
            info["api_calls"]["total"] = 74
        if info["solution"] == "webhook-sync":
            info["api_calls"]["total"] = 29
    results = write_results(tmp_path / "results.json", infos)
    output = tmp_path / "report.html"
    assert main(["report", str(results), "-o", str(output)]) == 0
    collector = NumberCollector()
    collector.feed(output.read_text(encoding="utf-8"))
    reductions = [
        n
        for n in collector.numbers
        if n["data-op"] == "reduction_pct" and n["text"] == "60.8%"
    ]
    assert reductions
    for number in reductions:
        assert number["data-value"] == repr(100 * (1 - 29 / 74))
