"""Run one scenario against one solution and measure what happened.

A case seeds a store, starts the mock HubSpot and mock Databox on a fresh virtual-time loop,
starts the solution, and plays the scenario's writes and faults. It stops when every change
has reached the destination after the workload ended, or when the scenario's deadline
passes. The measurements come from the mocks' own records (calls served, writes accepted)
and the store's change history. Only ``solution_stats`` is what the solution reports.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import fakeredis
import redis.asyncio

from pytest_syncbench.clock import Clock
from pytest_syncbench.databox.config import DataboxConfig
from pytest_syncbench.databox.server import DataboxMock
from pytest_syncbench.generator import (
    SYNCED_PROPERTIES,
    generate_companies,
    generate_stream,
)
from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.hubspot.server import HubSpotMock
from pytest_syncbench.hubspot.store import Store
from pytest_syncbench.loop import as_actor, close_loop, new_virtual_loop
from pytest_syncbench.metrics.consistency import (
    Consistency,
    compare_rows,
    from_undelivered,
)
from pytest_syncbench.metrics.delivery import DeliveryTracker
from pytest_syncbench.metrics.resources import PeakRss
from pytest_syncbench.metrics.timeseries import TimeSeries
from pytest_syncbench.scenarios import ScenarioSpec
from pytest_syncbench.solution import Delivery, Solution, SolutionContext
from pytest_syncbench.workload import apply_events, apply_faults

logger = logging.getLogger(__name__)

# Simulated seconds between checks for convergence and progress reports.
TICK_S = 5.0
# Simulated seconds between samples of the time series.
SAMPLE_S = 60.0
DATASET_NAME = "hubspot_companies"
# Simulated seconds a solution's start() and stop() may take. start() only has to set up
# (a webhook subscription, a receiver) and schedule its work, so this is generous.
START_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 60.0

Progress = Callable[[str], None]


class SolutionTimeout(Exception):
    """Raised when a solution's start() does not return in time."""


@dataclass(slots=True)
class CaseOutcome:
    """Everything measured in one case, before it is formatted for the JSON."""

    spec: ScenarioSpec
    solution: str
    delivers: Delivery
    seed: int
    status: str  # "converged", "deadline" or "failed"
    error: str | None
    simulated_s: float
    wall_s: float
    latencies_s: list[float]
    tracked_changes: int
    measured_changes: int
    data_loss: int
    consistency: Consistency
    hubspot_calls: list[Any]
    databox_calls: list[Any]
    cpu_s: dict[str, float]
    peak_rss_bytes: int
    rss_growth_bytes: int
    delivered_changes: int
    first_visible_s: float | None
    last_visible_s: float | None
    daily_limit: int | None
    series: TimeSeries = field(default_factory=TimeSeries)
    webhooks: dict[str, int] = field(default_factory=dict)
    solution_stats: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CaseSetup:
    spec: ScenarioSpec
    solution_cls: type[Solution]
    seed: int
    tier: str = "professional"
    settings: dict[str, Any] = field(default_factory=dict)
    redis_url: str | None = None
    progress: Progress | None = None


def run_case(setup: CaseSetup) -> CaseOutcome:
    """Run one scenario-solution case to its end.

    An exception in the solution or the mocks is recorded in the outcome as a failed case,
    not raised.
    """
    wall_start = time.perf_counter()
    # Free what earlier cases left behind before this case's memory is measured.
    gc.collect()
    clock = Clock()
    store = Store(clock)
    with PeakRss() as rss:
        companies = generate_companies(setup.spec.companies, setup.seed, clock.epoch_ms)
        store.seed(companies)
        events = []
        next_id = len(store.companies) + 1
        live = sorted(store.companies)
        for stream in setup.spec.streams:
            events += generate_stream(
                stream,
                setup.seed,
                live,
                next_id,
                lambda cid: store.companies[cid].properties,
            )
        events.sort(key=lambda e: e.at_s)
        run = _Run(setup, clock, store, events)
        # The seeded store is up to millions of long-lived objects. Frozen, they are left out
        # of every garbage collection pass during the run instead of being traversed each time.
        gc.collect()
        gc.freeze()
        loop = new_virtual_loop()
        try:
            loop.run_until_complete(run.main())
        finally:
            close_loop(loop)
            gc.unfreeze()
        cpu = loop.cpu.snapshot()
    outcome = run.outcome(cpu, rss, time.perf_counter() - wall_start)
    return outcome


