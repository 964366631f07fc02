"""The five benchmark scenarios and their sizes at each scale.

A scenario is a timeline in simulated seconds: a store seeded with existing companies, one or
more write streams, optional faults, and a deadline. ``full`` is the size the scenario is
defined at; ``default`` equals ``full`` except for the scale stress scenario, which seeds
250,000 companies instead of 1,000,000 so that a default run stays within minutes; ``smoke``
keeps every phase but shrinks counts and durations so the whole suite runs in CI.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from pytest_syncbench.databox.config import DataboxConfig
from pytest_syncbench.generator import Pattern, StreamSpec
from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.neighbour import NeighbourSpec

HOUR = 3600.0
MINUTE = 60.0


class Scale(enum.Enum):
    SMOKE = "smoke"
    DEFAULT = "default"
    FULL = "full"


class FaultKind(enum.Enum):
    """Kind of a fault on the timeline; ``Fault.params`` tunes some kinds."""

    # The HubSpot API refuses TCP connections, as when its load balancer is down.
    HUBSPOT_REFUSED = "hubspot-refused"
    # The HubSpot API returns 503 Service Unavailable to every request.
    HUBSPOT_503 = "hubspot-503"
    # HubSpot API requests wait ``hold_s`` seconds (default 60) and then get a 504.
    HUBSPOT_TIMEOUT = "hubspot-timeout"
    # Every HubSpot API request takes ``added_s`` seconds longer than usual.
    HUBSPOT_LATENCY = "hubspot-latency"
    # Every HubSpot API request matching ``endpoint`` (default "*") gets a 429 response.
    HUBSPOT_429_STORM = "hubspot-429-storm"
    # Writes committed in the window become searchable ``lag_s`` seconds later.
    SEARCH_LAG_SPIKE = "search-lag-spike"
    # The app's webhook receiver is unreachable: every delivery attempt fails as a refused
    # connection, HubSpot retries on its schedule and drops events after the last retry.
    WEBHOOK_OUTAGE = "webhook-outage"
    # The Databox APIs refuse TCP connections.
    DATABOX_REFUSED = "databox-refused"
    # The Databox APIs return 503 to every request and store nothing.
    DATABOX_503 = "databox-503"
    # The Databox APIs respond 429 "Too many requests" to every request and store nothing.
    DATABOX_429 = "databox-429"
    # The solution is killed at the start and a fresh instance is started at the end with
    # the same context: what it keeps in Redis survives, what it keeps in memory is lost.
    SOLUTION_CRASH = "solution-crash"


# Parameters each kind accepts, with their defaults; None marks a required parameter.
FAULT_PARAMS: dict[FaultKind, dict[str, float | str | None]] = {
    FaultKind.HUBSPOT_TIMEOUT: {"hold_s": 60.0},
    FaultKind.HUBSPOT_LATENCY: {"added_s": None},
    FaultKind.HUBSPOT_429_STORM: {"endpoint": "*"},
    FaultKind.SEARCH_LAG_SPIKE: {"lag_s": None},
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault on the scenario's timeline, from ``start_s`` for ``duration_s`` seconds.

    ``kind`` may be given as its value, for example ``"hubspot-429-storm"``. ``params``
    contains the kind's parameters (see :data:`FAULT_PARAMS`). Optional ones left out take
    their defaults, so after construction ``params`` contains every parameter of the kind.
    """

    start_s: float
    duration_s: float
    kind: FaultKind
    params: Mapping[str, float | str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        kind = _fault_kind(self.kind)
        object.__setattr__(self, "kind", kind)
        for name in ("start_s", "duration_s"):
            value = getattr(self, name)
            if not _is_number(value) or value < 0:
                raise ValueError(
                    f"invalid fault {name} {value!r}: expected seconds >= 0"
                )
        if self.duration_s <= 0:
            raise ValueError(
                f"invalid fault duration_s {self.duration_s!r}: expected seconds > 0"
            )
        object.__setattr__(self, "params", _fault_params(kind, self.params))

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


def _fault_kind(kind: object) -> FaultKind:
    if isinstance(kind, FaultKind):
        return kind
    try:
        return FaultKind(kind)
    except ValueError:
        accepted = ", ".join(k.value for k in FaultKind)
        raise ValueError(
            f"invalid fault kind {kind!r}: expected one of {accepted}"
        ) from None


def _fault_params(
    kind: FaultKind, params: Mapping[str, float | str]
) -> dict[str, float | str]:
    accepted = FAULT_PARAMS.get(kind, {})
    names = ", ".join(accepted) or "none"
    for name in params:
        if name not in accepted:
            raise ValueError(
                f"invalid parameter {name!r} for fault {kind.value}: "
                f"accepted parameters: {names}"
            )
    result: dict[str, float | str] = {}
    for name, default in accepted.items():
        value = params.get(name, default)
        if value is None:
            raise ValueError(
                f"missing parameter {name!r} for fault {kind.value}: "
                f"give it in params, for example {{{name!r}: 30.0}}"
            )
        if name == "endpoint":
            if not isinstance(value, str) or not value:
                raise ValueError(
                    f"invalid endpoint {value!r} for fault {kind.value}: expected a "
                    "pattern such as '*' or 'POST /crm/v3/objects/companies/search'"
                )
        elif not _is_number(value) or value < 0 or (name == "hold_s" and value == 0):
            bound = "> 0" if name == "hold_s" else ">= 0"
            raise ValueError(
                f"invalid {name} {value!r} for fault {kind.value}: "
                f"expected seconds {bound}"
            )
        result[name] = value
    return result


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


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
    # Overrides of HubSpotConfig and DataboxConfig fields for this scenario, by name, for
    # example {"duplicate_rate": 0.05, "max_retries": 2, "retry_span_s": 600}.
    hubspot: Mapping[str, object] = field(default_factory=dict)
    databox: Mapping[str, object] = field(default_factory=dict)
    # Other consumers of the HubSpot account that spend its rate-limit budget.
    neighbours: tuple[NeighbourSpec, ...] = ()

    def __post_init__(self) -> None:
        _check_overrides("hubspot", self.hubspot, HubSpotConfig)
        _check_overrides("databox", self.databox, DataboxConfig)

    @property
    def workload_end_s(self) -> float:
        ends = [s.start_s + s.duration_s for s in self.streams]
        ends += [f.end_s for f in self.faults]
        ends += [n.end_s for n in self.neighbours]
        return max(ends, default=0.0)

    @property
    def deadline_s(self) -> float:
        return self.workload_end_s + self.settle_s

    @property
    def update_count(self) -> int:
        return sum(s.count for s in self.streams)


def _check_overrides(name: str, overrides: Mapping[str, object], config: type) -> None:
    """Raise ValueError unless ``overrides`` names fields of ``config`` it accepts.

    The config class checks the values, so an override is valid exactly when the config
    accepts it. ``seed`` and ``tier`` come from the run's options and cannot be overridden.
    """
    fields = {f.name for f in dataclasses.fields(config)} - {"seed", "tier"}
    for key in overrides:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ValueError(
                f"invalid {name} override {key!r}: not a field of {config.__name__}; "
                f"known fields: {known}"
            )
    config(**overrides)


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
        # Imported here because failure_modes builds on this module.
        from pytest_syncbench.failure_modes import FAILURE_MODE_NAMES, failure_mode

        spec = failure_mode(name, scale)
        if spec is not None:
            return spec
        known = ", ".join(SCENARIO_NAMES + FAILURE_MODE_NAMES)
        raise ValueError(
            f"unknown scenario {name!r}; known scenarios: {known}"
        ) from None
    return builder(scale)
