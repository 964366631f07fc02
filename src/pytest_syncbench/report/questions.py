"""The five questions every run answers, each with its figures and a computed verdict."""

from __future__ import annotations

from pytest_syncbench.report.breaking import breaking_table, breaking_verdict
from pytest_syncbench.report.costs import BASELINE, FORMULA, Cost, Return
from pytest_syncbench.report.dataset import (
    SWEEP_SCENARIO,
    Dataset,
    num,
    rank_key,
    ratio,
    reduction,
)
from pytest_syncbench.report.figures import Num, Piece, Section, Table
from pytest_syncbench.report.load import Case
from pytest_syncbench.report.prices import Prices
from pytest_syncbench.report.timeline import stream_calls

WEBHOOK = "webhook-sync"
CLAIM_PCT = 90.0
HEADLINE_SCENARIO = "realtime"


def _missing(dataset: Dataset, scenario: str, requirement: str) -> list[Piece]:
    present = ", ".join(dataset.scenarios) or "none"
    return [
        f"Not answered: the input has no {scenario} scenario with {requirement} "
        f"(scenarios present: {present})."
    ]


# 1. API calls


def api_calls(dataset: Dataset) -> Section:
    section = Section(
        "api-calls",
        "1. Is webhook-sync really ~90% more efficient in API calls than polling?",
    )
    others = [s for s in dataset.solutions if s != BASELINE]
    headers = ["scenario", f"{BASELINE} calls"]
    for name in others:
        headers += [f"{name} calls", f"{name} fewer"]
    overall = Table(
        headers, caption="HubSpot API calls per case, retries and 429s included"
    )
    stream = Table(
        list(headers),
        caption="calls during the update stream only (the initial full sync excluded)",
    )
    for scenario in dataset.scenarios:
        base = dataset.case(scenario, BASELINE)
        if base is None:
            continue
        base_calls = num(base, "api_calls.total")
        base_stream = stream_calls(base)
        row: list[Piece] = [scenario, base_calls]
        stream_row: list[Piece] = [scenario, base_stream or "n/a"]
        for name in others:
            case = dataset.case(scenario, name)
            if case is None:
                row += ["n/a", "n/a"]
                stream_row += ["n/a", "n/a"]
                continue
            calls = num(case, "api_calls.total")
            row += [calls, reduction(calls, base_calls)]
            case_stream = stream_calls(case)
            if case_stream is not None and base_stream is not None:
                stream_row += [case_stream, reduction(case_stream, base_stream)]
            else:
                stream_row += ["n/a", "n/a"]
        overall.rows.append(row)
        if base_stream is not None:
            stream.rows.append(stream_row)
    section.tables.append(overall)
    if stream.rows:
        section.tables.append(stream)
    section.verdict = _api_verdict(dataset)
    return section


def _api_verdict(dataset: Dataset) -> list[Piece]:
    base = dataset.case(HEADLINE_SCENARIO, BASELINE)
    hook = dataset.case(HEADLINE_SCENARIO, WEBHOOK)
    if base is None or hook is None:
        return _missing(dataset, HEADLINE_SCENARIO, f"both {BASELINE} and {WEBHOOK}")
    base_calls, hook_calls = num(base, "api_calls.total"), num(hook, "api_calls.total")
    cut = reduction(hook_calls, base_calls)
    pieces: list[Piece] = [
        f"{WEBHOOK} made ",
        cut,
        f" fewer HubSpot API calls than {BASELINE} in the "
        f"{HEADLINE_SCENARIO} scenario (",
        hook_calls,
        " vs ",
        base_calls,
        ", ",
        ratio(base_calls, hook_calls),
        " fewer)",
    ]

    judged = cut
    base_stream, hook_stream = stream_calls(base), stream_calls(hook)
    if base_stream is not None and hook_stream is not None:
        judged = reduction(hook_stream, base_stream)
        pieces += [
            " and ",
            judged,
            " fewer during the update stream alone (",
            hook_stream,
            " vs ",
            base_stream,
            ")",
        ]

    if judged.value is None:
        return [*pieces, ". No reduction can be computed from a baseline of 0 calls."]
    word = "holds" if judged.value >= CLAIM_PCT else "does not hold"
    return [*pieces, f". The ~{CLAIM_PCT:.0f}% claim {word} in this run."]


# 2. Latency


def latency(dataset: Dataset) -> Section:
    section = Section(
        "latency", "2. What is the real change-to-destination latency of each approach?"
    )
    table = Table(
        ["scenario", "solution", "p50 s", "p95 s", "p99 s", "max s", "delivered"],
        caption="simulated seconds from a change in HubSpot to its visibility in Databox",
    )
    for scenario in dataset.scenarios:
        for name in dataset.solutions:
            case = dataset.case(scenario, name)
            if case is None:
                continue
            table.rows.append(
                [
                    scenario,
                    name,
                    num(case, "latency_s.p50"),
                    num(case, "latency_s.p95"),
                    num(case, "latency_s.p99"),
                    num(case, "latency_s.max"),
                    num(case, "latency_s.count"),
                ]
            )
    section.tables.append(table)
    section.verdict = _latency_verdict(dataset)
    return section


