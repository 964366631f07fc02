"""Assembly of a report's sections from results files and a price file."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_syncbench.report import breaking, failures, overview, plots, questions
from pytest_syncbench.report.codemetrics import CodeMetrics, measure_solutions
from pytest_syncbench.report.costs import (
    BASELINE,
    Cost,
    Return,
    price_case,
    return_on_investment,
)
from pytest_syncbench.report.dataset import Dataset, build_dataset
from pytest_syncbench.report.figures import Section
from pytest_syncbench.report.load import ResultsFile
from pytest_syncbench.report.prices import Prices


@dataclass
class Report:
    """Everything a report shows, in order; ``answers`` are the five questions."""

    dataset: Dataset
    answers: list[Section]
    extras: list[Section]
    costs: dict[str, Cost]
    metrics: dict[str, CodeMetrics]


def _costs(
    dataset: Dataset, metrics: dict[str, CodeMetrics], prices: Prices
) -> tuple[dict[str, Cost], dict[str, Return]]:
    scenario = prices.text("projection.scenario")
    costs = {}
    for name in dataset.solutions:
        case = dataset.case(scenario, name)
        if case is not None:
            costs[name] = price_case(case, metrics.get(name), prices)
    returns = {}
    baseline = costs.get(BASELINE)
    if baseline is not None:
        horizon = int(prices.number("projection.horizon_months"))
        for name, cost in costs.items():
            if name != BASELINE:
                returns[name] = return_on_investment(cost, baseline, horizon)
    return costs, returns


def build_report(files: list[ResultsFile], prices: Prices) -> Report:
    dataset = build_dataset(files)
    metrics = measure_solutions(dataset.solutions)
    costs, returns = _costs(dataset, metrics, prices)

    calls = questions.api_calls(dataset)
    calls.plots += plots.calls_plots(dataset)
    latency = questions.latency(dataset)
    latency.plots += plots.latency_plots(dataset)
    scale = questions.scale(dataset)
    scale.plots += plots.sweep_plots(dataset)
    scale.plots += breaking.degradation_plots(dataset)
    recovery = failures.failures(dataset)
    recovery.plots += plots.backlog_plots(dataset)
    cost = questions.cost(dataset, costs, returns, prices)

    tradeoffs = overview.tradeoffs(
        dataset, costs, metrics, prices.text("projection.scenario")
    )
    tradeoffs.plots += plots.resource_plots(dataset)
    return Report(
        dataset=dataset,
        answers=[calls, latency, scale, recovery, cost],
        extras=[overview.rankings(dataset), tradeoffs, overview.provenance(dataset)],
        costs=costs,
        metrics=metrics,
    )