class _Run:
    def __init__(
        self, setup: CaseSetup, clock: Clock, store: Store, events: list[Any]
    ) -> None:
        self.setup = setup
        self.clock = clock
        self.store = store
        self.events = events
        self.status = "failed"
        self.error: str | None = None
        self.end_s = 0.0
        self.delivers = setup.solution_cls.delivers
        self.tracker = DeliveryTracker(
            store,
            SYNCED_PROPERTIES,
            clock.epoch_ms,
            records=self.delivers is Delivery.RECORDS,
        )
        self.measure_from_seq = 0 if setup.spec.measure_seed else len(store.changes)
        self.hubspot: HubSpotMock | None = None
        self.databox: DataboxMock | None = None
        self.solution: Solution | None = None
        self.final: Consistency = Consistency()
        self._writes_seen = 0
        self.series = TimeSeries()
        self._next_sample_s = 0.0
        self._calls_seen = 0
        self._rate_limited = 0

    async def main(self) -> None:
        self.clock.start()
        try:
            await self._run()
        except Exception as exc:  # the case is recorded as failed, with the traceback
            self.status = "failed"
            self.error = "".join(traceback.format_exception_only(exc)).strip()
            logger.error("case failed: %s", traceback.format_exc())
        finally:
            self.end_s = self.clock.now()
            await self._teardown()

    async def _run(self) -> None:
        setup = self.setup
        spec = setup.spec
        hubspot_config = HubSpotConfig(seed=setup.seed, tier=setup.tier)
        self.hubspot = HubSpotMock(self.store, self.clock, hubspot_config)
        self.databox = DataboxMock(self.clock, DataboxConfig(seed=setup.seed))
        await as_actor("mock", self.hubspot.start())
        await as_actor("mock", self.databox.start())
        dataset = self.databox.create_dataset(DATASET_NAME, ["id"])

        self.tracker.track_existing()
        self.store.add_listener(self.tracker.track)

        client = self._redis()
        self.redis = client
        settings = dict(spec.settings.get(setup.solution_cls.name, {}))
        settings.update(setup.settings)
        context = SolutionContext(
            hubspot=self.hubspot.access(),
            databox=self.databox.access(dataset.id),
            clock=self.clock,
            redis=client,
            properties=SYNCED_PROPERTIES,
            logger=logging.getLogger(f"syncbench.solution.{setup.solution_cls.name}"),
            settings=settings,
        )
        self.solution = setup.solution_cls()
        try:
            await asyncio.wait_for(
                as_actor("solution", self.solution.start(context)), START_TIMEOUT_S
            )
        except TimeoutError:
            raise SolutionTimeout(
                f"{setup.solution_cls.name}.start() did not return within "
                f"{START_TIMEOUT_S:.0f} simulated seconds; start() must schedule its "
                "work as background tasks and return"
            ) from None

        workload = as_actor(
            "workload", apply_events(self.store, self.clock, self.events)
        )
        faults = as_actor(
            "workload", apply_faults(self.clock, spec.faults, self.hubspot.set_outage)
        )
        await self._watch(workload, faults)

    async def _watch(
        self, workload: asyncio.Task[int], faults: asyncio.Task[None]
    ) -> None:
        spec = self.setup.spec
        while True:
            await asyncio.sleep(TICK_S)
            self._feed_writes()
            now = self.clock.now()
            for task in (workload, faults):
                if task.done() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            done = workload.done() and faults.done() and now >= spec.workload_end_s
            if done and self.tracker.unresolved == 0:
                self.status = "converged"
                return
            if now >= spec.deadline_s:
                self.status = "deadline"
                return
            if now >= self._next_sample_s:
                self._sample(now)
            # Reported every tick; the progress writer decides how often to print.
            if self.setup.progress:
                self._report(now)

    def _sample(self, now: float) -> None:
        assert self.hubspot is not None
        calls = self.hubspot.calls
        for call in calls[self._calls_seen :]:
            if call.status == 429:
                self._rate_limited += 1
        self._calls_seen = len(calls)
        backlog = self.solution.backlog() if self.solution else 0
        daily = self.hubspot.config.limits.daily
        self.series.add(
            now, self.tracker.unresolved, backlog, len(calls), self._rate_limited, daily
        )
        self._next_sample_s = now + SAMPLE_S

    def _report(self, now: float) -> None:
        assert self.setup.progress is not None and self.hubspot is not None
        calls = len(self.hubspot.calls)
        backlog = self.solution.backlog() if self.solution else 0
        self.setup.progress(
            f"t={now:,.0f}s/{self.setup.spec.deadline_s:,.0f}s simulated, "
            f"{calls:,} HubSpot calls, pending changes: {self.tracker.unresolved:,}, "
            f"solution backlog {backlog:,}"
        )

    def _feed_writes(self) -> None:
        assert self.databox is not None
        writes = self.databox.writes
        for write in writes[self._writes_seen :]:
            if self.delivers is Delivery.AGGREGATES:
                if write.kind == "push":
                    self.tracker.on_aggregates(
                        write.visible_s, [p.date_ms for p in write.items]
                    )
            elif write.kind == "ingest":
                # Ingested rows become readable once Databox has processed them.
                self.tracker.on_rows(write.visible_s, write.rows)
        self._writes_seen = len(writes)

    def _redis(self) -> redis.asyncio.Redis:
        if self.setup.redis_url:
            return redis.asyncio.Redis.from_url(self.setup.redis_url)
        return fakeredis.FakeAsyncRedis()

    async def _teardown(self) -> None:
        if self.solution is not None:
            try:
                await asyncio.wait_for(
                    as_actor("solution", self.solution.stop()), STOP_TIMEOUT_S
                )
            except Exception:
                logger.exception(
                    "solution %s failed to stop", self.setup.solution_cls.name
                )
        if self.databox is not None:
            self._feed_writes()
            self.final = self._consistency()
        for mock in (self.hubspot, self.databox):
            if mock is not None:
                await as_actor("mock", mock.stop())
        redis_client = getattr(self, "redis", None)
        if redis_client is not None:
            await redis_client.aclose()

    def _consistency(self) -> Consistency:
        assert self.databox is not None
        if self.delivers is Delivery.AGGREGATES:
            result = from_undelivered(self.tracker.unresolved_changes())
            result.duplicated = self.databox.repeated_points()
            return result
        dataset = next(iter(self.databox.datasets.values()))
        rows = {
            str(key[0]) if isinstance(key, tuple) else str(key): row
            for key, row in dataset.rows.items()
        }
        result = compare_rows(self.store, rows, SYNCED_PROPERTIES)
        result.duplicated = dataset.row_count - len(dataset.rows)
        return result

    def outcome(
        self, cpu: dict[str, float], rss: PeakRss, wall_s: float
    ) -> CaseOutcome:
        visible = self.tracker.visible_s
        latencies = self.tracker.latencies_s(self.measure_from_seq)
        measured = len(self.store.changes) - self.measure_from_seq
        hubspot_calls = list(self.hubspot.calls) if self.hubspot else []
        databox_calls = list(self.databox.calls) if self.databox else []
        webhooks = {}
        if self.hubspot is not None:
            webhooks = _webhook_counters(self.hubspot)
        stats = dict(getattr(self.solution, "stats", {}) or {})
        daily = None
        if self.hubspot is not None:
            daily = self.hubspot.config.limits.daily
        # A converged run ends at the last delivery (or the end of the workload, if later),
        # not at the tick that noticed it.
        end_s = self.end_s
        if self.status == "converged":
            end_s = max(
                self.setup.spec.workload_end_s, max(visible.values(), default=0.0)
            )
        return CaseOutcome(
            spec=self.setup.spec,
            solution=self.setup.solution_cls.name,
            delivers=self.delivers,
            seed=self.setup.seed,
            status=self.status,
            error=self.error,
            simulated_s=round(end_s, 3),
            wall_s=round(wall_s, 3),
            latencies_s=latencies,
            tracked_changes=len(self.store.changes),
            measured_changes=measured,
            data_loss=self.tracker.unresolved,
            consistency=self.final,
            hubspot_calls=hubspot_calls,
            databox_calls=databox_calls,
            cpu_s=cpu,
            peak_rss_bytes=rss.peak_bytes,
            rss_growth_bytes=rss.peak_bytes - rss.start_bytes,
            delivered_changes=len(visible),
            first_visible_s=min(visible.values()) if visible else None,
            last_visible_s=max(visible.values()) if visible else None,
            daily_limit=daily,
            series=self.series,
            webhooks=webhooks,
            solution_stats=stats,
        )


def _webhook_counters(hubspot: HubSpotMock) -> dict[str, int]:
    dispatcher = getattr(hubspot, "webhooks", None)
    if dispatcher is None:
        return {}
    counters = {}
    for name in ("delivered_events", "delivered_batches", "retries", "dropped_events"):
        value = getattr(dispatcher, name, None)
        if isinstance(value, int):
            counters[name] = value
        elif value is not None and hasattr(value, "__len__"):
            counters[name] = len(value)
    return counters


__all__ = ["CaseOutcome", "CaseSetup", "run_case"]