def _latency_verdict(dataset: Dataset) -> list[Piece]:
    cases = [
        c
        for n in dataset.solutions
        if (c := dataset.case(HEADLINE_SCENARIO, n)) is not None
        and c.info["latency_s"].get("p95") is not None
    ]
    if len(cases) < 2:
        return _missing(
            dataset, HEADLINE_SCENARIO, "two solutions that delivered changes"
        )
    cases.sort(key=lambda c: c.info["latency_s"]["p95"])
    best, worst = cases[0], cases[-1]
    best_p95, worst_p95 = (
        num(best, "latency_s.p95", "s"),
        num(worst, "latency_s.p95", "s"),
    )
    return [
        f"In {HEADLINE_SCENARIO}, {best.solution} is fastest (p50 ",
        num(best, "latency_s.p50", "s"),
        ", p95 ",
        best_p95,
        ", max ",
        num(best, "latency_s.max", "s"),
        f") and {worst.solution} slowest (p95 ",
        worst_p95,
        ", ",
        ratio(worst_p95, best_p95),
        " the fastest).",
    ]


# 3. Scale


def scale(dataset: Dataset) -> Section:
    section = Section(
        "scale", "3. Which approach handles scale best, and where does each one break?"
    )
    table = Table(
        [
            "solution",
            "companies",
            "status",
            "p95 s",
            "data loss",
            "429s",
            "calls",
            "daily quota share",
        ],
        caption=f"the {SWEEP_SCENARIO} scenario at scale {dataset.scale}",
    )

    cases = [c for n in dataset.solutions if (c := dataset.case(SWEEP_SCENARIO, n))]
    for case in cases:
        table.rows.append(
            [
                case.solution,
                num(case, "companies"),
                case.info.get("status", "?"),
                num(case, "latency_s.p95"),
                num(case, "data_loss"),
                num(case, "api_calls.rate_limited"),
                num(case, "api_calls.total"),
                _quota_pct(case),
            ]
        )
    if cases:
        section.tables.append(table)

    if dataset.breaking:
        return _scale_from_sweep(dataset, section, cases)

    sweep = _sweep_table(dataset)
    if sweep is not None:
        section.tables.append(sweep)
        section.paragraphs.append(_break_points(dataset))
    else:
        section.paragraphs.append(
            [
                "No scale sweep in the input: every scale case has the same company count, "
                "so where each solution breaks cannot be located. Run the scale scenario at "
                "several sizes (--syncbench-scale=smoke, default, full) and pass every JSON "
                "file to the report."
            ]
        )

    if not cases:
        section.verdict = _missing(dataset, SWEEP_SCENARIO, "any solution")
        return section

    cases.sort(key=rank_key)
    best = cases[0]
    section.verdict = [
        f"In {SWEEP_SCENARIO} (",
        num(best, "companies"),
        f" companies), {best.solution} ranks first (status ",
        str(best.info.get("status")),
        ", data loss ",
        num(best, "data_loss"),
        ", p95 ",
        num(best, "latency_s.p95", "s"),
        "). ",
    ]

    broken = [c.solution for c in cases if rank_key(c)[0] or rank_key(c)[1]]
    if broken:
        section.verdict.append(
            f"Failed, missed the deadline or lost data: {', '.join(broken)}."
        )
    else:
        section.verdict.append("Every solution kept up at this size.")
    if sweep is not None:
        section.verdict += [" ", *_break_points(dataset)]
    return section


def _scale_from_sweep(dataset: Dataset, section: Section, cases: list[Case]) -> Section:
    """Answer question 3 from the scale-sweep records, with the scale cases as context."""
    section.tables.append(breaking_table(dataset))
    section.paragraphs.append(
        [
            "Breaking points and curves come from the scale-sweep records "
            "(breaking_point and sweep, see docs/scale.md): each point is one load "
            "tried, and a solution breaks at the first load it did not keep up with."
        ]
    )
    section.verdict = breaking_verdict(dataset)
    if cases:
        best = sorted(cases, key=rank_key)[0]
        section.verdict += [
            f" In the {SWEEP_SCENARIO} scenario (",
            num(best, "companies"),
            f" companies), {best.solution} ranks first.",
        ]
    return section


def _quota_pct(case: Case) -> Num:
    share = num(case, "api_calls.daily_quota_share")
    if share.value is None:
        return share
    return Num(share.value * 100, share.sources, "percent", "%")


def _sweep_table(dataset: Dataset) -> Table | None:
    sizes = {c.info.get("companies") for c in dataset.sweep}
    if len(sizes) < 2:
        return None
    table = Table(
        ["solution", "companies", "scale", "status", "p95 s", "data loss", "calls"],
        caption="the scale sweep: the scale scenario at every size in the input",
    )
    for case in dataset.sweep:
        table.rows.append(
            [
                case.solution,
                num(case, "companies"),
                case.scale,
                case.info.get("status", "?"),
                num(case, "latency_s.p95"),
                num(case, "data_loss"),
                num(case, "api_calls.total"),
            ]
        )
    return table


