"""The price file, the cost formula and the code metrics behind the engineering hours."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from report_data import all_cases, write_results

from pytest_syncbench.cli import main
from pytest_syncbench.report.build import build_report
from pytest_syncbench.report.codemetrics import (
    CodeMetrics,
    measure_module,
    measure_source,
)
from pytest_syncbench.report.costs import price_case, return_on_investment
from pytest_syncbench.report.figures import plain
from pytest_syncbench.report.load import load_results
from pytest_syncbench.report.prices import PriceError, load_prices

SNIPPET = '''"""Module docstring."""
import os


def pick(values, limit):
    """Docstring."""
    out = []
    for value in values:
        if value > limit and value != 3:
            out.append(value)
        elif value < 0:
            continue
    return [v for v in out if v] or None
'''


def test_measure_source_counts_by_hand() -> None:
    lines, branches, functions = measure_source(SNIPPET)
    # import, def, out =, for, if, append, elif-if, continue, return
    assert lines == 9
    # for, if, elif, one "and", comprehension if, one "or"
    assert branches == 6
    assert functions == 1


def test_measure_module_follows_own_package() -> None:
    metrics = measure_module("solutions.hybrid_cdc")
    assert metrics is not None
    assert "solutions.hybrid_cdc" in metrics.modules
    assert "solutions.webhook_sync" in metrics.modules
    assert "solutions.common.state" in metrics.modules
    assert not any(m.startswith("pytest_syncbench") for m in metrics.modules)


def test_default_prices_cite_sources() -> None:
    prices = load_prices()
    assert prices.items
    for key, price in prices.items.items():
        assert price.source.strip(), key
        assert price.source != "default", key


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("[compute]\nvcpu_hour = 1\n", "compute.vcpu_hour", "unknown key"),
        (
            "[compute]\nvcpu_hour_usd = 'cheap'\n",
            "compute.vcpu_hour_usd",
            "a finite number >= 0",
        ),
        (
            "[compute]\nvcpu_hour_usd = -1\n",
            "compute.vcpu_hour_usd",
            "a finite number >= 0",
        ),
        (
            "[compute]\nvcpu_hour_usd = inf\n",
            "compute.vcpu_hour_usd",
            "a finite number >= 0, got inf",
        ),
        (
            "[compute]\nvcpu_hour_usd = nan\n",
            "compute.vcpu_hour_usd",
            "a finite number >= 0, got nan",
        ),
        (
            "[engineering]\nlogical_lines_per_hour = 0\n",
            "engineering.logical_lines_per_hour",
            "a finite number > 0, got 0",
        ),
        (
            "[projection]\nhours_per_month = 0.0\n",
            "projection.hours_per_month",
            "a finite number > 0",
        ),
        (
            "[projection]\nhorizon_months = 0\n",
            "projection.horizon_months",
            "an integer >= 1, got 0",
        ),
        (
            "[projection]\nhorizon_months = 1.5\n",
            "projection.horizon_months",
            "an integer >= 1",
        ),
        (
            "[projection]\nscenario = 'nope'\n",
            "projection.scenario",
            "one of the scenario names bulk, realtime",
        ),
        (
            "[hubspot]\nlimit_increase_requests_per_day = 0\n",
            "hubspot.limit_increase_requests_per_day",
            "an integer >= 1",
        ),
        ("[gpu]\nprice = 1\n", "[gpu]", "unknown section"),
        ("[solutions.x]\ncolour = 1\n", "solutions.x.colour", "unknown key"),
        ("[solutions.x]\nredis = 1.5\n", "solutions.x.redis", "an integer >= 0"),
        (
            "[redis]\nnode_hour_usd = { cost = 1 }\n",
            "redis.node_hour_usd",
            "value = ...",
        ),
    ],
)
def test_bad_price_file_names_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    key: str,
    message: str,
) -> None:
    prices = _write(tmp_path, text)
    results = write_results(tmp_path / "results.json", all_cases(("realtime",)))
    code = main(
        [
            "report",
            str(results),
            "--prices",
            str(prices),
            "-o",
            str(tmp_path / "r.html"),
        ]
    )
    assert code == 2
    error = capsys.readouterr().err
    assert str(prices) in error
    assert key in error
    assert message in error


def test_price_file_not_toml(tmp_path: Path) -> None:
    prices = _write(tmp_path, "[compute\n")
    with pytest.raises(PriceError, match="not valid TOML") as caught:
        load_prices(prices)
    assert str(prices) in str(caught.value)


def test_price_file_missing(tmp_path: Path) -> None:
    with pytest.raises(PriceError, match="price file not found"):
        load_prices(tmp_path / "absent.toml")


def test_override_keeps_other_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, "[engineering]\nhourly_rate_usd = 100\n")
    defaults, changed = load_prices(), load_prices(path)
    assert changed.number("engineering.hourly_rate_usd") == 100
    assert changed.items["engineering.hourly_rate_usd"].source == "set in prices.toml"
    assert changed.number("compute.vcpu_hour_usd") == defaults.number(
        "compute.vcpu_hour_usd"
    )


def test_cost_formula_by_hand(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results.json", all_cases(("realtime",)))
    case = next(
        c for c in load_results([results])[0].cases if c.solution == "hybrid-cdc"
    )
    prices = load_prices()
    metrics = CodeMetrics(("m",), logical_lines=1000, branches=100, functions=10)
    cost = price_case(case, metrics, prices)

    hours = prices.number("projection.hours_per_month")
    vcpu = max(
        prices.number("compute.min_vcpu"), case.info["cpu_s"] / case.info["simulated_s"]
    )
    compute = (
        vcpu * prices.number("compute.vcpu_hour_usd")
        + prices.number("compute.memory_gb") * prices.number("compute.gb_hour_usd")
    ) * hours
    redis = prices.number("redis.node_hour_usd") * hours
    build_hours = (
        1000 + prices.number("engineering.branch_weight") * 100
    ) / prices.number("engineering.logical_lines_per_hour")
    rate = prices.number("engineering.hourly_rate_usd")
    maintenance = (
        build_hours * prices.number("engineering.maintenance_share_per_year") / 12
    )
    run = compute + redis + maintenance * rate
    tco = build_hours * rate + prices.number("projection.horizon_months") * run
    assert cost.compute_usd.value == pytest.approx(compute, abs=0.01)
    assert cost.redis_usd.value == pytest.approx(redis, abs=0.01)
    assert cost.build_hours.value == pytest.approx(build_hours, abs=0.05)
    assert cost.tco_usd.value == pytest.approx(tco, abs=0.01)
    assert cost.limit_increases.value == 0


def test_limit_increases_when_over_quota(tmp_path: Path) -> None:
    infos = all_cases(("realtime",))
    polling = next(i for i in infos if i["solution"] == "direct-polling")
    # 10,000 calls a minute is 14.4 million a day, far above the 625,000 daily limit.
    polling["timeseries"]["api_calls"] = [
        10_000 * k for k in range(len(polling["timeseries"]["t_s"]))
    ]
    results = write_results(tmp_path / "results.json", infos)
    case = next(
        c for c in load_results([results])[0].cases if c.solution == "direct-polling"
    )
    prices = load_prices()
    cost = price_case(case, None, prices)
    limit = polling["api_calls"]["total"] / polling["api_calls"]["daily_quota_share"]
    expected = math.ceil(
        (cost.daily_calls.value - limit)
        / prices.number("hubspot.limit_increase_requests_per_day")
    )
    assert cost.limit_increases.value == expected
    assert cost.exceeds_max_increases == (
        expected > prices.number("hubspot.max_limit_increases")
    )


def test_roi_against_baseline(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results.json", all_cases(("realtime",)))
    cases = {c.solution: c for c in load_results([results])[0].cases}
    prices = load_prices()
    small = CodeMetrics(("a",), 100, 10, 5)
    large = CodeMetrics(("b",), 400, 40, 20)
    base = price_case(cases["direct-polling"], small, prices)
    other = price_case(cases["hybrid-cdc"], large, prices)
    back = return_on_investment(other, base, 12)
    extra = other.build_usd.value - base.build_usd.value
    saving = base.run_usd.value - other.run_usd.value
    assert back.roi_pct.value == pytest.approx(
        100 * (12 * saving - extra) / extra, abs=0.1
    )


def test_unnamed_solution_assumed(tmp_path: Path) -> None:
    infos = all_cases(("realtime",))
    for info in infos:
        if info["solution"] == "hybrid-cdc":
            info["solution"] = "my-sync"
    results = write_results(tmp_path / "results.json", infos)
    report = build_report(load_results([results]), load_prices())
    cost = report.answers[4]
    notes = [plain(p) for p in cost.paragraphs]
    assert any("no [solutions.NAME] table for my-sync" in note for note in notes)
    assert "my-sync" in report.costs


def test_unmeasured_solution_not_ranked(tmp_path: Path) -> None:
    infos = all_cases(("realtime",))
    for info in infos:
        if info["solution"] == "hybrid-cdc":
            info["solution"] = "my-sync"
            # Cheapest to run, so a build cost of 0 would rank it first.
            info["cpu_s"] = 0.0
            info["api_calls"]["total"] = 1
    results = write_results(tmp_path / "results.json", infos)
    report = build_report(load_results([results]), load_prices())
    cost = report.costs["my-sync"]
    assert cost.measured is False
    assert cost.build_hours.value is None
    assert cost.tco_usd.value is None
    assert cost.build_hours.text == "n/a"
    section = report.answers[4]
    verdict = plain(section.verdict)
    assert "costs least" in verdict
    assert "my-sync costs least" not in verdict
    assert "Left out of this ranking because their code was not measured: my-sync" in (
        verdict
    )
    notes = [plain(p) for p in section.paragraphs]
    assert any(note.startswith("Not measured: my-sync.") for note in notes)
    tradeoffs = [plain(p) for p in report.extras[1].paragraphs]
    assert any("Code not measured" in note and "my-sync" in note for note in tradeoffs)
    assert "my-sync" not in report.metrics
