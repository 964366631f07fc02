"""The scale sweep: where each solution stops keeping up as load and store size grow.

A sweep runs one solution through a plan of points on two axes rather than the full grid:
an update-rate axis at a fixed company count, and a company-count axis at a fixed update
rate. Each point is a ``scale``-like scenario (hot-key updates after the initial
sync) played with :func:`pytest_syncbench.harness.run_case`. Each point is judged by what
happened in it: whether the run converged, whether the backlog was still growing late in
the stream, and whether the HubSpot calls, projected to a day, fit the tier's daily limit.
The first point on an axis that does not keep up is that axis's breaking point.
docs/scale.md defines every field.
"""

from __future__ import annotations

import dataclasses
import gc
import math
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from pytest_syncbench.generator import Pattern, StreamSpec
from pytest_syncbench.harness import CaseOutcome, CaseSetup, Progress, run_case
from pytest_syncbench.metrics.latency import summarize
from pytest_syncbench.results import SCHEMA_VERSION
from pytest_syncbench.scenarios import (
    HOUR,
    MINUTE,
    WARMUP_S,
    Scale,
    ScenarioSpec,
    scenario,
)
from pytest_syncbench.solution import Solution

SWEEP_SCENARIO = "scale-sweep"
RATE_AXIS = "update_rate"
COUNT_AXIS = "record_count"
AXES = (RATE_AXIS, COUNT_AXIS)

# The backlog trend is the least-squares slope of its lower envelope over the second half
# of the stream: the window is cut into TREND_SEGMENTS parts of equal length and the slope
# is fitted through each part's minimum. A solution that delivers in cycles leaves a
# sawtooth whose troughs stay level while it keeps up and rise when it falls behind. A
# fit through every sample would tilt with the sawtooth's phase instead. The minima are
# level only if each part spans at least one cycle (5 minutes for a 15-minute window).
TREND_SEGMENTS = 3
# The backlog counts as growing when that slope exceeds this share of the update rate,
# that is when deliveries fall short of arrivals by more than a fifth. Sampling every 60
# simulated seconds can miss a trough's bottom by up to a minute of arrivals, which tilts
# the fit by up to a tenth of the rate over a 15-minute window, inside this margin. A
# shortfall below the share is not flagged.
SLOPE_TOLERANCE_SHARE = 0.2
# The slope is judged only when the solution delivered something during the window: the
# pending changes rose by less than this share of the window's expected arrivals. A
# solution that delivers in cycles longer than the window (an hourly pull) shows a pure
# ramp there, which is no evidence about its capacity, so it is judged by convergence.
DELIVERY_SEEN_SHARE = 0.9
# The envelope needs a trough in every part of the window. When the backlog drains in
# cycles whose troughs lie further apart than a part plus one sample interval (an hourly
# pull seen in a 15- or 30-minute window), the slope is not judged either.
TROUGH_GAP_MARGIN_S = 60.0
SECONDS_PER_DAY = 86_400.0

REASON_FAILED = "failed"
REASON_DEADLINE = "deadline"
REASON_BACKLOG = "backlog-growing"
REASON_QUOTA = "daily-quota"


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """One load level: a store of ``companies`` under ``updates_per_hour`` writes."""

    companies: int
    updates_per_hour: int

    @property
    def label(self) -> str:
        return f"{self.companies:,} companies at {self.updates_per_hour:,} updates/h"


