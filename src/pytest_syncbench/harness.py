"""Run one scenario against one solution and measure what happened.

A case seeds a store, starts the mock HubSpot and mock Databox on a fresh virtual-time loop,
starts the solution, and plays the scenario's writes and faults. The case stops when every
change has reached the destination after the workload ended, or when the scenario's
deadline passes. A crash fault stops the solution with ``crash()`` and, when the fault
ends, starts a fresh instance of its class with the same context. The measurements come
from the mocks' own records (calls served, writes accepted) and the store's change
history. Only ``solution_stats`` is what the solution reports.

A case whose simulated clock stands still for ``CaseSetup.stall_limit_s`` wall seconds (a
task spinning on ``asyncio.sleep(0)``) is cancelled and recorded as failed. Exceptions in
the solution's start(), stop() and crash(), and exceptions of its tasks that nothing
retrieved, are logged and kept in the outcome's ``solution_errors``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import fakeredis
import redis.asyncio
from opentelemetry.sdk.trace import TracerProvider

from pytest_syncbench.clock import Clock
from pytest_syncbench.databox.config import DataboxConfig
from pytest_syncbench.databox.server import DataboxMock
from pytest_syncbench.fault_timeline import FaultTargets, apply_faults
from pytest_syncbench.generator import (
    SYNCED_PROPERTIES,
    generate_companies,
    generate_stream,
)
from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.hubspot.server import HubSpotMock
from pytest_syncbench.hubspot.store import Change, Store
from pytest_syncbench.loop import (
    STALL_LIMIT_S,
    ActorTasks,
    LiveTimeLoop,
    StallWatchdog,
    VirtualTimeLoop,
    as_actor,
    close_loop,
    new_case_loop,
)
from pytest_syncbench.metrics.consistency import (
    Consistency,
    compare_rows,
    from_undelivered,
)
from pytest_syncbench.metrics.delivery import DeliveryTracker
from pytest_syncbench.metrics.latency import censored_ages_s
from pytest_syncbench.metrics.reliability import reliability
from pytest_syncbench.metrics.resources import PeakRss
from pytest_syncbench.metrics.timeseries import TimeSeries
from pytest_syncbench.neighbour import run_neighbour
from pytest_syncbench.observe import CaseObserver
from pytest_syncbench.redis_backend import ConnectionFailures, open_case_client
from pytest_syncbench.scenarios import ScenarioSpec
from pytest_syncbench.solution import Delivery, Solution, SolutionContext
from pytest_syncbench.tracing import case_tracer
from pytest_syncbench.workload import apply_events

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
# Solution errors kept in the outcome; every error is counted and logged.
MAX_SOLUTION_ERRORS = 5

Progress = Callable[[str], None]


class SolutionTimeout(Exception):
    """Raised when a solution's start(), stop() or crash() does not return in time."""


class SolutionStall(Exception):
    """The simulated clock stood still while a solution method was awaited."""


@dataclass(frozen=True, slots=True)
class SolutionError:
    """One exception of the solution: where it was raised and its one-line summary."""

    # "start", "stop" or "crash": that method raised, timed out or stalled. "task": a task
    # of the solution ended with an exception nothing retrieved. "callback": a plain
    # callback of the solution raised.
    where: str
    error: str

    def as_dict(self) -> dict[str, str]:
        return {"where": self.where, "error": self.error}


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
    # Latency samples of the measured changes: the delivered ones, then the
    # ``censored_changes`` undelivered ones as their age at the end of the run.
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
    # Fresh instances of the solution started after a crash fault.
    restarts: int = 0
    # Success rate, recovery, drain, duplicates and drops; see metrics.reliability.
    reliability: dict[str, Any] = field(default_factory=dict)
    # Changes never delivered, oldest first, and the clock's epoch to date them.
    lost: list[Change] = field(default_factory=list)
    epoch_ms: int = 0
    # Measured changes never delivered; the last samples of ``latencies_s``.
    censored_changes: int = 0
    # The first MAX_SOLUTION_ERRORS exceptions of the solution, and how many there were.
    solution_errors: list[SolutionError] = field(default_factory=list)
    solution_error_count: int = 0
    # "virtual" or "live", and the live loop's speedup (1.0 on the virtual clock).
    clock_mode: str = "virtual"
    speedup: float = 1.0
    # Live only: how late each watch tick came, in simulated seconds.
    tick_lag_s: list[float] = field(default_factory=list)


