"""Total cost of ownership and return on investment of each solution.

The measured load of one scenario (``projection.scenario`` in the price file) is
projected to a month of operation and priced. The code metrics give the engineering
effort. ``FORMULA`` states every step, and the report prints it next to the figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pytest_syncbench.report.codemetrics import CodeMetrics
from pytest_syncbench.report.figures import Num, source
from pytest_syncbench.report.load import Case
from pytest_syncbench.report.prices import Prices
from pytest_syncbench.report.timeline import stream_calls, stream_span_s

BASELINE = "direct-polling"
SECONDS_PER_DAY = 86_400
FORMULA = (
    "daily calls = HubSpot calls per simulated second during the update stream x 86,400",
    "limit increases = ceil(max(0, daily calls - daily limit) / requests per increase)",
    "API $/month = limit increases x price per increase",
    "vCPU = max(minimum vCPU, solution CPU seconds / simulated seconds)",
    "compute $/month = instances x (vCPU x $/vCPU-hour + memory GB x $/GB-hour) "
    "x hours per month",
    "Redis $/month = Redis nodes x $/node-hour x hours per month",
    "build hours = (logical lines + branch weight x branches) / lines per hour "
    "(0 when not self-built)",
    "maintenance hours/month = build hours x maintenance share per year / 12",
    "run $/month = API + compute + Redis + vendor fee + maintenance hours x hourly rate",
    "TCO = build hours x hourly rate + horizon months x run $/month",
    "ROI vs direct-polling = (horizon x (baseline run $/month - run $/month) - "
    "(build $ - baseline build $)) / (build $ - baseline build $)",
)


@dataclass(frozen=True)
class Cost:
    """The priced projection of one solution."""

    solution: str
    daily_calls: Num
    limit_increases: Num
    api_usd: Num
    vcpu: Num
    compute_usd: Num
    redis_usd: Num
    fee_usd: Num
    build_hours: Num
    maintenance_hours: Num
    run_usd: Num
    build_usd: Num
    tco_usd: Num
    exceeds_max_increases: bool
    # False for a self-built solution whose code the report could not find, so its
    # engineering terms (and every total that includes them) are None.
    measured: bool = True


def _calls_per_day(case: Case) -> Num:
    calls = stream_calls(case)
    span = stream_span_s(case)
    if calls is not None and span:
        assert calls.value is not None
        return Num(round(calls.value / span * SECONDS_PER_DAY), calls.sources, "model")
    total = case.info["api_calls"]["total"]
    simulated = max(float(case.info.get("simulated_s") or 0.0), 1.0)
    sources = (
        source(case.file, case.path("api_calls.total")),
        source(case.file, case.path("simulated_s")),
    )
    return Num(round(total / simulated * SECONDS_PER_DAY), sources, "model")


def _daily_limit(case: Case) -> float | None:
    share = case.info["api_calls"].get("daily_quota_share")
    total = case.info["api_calls"]["total"]
    if not share or not total:
        return None
    return round(total / share)


def price_case(case: Case, metrics: CodeMetrics | None, prices: Prices) -> Cost:
    """Price one solution from its case in the projection scenario."""
    name = case.solution
    hours = prices.number("projection.hours_per_month")
    daily = _calls_per_day(case)
    limit = _daily_limit(case)
    per_increase = prices.number("hubspot.limit_increase_requests_per_day")
    increases = 0
    if limit is not None and daily.value is not None and per_increase > 0:
        increases = math.ceil(max(0.0, daily.value - limit) / per_increase)
    exceeds = increases > prices.number("hubspot.max_limit_increases")
    api = increases * prices.number("hubspot.limit_increase_usd_per_month")

    cpu_sources = (
        source(case.file, case.path("cpu_s")),
        source(case.file, case.path("simulated_s")),
    )
    simulated = max(float(case.info.get("simulated_s") or 0.0), 1.0)
    vcpu = max(prices.number("compute.min_vcpu"), float(case.info["cpu_s"]) / simulated)
    instances = int(prices.solution(name, "instances").value)
    compute = (
        instances
        * (
            vcpu * prices.number("compute.vcpu_hour_usd")
            + prices.number("compute.memory_gb") * prices.number("compute.gb_hour_usd")
        )
        * hours
    )
    redis = (
        int(prices.solution(name, "redis").value)
        * prices.number("redis.node_hour_usd")
        * hours
    )
    fee = float(prices.solution(name, "fee_usd_per_month").value)

    self_built = bool(prices.solution(name, "self_built").value)
    measured = metrics is not None or not self_built
    build_hours = 0.0
    if self_built and metrics is not None:
        size = metrics.logical_lines + prices.number("engineering.branch_weight") * (
            metrics.branches
        )
        build_hours = size / prices.number("engineering.logical_lines_per_hour")
    maintenance = (
        build_hours * prices.number("engineering.maintenance_share_per_year") / 12
    )
    rate = prices.number("engineering.hourly_rate_usd")
    run = api + compute + redis + fee + maintenance * rate
    build = build_hours * rate
    tco = build + prices.number("projection.horizon_months") * run
    all_sources = daily.sources + cpu_sources

    # A solution whose code was not measured has no build or maintenance estimate, so
    # neither it nor the figures that add them up are given.
    def known(value: float) -> float | None:
        return value if measured else None

    return Cost(
        solution=name,
        daily_calls=daily,
        limit_increases=Num(increases, daily.sources, "model"),
        api_usd=Num(api, daily.sources, "model", "$"),
        vcpu=Num(vcpu, cpu_sources, "model"),
        compute_usd=Num(compute, cpu_sources, "model", "$"),
        redis_usd=Num(redis, (), "model", "$"),
        fee_usd=Num(fee, (), "model", "$"),
        build_hours=Num(known(build_hours), (), "model", "h"),
        maintenance_hours=Num(known(maintenance), (), "model", "h"),
        run_usd=Num(known(run), all_sources, "model", "$"),
        build_usd=Num(known(build), (), "model", "$"),
        tco_usd=Num(known(tco), all_sources, "model", "$"),
        exceeds_max_increases=exceeds,
        measured=measured,
    )


@dataclass(frozen=True)
class Return:
    """A solution's return on investment against the baseline."""

    solution: str
    saving_usd_per_month: Num
    extra_build_usd: Num
    roi_pct: Num
    payback_months: Num


def return_on_investment(cost: Cost, baseline: Cost, horizon: int) -> Return:
    """Compare a solution's costs with the baseline's over ``horizon`` months."""
    sources = cost.run_usd.sources + baseline.run_usd.sources
    if not (cost.measured and baseline.measured):
        unknown = Num(None, sources, "model", "$")
        return Return(
            solution=cost.solution,
            saving_usd_per_month=unknown,
            extra_build_usd=unknown,
            roi_pct=Num(None, sources, "model", "%"),
            payback_months=Num(None, sources, "model", "months"),
        )
    assert cost.run_usd.value is not None and baseline.run_usd.value is not None
    assert cost.build_usd.value is not None and baseline.build_usd.value is not None
    saving = baseline.run_usd.value - cost.run_usd.value
    extra = cost.build_usd.value - baseline.build_usd.value
    roi: float | None = None
    payback: float | None = None
    if extra > 0:
        roi = 100 * (horizon * saving - extra) / extra
        if saving > 0:
            payback = extra / saving
    return Return(
        solution=cost.solution,
        saving_usd_per_month=Num(saving, sources, "model", "$"),
        extra_build_usd=Num(extra, (), "model", "$"),
        roi_pct=Num(roi, sources, "model", "%"),
        payback_months=Num(payback, sources, "model", "months"),
    )