@dataclass(frozen=True, slots=True)
class SweepPlan:
    """The points of a sweep and how long each point's stream runs.

    The update-rate axis varies the rate at ``rate_axis_companies`` companies, and the
    record-count axis varies the company count at ``count_axis_rate`` updates an hour.
    """

    rates: tuple[int, ...]
    rate_axis_companies: int
    counts: tuple[int, ...]
    count_axis_rate: int
    stream_s: float
    settle_s: float = 65 * MINUTE
    # A scenario used as the point with its company count and update rate, so that a
    # session that runs that scenario's case measures the point once.
    shared: ScenarioSpec | None = None

    def __post_init__(self) -> None:
        for name in ("rates", "counts"):
            values = getattr(self, name)
            if not values:
                raise ValueError(f"invalid {name} {values!r}: expected at least one")
            for value in values:
                _require_positive_int(name, value)
            if list(values) != sorted(set(values)):
                raise ValueError(
                    f"invalid {name} {values!r}: expected distinct values in "
                    "increasing order"
                )
        _require_positive_int("rate_axis_companies", self.rate_axis_companies)
        _require_positive_int("count_axis_rate", self.count_axis_rate)
        for name in ("stream_s", "settle_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not value > 0:
                raise ValueError(
                    f"invalid {name} {value!r}: expected simulated seconds > 0"
                )

    def shares(self, point: SweepPoint) -> bool:
        """Return whether ``shared`` is the scenario of ``point``."""
        spec = self.shared
        if spec is None or len(spec.streams) != 1:
            return False
        stream = spec.streams[0]
        rate = round(stream.count * HOUR / stream.duration_s)
        return (spec.companies, rate) == (point.companies, point.updates_per_hour)

    def axis(self, name: str) -> list[SweepPoint]:
        """Return the points of one axis, smallest load first."""
        if name == RATE_AXIS:
            return [SweepPoint(self.rate_axis_companies, r) for r in self.rates]
        if name == COUNT_AXIS:
            return [SweepPoint(c, self.count_axis_rate) for c in self.counts]
        raise ValueError(f"unknown axis {name!r}; axes: {', '.join(AXES)}")

    def points(self) -> list[SweepPoint]:
        """Return every distinct point, in the order a sweep runs them."""
        ordered: list[SweepPoint] = []
        for name in AXES:
            for point in self.axis(name):
                if point not in ordered:
                    ordered.append(point)
        return ordered

    def as_dict(self) -> dict[str, Any]:
        return {
            RATE_AXIS: {
                "companies": self.rate_axis_companies,
                "updates_per_hour": list(self.rates),
            },
            COUNT_AXIS: {
                "updates_per_hour": self.count_axis_rate,
                "companies": list(self.counts),
            },
            "stream_s": self.stream_s,
            "settle_s": self.settle_s,
            "slope_tolerance_share": SLOPE_TOLERANCE_SHARE,
            "shared_scenario": None if self.shared is None else self.shared.name,
        }


def _require_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"invalid {name} value {value!r}: expected an integer >= 1")


# Smoke runs every code path at CI size. Default reaches the 250,000 companies of the
# scale scenario at default scale, and full its 1,000,000. The wall time of a point grows
# with its writes (about 1 ms per write for the webhook solutions), so default stops the
# rate axis at 50,000 updates an hour and full goes on to 200,000.
PLANS: dict[Scale, SweepPlan] = {
    Scale.SMOKE: SweepPlan(
        rates=(1_000, 4_000),
        rate_axis_companies=500,
        counts=(500, 2_000),
        count_axis_rate=1_000,
        stream_s=30 * MINUTE,
    ),
    Scale.DEFAULT: SweepPlan(
        rates=(1_000, 10_000, 50_000),
        rate_axis_companies=10_000,
        counts=(10_000, 50_000, 250_000),
        count_axis_rate=10_000,
        stream_s=30 * MINUTE,
    ),
    Scale.FULL: SweepPlan(
        rates=(1_000, 10_000, 50_000, 200_000),
        rate_axis_companies=10_000,
        counts=(10_000, 100_000, 1_000_000),
        count_axis_rate=10_000,
        stream_s=30 * MINUTE,
    ),
}


def plan_for(scale: Scale) -> SweepPlan:
    """Return the plan of a scale; above smoke its largest point is the ``scale`` case."""
    plan = PLANS[scale]
    if scale is Scale.SMOKE:
        # The smoke scale case streams for 20 minutes, too short a window for the trend.
        return plan
    return dataclasses.replace(plan, shared=scenario("scale", scale))


def point_spec(point: SweepPoint, plan: SweepPlan) -> ScenarioSpec:
    """Return the scenario of one point: hot-key updates after the initial sync."""
    if plan.shared is not None and plan.shares(point):
        return plan.shared
    # The destination's 10 ingestion requests per second move 1,000 rows a second, so a
    # large store's initial sync needs longer than the common warm-up, as in ``scale``.
    warmup = max(WARMUP_S, point.companies / 1_000 * 1.5)
    count = max(1, round(point.updates_per_hour * plan.stream_s / HOUR))
    return ScenarioSpec(
        name=SWEEP_SCENARIO,
        description=f"{point.label} for {plan.stream_s / MINUTE:g} minutes",
        companies=point.companies,
        streams=(StreamSpec(count, plan.stream_s, warmup, Pattern.HOT_KEYS),),
        settle_s=plan.settle_s,
    )