@dataclass(slots=True)
class CaseSetup:
    spec: ScenarioSpec
    solution_cls: type[Solution]
    seed: int
    tier: str = "professional"
    settings: dict[str, Any] = field(default_factory=dict)
    redis_url: str | None = None
    progress: Progress | None = None
    # Wall seconds the simulated clock may stand still before the case fails as stalled.
    stall_limit_s: float = STALL_LIMIT_S
    # "virtual": the looptime clock, jumping over idle time. "live": the wall clock,
    # running ``speedup`` times faster.
    clock_mode: str = "virtual"
    speedup: float = 1.0
    # Told what happens during the case, for live metrics; see pytest_syncbench.observe.
    observers: tuple[CaseObserver, ...] = ()
    # Receives the solution's spans (``context.tracer``); None leaves tracing off.
    tracer_provider: TracerProvider | None = None


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
        loop = new_case_loop(setup.clock_mode, setup.speedup)
        run.attach(loop)
        try:
            loop.run_until_complete(run.main_task)
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
        # Changes in the store before the run: one per seeded company.
        self.seeded_changes = len(store.changes)
        self.measure_from_seq = 0 if setup.spec.measure_seed else self.seeded_changes
        self.hubspot: HubSpotMock | None = None
        self.databox: DataboxMock | None = None
        self.solution: Solution | None = None
        self.context: SolutionContext | None = None
        self.restarts = 0
        # Counters of solution instances that crashed, summed into solution_stats.
        self._crashed_stats: list[dict[str, Any]] = []
        self._neighbours: list[asyncio.Task[Any]] = []
        self.final: Consistency = Consistency()
        self._writes_seen = 0
        self.series = TimeSeries()
        self._next_sample_s = 0.0
        self._calls_seen = 0
        self._rate_limited = 0
        self._databox_calls_seen = 0
        self._databox_rate_limited = 0
        self.loop: VirtualTimeLoop | LiveTimeLoop | None = None
        # Simulated seconds each tick of the watch loop came late: only a live loop is ever
        # late, when the process cannot keep up with the speedup.
        self.tick_lag_s: list[float] = []
        self._live = setup.clock_mode == "live"
        self.main_task: asyncio.Task[None] | None = None
        # What the case awaits, named in the message of a stall: "start", "run", "stop"
        # or "teardown".
        self._phase = "start"
        # Stalls the watchdog reported, and how many of its cancellations were absorbed.
        self._stalls = 0
        self._stalls_taken = 0
        self.solution_errors: list[SolutionError] = []
        self.solution_error_count = 0
        # Commands that failed on the connection to a real Redis server (redis_url).
        self.redis_failures: ConnectionFailures | None = None
        self._solution_logger = logging.getLogger(
            f"syncbench.solution.{setup.solution_cls.name}"
        )

    def attach(self, loop: VirtualTimeLoop | LiveTimeLoop) -> None:
        """Create the case's main task on ``loop`` and watch it for stalls and errors."""
        self.loop = loop
        loop.actor_tasks = ActorTasks("solution")
        loop.watchdog = StallWatchdog(
            self.setup.stall_limit_s, self._on_stall, loop.cpu
        )
        loop.set_exception_handler(self._on_loop_exception)
        self.main_task = loop.create_task(self.main())

    async def main(self) -> None:
        self.clock.start()
        try:
            await self._run()
        except asyncio.CancelledError:
            if not self._take_stall():
                raise
        except Exception as exc:  # the case is recorded as failed, with the traceback
            self.status = "failed"
            if self.error is None:
                self.error = "".join(traceback.format_exception_only(exc)).strip()
            logger.error("case failed: %s", traceback.format_exc())
        finally:
            self.end_s = self.clock.now()
            await self._teardown()
            self._fail_on_redis_failures()
            self._notify("case_ended")
            self._report_unretrieved()
            if self.solution_error_count > MAX_SOLUTION_ERRORS:
                self._solution_logger.error(
                    "%d more errors of %s not logged",
                    self.solution_error_count - MAX_SOLUTION_ERRORS,
                    self.setup.solution_cls.name,
                )

    async def _run(self) -> None:
        setup = self.setup
        spec = setup.spec
        hubspot_config = HubSpotConfig(
            seed=setup.seed, tier=setup.tier, **dict(spec.hubspot)
        )
        databox_config = DataboxConfig(seed=setup.seed, **dict(spec.databox))
        self.hubspot = HubSpotMock(self.store, self.clock, hubspot_config)
        self.databox = DataboxMock(self.clock, databox_config)
        await as_actor("mock", self.hubspot.start())
        await as_actor("mock", self.databox.start())
        dataset = self.databox.create_dataset(DATASET_NAME, ["id"])

        self.tracker.track_existing()
        self.store.add_listener(self.tracker.track)

        client = await self._redis()
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
            tracer=case_tracer(
                setup.tracer_provider,
                self.clock,
                clock_mode=setup.clock_mode,
                scenario=spec.name,
                solution=setup.solution_cls.name,
                seed=setup.seed,
            ),
        )
        self.context = context
        await self._start_solution()
        self._phase = "run"
        self._notify("case_started")

        workload = as_actor(
            "workload", apply_events(self.store, self.clock, self.events)
        )
        targets = FaultTargets(
            hubspot=self.hubspot,
            databox=self.databox,
            crash_solution=self._crash_solution,
            restart_solution=self._restart_solution,
        )
        faults = as_actor("workload", apply_faults(self.clock, spec.faults, targets))
        for neighbour in spec.neighbours:
            self._neighbours.append(
                as_actor(
                    "workload",
                    run_neighbour(neighbour, self.hubspot.limiter, self.clock),
                )
            )
        await self._watch(workload, faults)

    async def _start_solution(self) -> None:
        """Start a fresh instance of the solution class with the run's context."""
        assert self.context is not None
        cls = self.setup.solution_cls
        self.solution = cls()
        try:
            await asyncio.wait_for(
                as_actor("solution", self.solution.start(self.context)),
                START_TIMEOUT_S,
            )
        except asyncio.CancelledError:
            if self._stalls > self._stalls_taken:
                self._record_error("start", _stall_error(cls.name, "start"))
            raise
        except TimeoutError:
            timeout = SolutionTimeout(
                f"{cls.name}.start() did not return within "
                f"{START_TIMEOUT_S:.0f} simulated seconds; start() must schedule its "
                "work as background tasks and return"
            )
            self._record_error("start", timeout)
            raise timeout from None
        except Exception as exc:
            self._record_error("start", exc)
            raise

    async def _crash_solution(self) -> None:
        solution, self.solution = self.solution, None
        if solution is None:
            return
        name = self.setup.solution_cls.name
        logger.info("crashing %s", name)
        try:
            await asyncio.wait_for(
                as_actor("solution", solution.crash()), STOP_TIMEOUT_S
            )
        except TimeoutError:
            # The teardown stops it, so that its connections are closed.
            self.solution = solution
            timeout = SolutionTimeout(
                f"{name}.crash() did not return within {STOP_TIMEOUT_S:.0f} simulated "
                "seconds; crash() must cancel the solution's work without waiting for it"
            )
            self._record_error("crash", timeout)
            raise timeout from None
        except Exception as exc:
            self._record_error("crash", exc)
            raise
        self._crashed_stats.append(_stats_of(solution))

    async def _restart_solution(self) -> None:
        logger.info("restarting %s", self.setup.solution_cls.name)
        self.restarts += 1
        await self._start_solution()

    async def _watch(
        self, workload: asyncio.Task[int], faults: asyncio.Task[None]
    ) -> None:
        spec = self.setup.spec
        due = self.clock.now()
        while True:
            await asyncio.sleep(TICK_S)
            self._feed_writes()
            now = self.clock.now()
            if self._live:
                self.tick_lag_s.append(max(0.0, now - due - TICK_S))
            due = now
            self._notify("tick")
            for task in (workload, faults, *self._neighbours):
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
        assert self.hubspot is not None and self.databox is not None
        calls = self.hubspot.calls
        self._rate_limited += _count_429(calls[self._calls_seen :])
        self._calls_seen = len(calls)
        databox_calls = self.databox.calls
        self._databox_rate_limited += _count_429(
            databox_calls[self._databox_calls_seen :]
        )
        self._databox_calls_seen = len(databox_calls)
        backlog = self.solution.backlog() if self.solution else 0
        daily = self.hubspot.config.limits.daily
        self.series.add(
            now,
            self.tracker.unresolved,
            backlog,
            len(calls),
            self._rate_limited,
            daily,
            staleness_s=self._staleness_s(now),
            databox_calls=len(databox_calls),
            databox_rate_limited=self._databox_rate_limited,
        )
        self._next_sample_s = now + SAMPLE_S

    def _staleness_s(self, now: float) -> float:
        """Return the age of the oldest change not yet visible, 0 when none is pending."""
        seq = self.tracker.oldest_unresolved_seq()
        if seq is None:
            return 0.0
        committed_ms = self.store.changes[seq].committed_ms
        # A seeded company counts from the start, as its latency does.
        committed_s = max(0.0, (committed_ms - self.clock.epoch_ms) / 1000)
        return max(0.0, now - committed_s)

    def _report(self, now: float) -> None:
        assert self.setup.progress is not None and self.hubspot is not None
        calls = len(self.hubspot.calls)
        backlog = self.solution.backlog() if self.solution else 0
        self.setup.progress(
            f"t={now:,.0f}s simulated (deadline {self.setup.spec.deadline_s:,.0f}s), "
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

    async def _redis(self) -> redis.asyncio.Redis:
        """Return the case's Redis: fakeredis, or the emptied database of ``redis_url``."""
        if self.setup.redis_url:
            self.redis_failures = ConnectionFailures()
            return await open_case_client(self.setup.redis_url, self.redis_failures)
        # A server of the case's own: without one, fakeredis registers a server per
        # address in a class-level map that keeps its sockets, and so the case, alive.
        return fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())

    def _fail_on_redis_failures(self) -> None:
        """Fail the case if a command failed on its connection to the real Redis server.

        The Redis error comes first and the case's own error, if any, follows it, because
        a solution whose Redis commands fail may fail as a consequence.
        """
        failures = self.redis_failures
        if failures is None or failures.count == 0:
            return
        assert self.setup.redis_url is not None
        message = failures.case_error(self.setup.redis_url)
        if self.error is not None:
            message += f". The case also failed with: {self.error}"
        self.status = "failed"
        self.error = message
        logger.error("case failed: %s", message)

    async def _teardown(self) -> None:
        """Stop the solution, measure the final state, and stop the mocks.

        A stall of the clock cuts the awaited step short and the teardown goes on with the
        next one, so it ends even while a task of the solution spins.
        """
        self._phase = "teardown"
        for task in self._neighbours:
            task.cancel()
        await self._guarded(asyncio.gather(*self._neighbours, return_exceptions=True))
        if self.solution is not None:
            self._phase = "stop"
            await self._stop_solution(self.solution)
            self._phase = "teardown"
        if self.databox is not None:
            self._feed_writes()
            self.final = self._consistency()
        for mock in (self.hubspot, self.databox):
            if mock is not None:
                await self._guarded(as_actor("mock", mock.stop()))
        redis_client = getattr(self, "redis", None)
        if redis_client is not None:
            await self._guarded(redis_client.aclose())

    async def _stop_solution(self, solution: Solution) -> None:
        name = self.setup.solution_cls.name
        try:
            await asyncio.wait_for(
                as_actor("solution", solution.stop()), STOP_TIMEOUT_S
            )
        except asyncio.CancelledError:
            if not self._take_stall():
                raise
            self._record_error("stop", _stall_error(name, "stop"))
        except TimeoutError:
            timeout = SolutionTimeout(
                f"{name}.stop() did not return within {STOP_TIMEOUT_S:.0f} simulated "
                "seconds; stop() must cancel the solution's tasks and return"
            )
            self._record_error("stop", timeout)
        except Exception as exc:
            self._record_error("stop", exc)

    async def _guarded(self, step: Awaitable[Any]) -> None:
        """Await a teardown step unless a stall of the clock cuts it short."""
        try:
            await step
        except asyncio.CancelledError:
            if not self._take_stall():
                raise

    # -- stalls and errors -----------------------------------------------------------------

    def _on_stall(self) -> None:
        """Fail the case and cancel its main task, as the watchdog's reaction to a stall."""
        assert self.loop is not None and self.main_task is not None
        self._stalls += 1
        message = self._stall_message()
        logger.error("case stalled: %s", message)
        if self.error is None:
            self.status = "failed"
            self.error = message
        if not self.main_task.done():
            self.main_task.cancel()

    def _stall_message(self) -> str:
        assert self.loop is not None and self.loop.watchdog is not None
        name = self.setup.solution_cls.name
        actor = self.loop.watchdog.busiest_actor()
        owner = name if actor in (None, "solution") else f"the {actor}"
        during = {
            "start": f"while {name}.start() was awaited",
            "stop": f"while {name}.stop() was awaited",
            "teardown": "during the teardown",
        }.get(self._phase, "during the run")
        return (
            f"simulated time stood still for {self.setup.stall_limit_s:g} s of wall "
            f"time {during}: a task of {owner} runs without awaiting a timer or I/O "
            "(for example `await asyncio.sleep(0)` in a loop). Await asyncio.sleep(d) "
            "with d > 0, or an event, instead"
        )

    def _take_stall(self) -> bool:
        """Absorb the watchdog's cancellations of the main task, or return False."""
        if self._stalls == self._stalls_taken:
            return False
        self._stalls_taken = self._stalls
        assert self.main_task is not None
        while self.main_task.cancelling():
            self.main_task.uncancel()
        return True

    def _record_error(
        self, where: str, exc: BaseException, source: str | None = None
    ) -> None:
        """Count an exception of the solution, and keep and log the first ones.

        ``source`` names what raised in the log line; it defaults to the method
        ``where`` names.
        """
        self.solution_error_count += 1
        if self.solution_error_count > MAX_SOLUTION_ERRORS:
            return
        summary = _one_line(exc)
        self.solution_errors.append(SolutionError(where, summary))
        if source is None:
            source = f"{self.setup.solution_cls.name}.{where}()"
        self._solution_logger.error(
            "%s failed: %s",
            source,
            summary,
            exc_info=exc if exc.__traceback__ is not None else None,
        )

    def _on_loop_exception(
        self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]
    ) -> None:
        """Record an exception of the solution's tasks or callbacks; pass on the rest."""
        assert self.loop is not None
        exception = context.get("exception")
        future = context.get("future") or context.get("task")
        tracked = self.loop.actor_tasks
        from_task = future is not None and tracked is not None and future in tracked
        from_callback = (
            "handle" in context and self.loop.failed_callback_actor == "solution"
        )
        self.loop.failed_callback_actor = None
        if not isinstance(exception, BaseException) or not (from_task or from_callback):
            loop.default_exception_handler(context)
            return
        name = self.setup.solution_cls.name
        if from_task:
            assert isinstance(future, asyncio.Task)
            source = f"task {_describe_task(future)} of {name}"
            self._record_error("task", exception, source)
        else:
            self._record_error("callback", exception, f"a callback of {name}")

    def _report_unretrieved(self) -> None:
        """Pass each exception of a solution task that nothing retrieved to the handler."""
        assert self.loop is not None
        tracked = self.loop.actor_tasks
        if tracked is None:
            return
        for task, exception in tracked.take_unretrieved():
            self.loop.call_exception_handler(
                {
                    "message": "Task exception was never retrieved",
                    "exception": exception,
                    "future": task,
                }
            )

    def _notify(self, event: str) -> None:
        """Call ``event`` on every observer; an observer's error is logged, not raised."""
        for observer in self.setup.observers:
            try:
                getattr(observer, event)(self)
            except Exception:  # an observer must not end the case it watches
                logger.exception("observer %r failed in %s", observer, event)

    def consistency_now(self) -> Consistency:
        """Compare the destination with HubSpot as they stand now."""
        self._feed_writes()
        return self._consistency()

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
        measured = len(self.store.changes) - self.measure_from_seq
        hubspot_calls = list(self.hubspot.calls) if self.hubspot else []
        databox_calls = list(self.databox.calls) if self.databox else []
        webhooks = {}
        if self.hubspot is not None:
            webhooks = _webhook_counters(self.hubspot)
        stats = _merge_stats([*self._crashed_stats, _stats_of(self.solution)])
        daily = None
        if self.hubspot is not None:
            daily = self.hubspot.config.limits.daily
        restarts = self.restarts
        reliability_fields = self._reliability(
            hubspot_calls, databox_calls, webhooks, restarts
        )
        # A converged run ends at the last delivery (or the end of the workload, if later),
        # not at the tick that noticed it.
        end_s = self.end_s
        if self.status == "converged":
            end_s = max(
                self.setup.spec.workload_end_s, max(visible.values(), default=0.0)
            )
        lost = self.tracker.unresolved_changes()
        # A change never delivered takes part in the statistics with its age at the end of
        # the run, a lower bound of its latency.
        censored = censored_ages_s(
            lost, self.measure_from_seq, self.clock.epoch_ms, end_s
        )
        latencies = self.tracker.latencies_s(self.measure_from_seq) + censored
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
            restarts=restarts,
            reliability=reliability_fields,
            lost=lost,
            epoch_ms=self.clock.epoch_ms,
            censored_changes=len(censored),
            solution_errors=list(self.solution_errors),
            solution_error_count=self.solution_error_count,
            clock_mode=self.setup.clock_mode,
            speedup=self.setup.speedup if self._live else 1.0,
            tick_lag_s=list(self.tick_lag_s),
        )

    def _reliability(
        self,
        hubspot_calls: list[Any],
        databox_calls: list[Any],
        webhooks: dict[str, int],
        restarts: int,
    ) -> dict[str, Any]:
        spec = self.setup.spec
        start_ms = self.clock.epoch_ms
        committed_s = [(c.committed_ms - start_ms) / 1000 for c in self.store.changes]
        fault_end_s = max((f.end_s for f in spec.faults), default=None)
        wrote = spec.streams and len(committed_s) > self.seeded_changes
        return reliability(
            committed_s=committed_s,
            visible_s=self.tracker.visible_s,
            fault_end_s=fault_end_s,
            last_write_s=committed_s[-1] if wrote else None,
            hubspot_calls=hubspot_calls,
            databox_calls=databox_calls,
            webhooks=webhooks,
            stored_twice=self.final.duplicated,
            restarts=restarts,
        )


