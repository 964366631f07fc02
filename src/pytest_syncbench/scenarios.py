"""The five benchmark scenarios and their sizes at each scale.

A scenario is a timeline in simulated seconds: a store seeded with existing companies, one or
more write streams, optional faults, and a deadline. ``full`` is the size the scenario is
defined at; ``default`` equals ``full`` except for the scale stress scenario, which seeds
250,000 companies instead of 1,000,000 so that a default run stays within minutes; ``smoke``
keeps every phase but shrinks counts and durations so the whole suite runs in CI.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from pytest_syncbench.generator import Pattern, StreamSpec

HOUR = 3600.0
MINUTE = 60.0


class Scale(enum.Enum):
    SMOKE = "smoke"
    DEFAULT = "default"
    FULL = "full"


class FaultKind(enum.Enum):
    # The HubSpot API refuses TCP connections, as when its load balancer is down.
    HUBSPOT_REFUSED = "hubspot-refused"
    # The HubSpot API returns 503 Service Unavailable to every request.
    HUBSPOT_503 = "hubspot-503"


@dataclass(frozen=True, slots=True)
class Fault:
    start_s: float
    duration_s: float
    kind: FaultKind

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclass(frozen=True, slots=True)
class ScenarioSpec:
    """One scenario at one scale."""

    name: str
    description: str
    companies: int
    streams: tuple[StreamSpec, ...] = ()
    faults: tuple[Fault, ...] = ()
    # How long after the last write and the end of the last fault the run may go on
    # waiting for the destination to converge before it stops and counts what is missing.
    settle_s: float = 65 * MINUTE
    # Whether latency samples come from the seeded companies (an initial sync is what is
    # measured) or only from the streams' writes.
    measure_seed: bool = False
    settings: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def workload_end_s(self) -> float:
        ends = [s.start_s + s.duration_s for s in self.streams]
        ends += [f.end_s for f in self.faults]
        return max(ends, default=0.0)

    @property
    def deadline_s(self) -> float:
        return self.workload_end_s + self.settle_s

    @property
    def update_count(self) -> int:
        return sum(s.count for s in self.streams)


# Stream writes start after this much simulated time, so that every solution has finished
# its initial sync of the seeded companies (10,000 companies take well under 5 minutes at
# the Professional tier's 190 requests per 10 seconds) before changes are measured.
WARMUP_S = 10 * MINUTE


def _bulk(scale: Scale) -> ScenarioSpec:
    return ScenarioSpec(
        name="bulk",
        description="initial sync of existing companies into an empty destination",
        companies={Scale.SMOKE: 2_000}.get(scale, 100_000),
        measure_seed=True,
        settle_s=2 * HOUR,
    )


def _realtime(scale: Scale) -> ScenarioSpec:
    smoke = scale is Scale.SMOKE
    duration = 20 * MINUTE if smoke else 2 * HOUR
    return ScenarioSpec(
        name="realtime",
        description="steady random updates at 1,000 an hour after the initial sync",
        companies=1_000 if smoke else 10_000,
        streams=(StreamSpec(round(1_000 * duration / HOUR), duration, WARMUP_S),),
    )


def _burst(scale: Scale) -> ScenarioSpec:
    smoke = scale is Scale.SMOKE
    return ScenarioSpec(
        name="burst",
        description="5,000 updates within 10 minutes, arriving in bursts",
        companies=1_000 if smoke else 10_000,
        streams=(
            StreamSpec(500 if smoke else 5_000, 10 * MINUTE, WARMUP_S, Pattern.BURSTY),
        ),
    )


def _outage(scale: Scale) -> ScenarioSpec:
    smoke = scale is Scale.SMOKE
    duration = 70 * MINUTE if smoke else 2 * HOUR
    outage_start = WARMUP_S + (20 * MINUTE if smoke else 45 * MINUTE)
    return ScenarioSpec(
        name="outage",
        description="a 30-minute HubSpot API outage (connections refused) in a steady stream",
        companies=1_000 if smoke else 10_000,
        streams=(StreamSpec(round(1_000 * duration / HOUR), duration, WARMUP_S),),
        faults=(Fault(outage_start, 30 * MINUTE, FaultKind.HUBSPOT_REFUSED),),
    )


def _scale(scale: Scale) -> ScenarioSpec:
    companies = {Scale.SMOKE: 5_000, Scale.DEFAULT: 250_000, Scale.FULL: 1_000_000}[
        scale
    ]
    duration = 20 * MINUTE if scale is Scale.SMOKE else HOUR
    # Initial syncs of this many companies take longer than the common warm-up: the
    # destination's 10 ingestion requests per second move 1,000 rows a second.
    warmup = max(WARMUP_S, companies / 1_000 * 1.5)
    return ScenarioSpec(
        name="scale",
        description="a large store under 10,000 updates an hour",
        companies=companies,
        streams=(
            StreamSpec(
                round(10_000 * duration / HOUR), duration, warmup, Pattern.HOT_KEYS
            ),
        ),
    )


SCENARIO_NAMES: tuple[str, ...] = ("bulk", "realtime", "burst", "outage", "scale")
_BUILDERS = {
    "bulk": _bulk,
    "realtime": _realtime,
    "burst": _burst,
    "outage": _outage,
    "scale": _scale,
}


def scenario(name: str, scale: Scale) -> ScenarioSpec:
    try:
        builder = _BUILDERS[name]
    except KeyError:
        known = ", ".join(SCENARIO_NAMES)
        raise ValueError(
            f"unknown scenario {name!r}; known scenarios: {known}"
        ) from None
    return builder(scale)