def least_squares_slope(times_s: Sequence[float], values: Sequence[float]) -> float:
    """Return the least-squares slope of ``values`` over ``times_s``, per hour.

    Raises ValueError for fewer than two samples, lists of different lengths, or times
    that are all equal.
    """
    if len(times_s) != len(values):
        raise ValueError(
            f"{len(times_s)} times and {len(values)} values: expected equal lengths"
        )
    if len(times_s) < 2:
        raise ValueError(f"{len(times_s)} samples: a slope needs at least two")
    mean_t = math.fsum(times_s) / len(times_s)
    mean_v = math.fsum(values) / len(values)
    spread = math.fsum((t - mean_t) ** 2 for t in times_s)
    if spread == 0:
        raise ValueError("every sample has the same time: the slope is undefined")
    covariance = math.fsum(
        (t - mean_t) * (v - mean_v) for t, v in zip(times_s, values, strict=True)
    )
    return covariance / spread * HOUR


@dataclass(slots=True)
class Trend:
    """The trend of the backlog's lower envelope over the second half of a stream."""

    window_s: tuple[float, float]
    samples: int
    slope_per_h: float | None
    tolerance_per_h: float
    # Whether the slope decides: every part has a sample and something was delivered.
    judged: bool
    note: str

    @property
    def growing(self) -> bool:
        return (
            self.judged
            and self.slope_per_h is not None
            and self.slope_per_h > self.tolerance_per_h
        )


def backlog_trend(
    times_s: Sequence[float],
    pending: Sequence[int],
    window_s: tuple[float, float],
    updates_per_hour: float,
) -> Trend:
    """Fit the lower envelope of the pending changes inside ``window_s``.

    Returns an unjudged trend when a part of the window contains no sample, when nothing
    was seen delivered in the window, or when the backlog's troughs lie further apart
    than a part of the window.
    """
    start, end = window_s
    tolerance = SLOPE_TOLERANCE_SHARE * updates_per_hour
    picked = [
        (t, p) for t, p in zip(times_s, pending, strict=True) if start <= t <= end
    ]
    part_s = (end - start) / TREND_SEGMENTS
    centres: list[float] = []
    minima: list[float] = []
    for index in range(TREND_SEGMENTS):
        low = start + index * part_s
        high = low + part_s
        values = [p for t, p in picked if low <= t < high or (t == end == high)]
        if not values:
            note = f"no sample in {low:,.0f}..{high:,.0f} s of the window"
            return Trend(window_s, len(picked), None, tolerance, False, note)
        centres.append(low + part_s / 2)
        minima.append(float(min(values)))
    slope = least_squares_slope(centres, minima)
    span_h = (picked[-1][0] - picked[0][0]) / HOUR
    expected_arrivals = updates_per_hour * span_h
    rise = picked[-1][1] - picked[0][1]
    if rise >= DELIVERY_SEEN_SHARE * expected_arrivals:
        note = (
            f"pending changes rose by {rise:,} of about {expected_arrivals:,.0f} "
            "arrivals, so nothing was seen delivered in the window: judged by "
            "convergence alone"
        )
        return Trend(window_s, len(picked), slope, tolerance, False, note)
    gap = _longest_trough_gap(picked, window_s)
    if gap is not None and gap > part_s + TROUGH_GAP_MARGIN_S:
        note = (
            f"the backlog's troughs are up to {gap:,.0f} s apart, longer than a "
            f"{part_s:,.0f} s part of the window: judged by convergence alone"
        )
        return Trend(window_s, len(picked), slope, tolerance, False, note)
    return Trend(window_s, len(picked), slope, tolerance, True, "")


def _longest_trough_gap(
    picked: Sequence[tuple[float, int]], window_s: tuple[float, float]
) -> float | None:
    """Return the longest stretch of the window without a trough sample, if any.

    A trough sample is one where the backlog did not grow since the previous sample,
    which takes a delivery while changes arrive. Returns None when no sample is one: a
    solution that delivers steadily without draining shows none.
    """
    troughs = [t for (_, before), (t, after) in pairwise(picked) if after <= before]
    if not troughs:
        return None
    edges = [window_s[0], *troughs, window_s[1]]
    return max(later - earlier for earlier, later in pairwise(edges))


def calls_per_hour(
    call_times_s: Iterable[float], start_s: float, end_s: float
) -> float:
    """Return the HubSpot requests per simulated hour between two times."""
    if not end_s > start_s:
        raise ValueError(f"window {start_s}..{end_s}: expected the end after the start")
    count = sum(1 for t in call_times_s if start_s <= t <= end_s)
    return count / (end_s - start_s) * HOUR