def _stall_error(name: str, method: str) -> SolutionStall:
    return SolutionStall(
        f"{name}.{method}() did not return: the simulated clock stood still"
    )


def _one_line(exc: BaseException) -> str:
    """Return the exception's type and the first line of its message."""
    lines = str(exc).splitlines()
    name = type(exc).__name__
    return f"{name}: {lines[0]}" if lines else name


def _describe_task(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    qualname = getattr(coro, "__qualname__", None)
    return f"{task.get_name()} ({qualname})" if qualname else task.get_name()


def _count_429(calls: list[Any]) -> int:
    return sum(1 for call in calls if call.status == 429)


def _stats_of(solution: Solution | None) -> dict[str, Any]:
    return dict(getattr(solution, "stats", {}) or {})


def _merge_stats(instances: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum the numeric counters of every instance the run started; keep the last others."""
    merged: dict[str, Any] = {}
    for stats in instances:
        for name, value in stats.items():
            previous = merged.get(name)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if numeric and isinstance(previous, int | float):
                merged[name] = previous + value
            else:
                merged[name] = value
    return merged


def _webhook_counters(hubspot: HubSpotMock) -> dict[str, int]:
    dispatcher = getattr(hubspot, "webhooks", None)
    if dispatcher is None:
        return {}
    counters = {}
    names = (
        "delivered_events",
        "delivered_batches",
        "retries",
        "dropped_events",
        "redelivered_events",
    )
    for name in names:
        value = getattr(dispatcher, name, None)
        if isinstance(value, int):
            counters[name] = value
        elif value is not None and hasattr(value, "__len__"):
            counters[name] = len(value)
    return counters


__all__ = ["CaseOutcome", "CaseSetup", "run_case"]