def _break_points(dataset: Dataset) -> list[Piece]:
    pieces: list[Piece] = ["Break points in the sweep: "]
    parts: list[list[Piece]] = []
    for name in dataset.solutions:
        runs = [c for c in dataset.sweep if c.solution == name]
        if not runs:
            continue
        broken = [c for c in runs if rank_key(c)[0] or rank_key(c)[1]]
        if broken:
            parts.append(
                [
                    f"{name} first lost data or missed the deadline at ",
                    num(broken[0], "companies"),
                    " companies",
                ]
            )
        else:
            parts.append(
                [f"{name} kept up to ", num(runs[-1], "companies"), " companies"]
            )
    for index, part in enumerate(parts):
        pieces += part
        pieces.append("; " if index < len(parts) - 1 else ".")
    return pieces


# 5. Cost


def cost(
    dataset: Dataset, costs: dict[str, Cost], returns: dict[str, Return], prices: Prices
) -> Section:
    horizon = int(prices.number("projection.horizon_months"))
    scenario = prices.text("projection.scenario")
    section = Section(
        "cost", "5. What is the total cost of ownership of each approach?"
    )
    table = Table(
        [
            "solution",
            "calls/day",
            "limit increases",
            "API $/mo",
            "vCPU",
            "compute $/mo",
            "Redis $/mo",
            "fee $/mo",
            "build h",
            "maint. h/mo",
            "run $/mo",
            "build $",
            f"TCO {horizon} mo",
            "ROI vs " + BASELINE,
            "payback months",
        ],
        caption=f"the {scenario} scenario's load projected to a month; prices from "
        f"{prices.origin}",
    )

    for name, item in costs.items():
        back = returns.get(name)
        table.rows.append(
            [
                name,
                item.daily_calls,
                item.limit_increases,
                item.api_usd,
                item.vcpu,
                item.compute_usd,
                item.redis_usd,
                item.fee_usd,
                item.build_hours,
                item.maintenance_hours,
                item.run_usd,
                item.build_usd,
                item.tco_usd,
                back.roi_pct if back else "baseline",
                back.payback_months if back else "",
            ]
        )
    section.tables.append(table)

    section.paragraphs.append(["Formula: " + "; ".join(FORMULA) + "."])
    unmeasured = [n for n, c in costs.items() if not c.measured]
    if unmeasured:
        section.paragraphs.append(
            [
                f"Not measured: {', '.join(unmeasured)}. The report measures a "
                "solution's code only when it is importable as solutions.* or "
                "registered through the pytest_syncbench.solutions entry points, so "
                "build hours, maintenance, run $/mo, build $, TCO and ROI of these "
                "show n/a. Their API, compute, Redis and fee costs are still priced."
            ]
        )
    unnamed = [n for n in costs if f"solutions.{n}.instances" not in prices.items]
    if unnamed:
        section.paragraphs.append(
            [
                f"The price file has no [solutions.NAME] table for {', '.join(unnamed)}, "
                "so one self-built container without Redis is assumed."
            ]
        )
    unfinished = [
        name
        for name in costs
        if (case := dataset.case(scenario, name)) is not None
        and case.info.get("status") != "converged"
    ]
    if unfinished:
        section.paragraphs.append(
            [
                f"Priced from cases of {scenario} that did not converge, so the "
                f"projected load of these may be wrong: {', '.join(unfinished)}."
            ]
        )

    prices_table = Table(
        ["price", "value", "source"], caption="prices and settings used"
    )
    for key, price in sorted(prices.items.items()):
        prices_table.rows.append([key, str(price.value), price.source])
    section.tables.append(prices_table)

    if not costs:
        section.verdict = _missing(dataset, scenario, "any solution to price")
        return section

    unmeasured = [c.solution for c in costs.values() if not c.measured]
    ordered = sorted(
        (c for c in costs.values() if c.tco_usd.value is not None),
        key=lambda c: c.tco_usd.value or 0,
    )
    if not ordered:
        section.verdict = [
            "Not answered: no solution's code could be measured, so no TCO is known "
            f"(not measured: {', '.join(unmeasured)})."
        ]
        return section
    cheapest, dearest = ordered[0], ordered[-1]
    section.verdict = [
        f"Over {horizon} months {cheapest.solution} costs least (",
        cheapest.tco_usd,
        f") and {dearest.solution} most (",
        dearest.tco_usd,
        ").",
    ]
    built = [c for c in ordered if prices.solution(c.solution, "self_built").value]
    if not prices.solution(cheapest.solution, "self_built").value and built:
        section.verdict += [
            f" {cheapest.solution} is not self-built, so it has no build or maintenance "
            f"cost; of the self-built solutions {built[0].solution} costs least (",
            built[0].tco_usd,
            ").",
        ]
    if unmeasured:
        section.verdict.append(
            f" Left out of this ranking because their code was not measured: "
            f"{', '.join(unmeasured)}."
        )

    over = [c.solution for c in costs.values() if c.exceeds_max_increases]
    if over:
        section.verdict.append(
            f" {', '.join(over)} would need more API limit increases than HubSpot sells."
        )
    return section