@dataclass(slots=True)
class PointResult:
    """Measurements of one sweep point and whether the solution kept up there."""

    point: SweepPoint
    status: str
    error: str | None
    reasons: list[str]
    measurements: dict[str, Any] = field(default_factory=dict)

    @property
    def keeps_up(self) -> bool:
        return not self.reasons

    def as_dict(self) -> dict[str, Any]:
        return {
            "companies": self.point.companies,
            "updates_per_hour": self.point.updates_per_hour,
            "status": self.status,
            "error": self.error,
            "keeps_up": self.keeps_up,
            "reasons": list(self.reasons),
            **self.measurements,
        }


def judge(
    status: str,
    trend: Trend | None,
    projected_calls_per_day: float | None,
    daily_limit: int | None,
) -> list[str]:
    """Return why a point does not keep up, in a fixed order; empty when it does."""
    reasons = []
    if status == "failed":
        reasons.append(REASON_FAILED)
    elif status != "converged":
        reasons.append(REASON_DEADLINE)
    if trend is not None and trend.growing:
        reasons.append(REASON_BACKLOG)
    if (
        daily_limit is not None
        and projected_calls_per_day is not None
        and projected_calls_per_day > daily_limit
    ):
        reasons.append(REASON_QUOTA)
    return reasons


def evaluate_point(point: SweepPoint, outcome: CaseOutcome) -> PointResult:
    """Compute a point's measurements and verdict from its case outcome."""
    spec = outcome.spec
    stream = spec.streams[0]
    stream_end = stream.start_s + stream.duration_s
    series = outcome.series
    trend = backlog_trend(
        series.t_s,
        series.pending_changes,
        (stream.start_s + stream.duration_s / 2, stream_end),
        point.updates_per_hour,
    )
    # The initial sync's backlog is left out: it measures the store, not the load.
    stream_pending = [
        p
        for t, p in zip(series.t_s, series.pending_changes, strict=True)
        if t >= stream.start_s
    ]
    # Calls are counted from the stream's start to the end of the run, so that a solution
    # that calls on a cycle longer than the stream is charged for its next cycle too.
    calls = _call_measurements(
        outcome, stream.start_s, max(outcome.simulated_s, stream_end)
    )
    latency = summarize(outcome.latencies_s)

    measurements = {
        "scenario": spec.name,
        "stream_s": stream.duration_s,
        "data_loss": outcome.data_loss,
        "latency_s": {"p50": latency["p50"], "p95": latency["p95"]},
        "max_backlog": max(stream_pending, default=0),
        "backlog_slope_per_h": _rounded(trend.slope_per_h),
        "slope_tolerance_per_h": round(trend.tolerance_per_h, 1),
        "trend_window_s": list(trend.window_s),
        "trend_judged": trend.judged,
        "trend_note": trend.note,
        **calls,
        "cpu_s": round(outcome.cpu_s.get("solution", 0.0), 3),
        "wall_s": outcome.wall_s,
        "peak_rss_bytes": outcome.peak_rss_bytes,
        "simulated_s": outcome.simulated_s,
        "deadline_s": spec.deadline_s,
    }
    reasons = judge(
        outcome.status, trend, calls["projected_calls_per_day"], outcome.daily_limit
    )
    return PointResult(point, outcome.status, outcome.error, reasons, measurements)


def _call_measurements(
    outcome: CaseOutcome, start_s: float, end_s: float
) -> dict[str, Any]:
    per_hour = calls_per_hour((c.t_s for c in outcome.hubspot_calls), start_s, end_s)
    per_day = per_hour * SECONDS_PER_DAY / HOUR
    share = None
    if outcome.daily_limit:
        share = round(per_day / outcome.daily_limit, 4)
    return {
        "hubspot_calls": len(outcome.hubspot_calls),
        "calls_per_hour": round(per_hour, 1),
        "projected_calls_per_day": round(per_day),
        "daily_limit": outcome.daily_limit,
        "projected_quota_share": share,
        "rate_limited": sum(1 for c in outcome.hubspot_calls if c.status == 429),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def breaking_point(results: Sequence[PointResult], axis: str) -> dict[str, Any]:
    """Return the first point of an axis that does not keep up, or a null ``broke_at``.

    ``results`` are the axis's points, smallest load first. ``held_up_to`` is the largest
    value kept up before the break (None when the first point broke).
    """
    key = "updates_per_hour" if axis == RATE_AXIS else "companies"
    held_up_to: int | None = None
    for result in results:
        value = getattr(result.point, key)
        if not result.keeps_up:
            return {
                "varies": key,
                "broke_at": value,
                "reasons": list(result.reasons),
                "held_up_to": held_up_to,
                "verdict": f"broke at {result.point.label}: "
                + ", ".join(result.reasons),
            }
        held_up_to = value
    return {
        "varies": key,
        "broke_at": None,
        "reasons": [],
        "held_up_to": held_up_to,
        "verdict": "held up to the largest point tried"
        + (f" ({results[-1].point.label})" if results else ""),
    }


@dataclass(slots=True)
class SweepResult:
    """Every point of a sweep, by axis, with the breaking point of each axis."""

    plan: SweepPlan
    results: dict[SweepPoint, PointResult]

    @property
    def failed(self) -> list[PointResult]:
        return [r for r in self.results.values() if r.status == "failed"]

    def axis_results(self, axis: str) -> list[PointResult]:
        return [self.results[p] for p in self.plan.axis(axis) if p in self.results]

    def breaking_points(self) -> dict[str, dict[str, Any]]:
        return {axis: breaking_point(self.axis_results(axis), axis) for axis in AXES}

    def curve(self) -> dict[str, Any]:
        return {
            "plan": self.plan.as_dict(),
            **{axis: [r.as_dict() for r in self.axis_results(axis)] for axis in AXES},
        }

    def latency_samples(self) -> list[float]:
        """Return one sample per point: its p95 latency, or its deadline if none."""
        samples = []
        for result in self.results.values():
            p95 = result.measurements.get("latency_s", {}).get("p95")
            if p95 is None:
                p95 = result.measurements.get("deadline_s")
            if p95 is not None:
                samples.append(float(p95))
        return samples


Runner = Callable[[CaseSetup], CaseOutcome]


def run_sweep(
    plan: SweepPlan,
    solution_cls: type[Solution],
    seed: int,
    tier: str = "professional",
    *,
    progress: Progress | None = None,
    point_progress: Progress | None = None,
    runner: Runner = run_case,
    redis_url: str | None = None,
) -> SweepResult:
    """Run every point of ``plan`` in sequence and judge each.

    A point whose run raises is recorded as failed with the error, and the sweep goes on.
    ``point_progress`` receives one line per point, ``progress`` the case's own lines.
    ``redis_url`` is the Redis database every point uses, fakeredis when None.
    """
    points = plan.points()
    results: dict[SweepPoint, PointResult] = {}
    for number, point in enumerate(points, 1):
        if point_progress is not None:
            point_progress(f"point {number}/{len(points)}: {point.label}")
        setup = CaseSetup(
            spec=point_spec(point, plan),
            solution_cls=solution_cls,
            seed=seed,
            tier=tier,
            progress=progress,
            redis_url=redis_url,
        )
        try:
            outcome = runner(setup)
        except (
            Exception
        ) as exc:  # the point is recorded as failed, and the sweep goes on
            error = "".join(traceback.format_exception_only(exc)).strip()
            deadline = {"deadline_s": setup.spec.deadline_s}
            results[point] = PointResult(
                point, "failed", error, [REASON_FAILED], deadline
            )
        else:
            results[point] = evaluate_point(point, outcome)
            del outcome
        # Each point builds its own store; free it before the next one is generated.
        del setup
        gc.collect()
        if point_progress is not None:
            point_progress(f"point {number}/{len(points)}: {_summary(results[point])}")
    return SweepResult(plan, results)


def _summary(result: PointResult) -> str:
    verdict = "keeps up" if result.keeps_up else ", ".join(result.reasons)
    m = result.measurements
    if "latency_s" not in m:
        return f"{result.point.label}: {verdict} ({result.error})"
    p95 = m["latency_s"]["p95"]
    p95_text = "-" if p95 is None else f"{p95:,.0f}s"
    return (
        f"{result.point.label}: {verdict}; p95 {p95_text}, "
        f"max backlog {m['max_backlog']:,}, "
        f"{m['projected_calls_per_day']:,} calls/day projected, "
        f"wall {m['wall_s']:.1f}s"
    )


def sweep_extra_info(
    result: SweepResult, solution: str, seed: int, scale: str, tier: str
) -> dict[str, Any]:
    """Return the sweep's record for ``extra_info["syncbench"]``.

    ``status`` is ``failed`` when any point failed, with ``error`` naming those points,
    and ``completed`` otherwise.
    """
    failed = result.failed
    error = None
    if failed:
        error = "; ".join(f"{r.point.label}: {r.error}" for r in failed)
    return {
        "schema": SCHEMA_VERSION,
        "scenario": SWEEP_SCENARIO,
        "solution": solution,
        "seed": seed,
        "scale": scale,
        "tier": tier,
        "status": "failed" if failed else "completed",
        "error": error,
        "failed_points": [r.point.label for r in failed],
        "breaking_point": result.breaking_points(),
        "sweep": result.curve(),
    }
