"""The virtual-time event loop scenarios run on, with CPU time charged per actor.

Time: the loop is a ``looptime`` loop, so its clock jumps to the next timer whenever every
task waits and no socket is ready. Everything of a scenario (mock servers, solutions, the
workload) must run on this one loop: a second loop or a thread would not see the jumps.
Real sockets on 127.0.0.1 stay correct because loopback delivery completes inside the
sending system call, so a response is readable before the loop next looks for idle time;
looptime still polls the sockets a few times (:data:`NOOP_CYCLES`) before it moves the clock.

CPU: every callback the loop runs is timed with ``time.thread_time()`` and charged to the
actor named by the :data:`ACTOR` context variable of the context it runs in. Tasks inherit
the context they were created in, and so do the socket callbacks of the servers they start,
so starting the mocks under ``"mock"`` and the solution under ``"solution"`` splits the
process's CPU time between them. Time spent between callbacks (the selector, the loop's own
bookkeeping) is charged to ``"loop"``.

Live time: :class:`LiveTimeLoop` is a plain selector loop whose clock is the wall clock
times a speedup, for runs that are watched as they happen. It moves on its own, so nothing
of the above about jumps applies, and the CPU time every callback takes is stretched by the
speedup in the loop's time.

Stalls: a task that awaits only ``asyncio.sleep(0)``, or anything else that never waits on a
timer or a socket, keeps callbacks ready on every cycle, so looptime never moves the clock
and no simulated timeout can fire. A :class:`StallWatchdog` set on the loop notices that
from the wall clock. A callback that never returns blocks the loop itself, and no check on
the loop can notice it.

Errors: the tasks one actor starts can be kept in an :class:`ActorTasks`, so that an
exception no one retrieved is found when the run ends instead of when the task is garbage
collected, which may be never.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math
import selectors
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import aiohttp.web_app
import looptime

T = TypeVar("T")

logger = logging.getLogger(__name__)

DEFAULT_ACTOR = "harness"
ACTOR: contextvars.ContextVar[str] = contextvars.ContextVar(
    "syncbench_actor", default=DEFAULT_ACTOR
)

# Simulated seconds the loop may sit with nothing scheduled and no socket ready before the
# run is declared stuck. The harness's watch loop keeps a timer pending during a case, so
# reaching this means a task waits on something that can never happen.
IDLE_TIMEOUT_S = 600.0

# Idle polls of the sockets before the clock may jump. looptime defaults to 42, to give
# chains of awaits on timers a chance to run. Here every socket peer is in this process on
# loopback, where a sent byte is readable as soon as send() returns, so a few polls suffice
# and each jump is cheaper. The determinism tests guard this choice.
NOOP_CYCLES = 4

# Wall seconds the simulated clock may stand still while callbacks keep running before the
# loop counts as stalled. Between two moves of the clock the loop only runs the callbacks
# due at one simulated instant: at most 0.1 wall seconds in the smoke-scale bulk, burst
# and scale cases, measured on a 2-core machine.
# NOTE: the gaps at default and full scale, where one step may go through a whole store,
# were not measured; they are expected to stay far below this limit.
STALL_LIMIT_S = 60.0


class CpuLedger:
    """CPU seconds per actor, as measured around each loop callback."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def charge(self, actor: str, seconds: float) -> None:
        self.seconds[actor] += seconds

    def snapshot(self) -> dict[str, float]:
        return dict(self.seconds)


class StallWatchdog:
    """Calls ``on_stall`` when the loop's clock has not moved for ``limit_s`` wall seconds.

    The loop calls :meth:`check` after every cycle. While the clock does not move,
    ``on_stall`` is called again every ``limit_s`` wall seconds, so a stall that outlasts
    the first reaction is reported again. ``on_stall`` runs on the loop's thread and may
    be replaced at any time.
    """

    def __init__(
        self,
        limit_s: float,
        on_stall: Callable[[], None],
        cpu: CpuLedger | None = None,
    ) -> None:
        if limit_s <= 0:
            raise ValueError(f"invalid stall limit {limit_s!r}: expected seconds > 0")
        self.limit_s = limit_s
        self.on_stall = on_stall
        self.stalls = 0
        self._cpu = cpu
        self._clock_s: float | None = None
        self._since = time.monotonic()
        self._cpu_at_move: dict[str, float] = {}

    def check(self, clock_s: float) -> None:
        """Note the loop's clock after a cycle and call ``on_stall`` if it stood still."""
        if clock_s != self._clock_s:
            self._clock_s = clock_s
            self._since = time.monotonic()
            if self._cpu is not None:
                self._cpu_at_move = self._cpu.snapshot()
            return
        if time.monotonic() - self._since < self.limit_s:
            return
        self._since = time.monotonic()
        self.stalls += 1
        self.on_stall()

    def busiest_actor(self) -> str | None:
        """Return the actor charged the most CPU time since the clock last moved."""
        if self._cpu is None:
            return None
        now = self._cpu.snapshot()
        grown = {
            actor: seconds - self._cpu_at_move.get(actor, 0.0)
            for actor, seconds in now.items()
        }
        return max(grown, key=grown.__getitem__, default=None)


class ActorTasks:
    """The tasks one actor created, kept until they end without an unread exception.

    A task that ends with an exception no one retrieved (by awaiting it or calling
    ``result()`` or ``exception()``) is kept, so :meth:`take_unretrieved` finds it when the
    run ends. Every other task is dropped once it is done.
    """

    def __init__(self, actor: str) -> None:
        self.actor = actor
        self._tasks: list[asyncio.Task[Any]] = []
        self._prune_at = 1024

    def add(self, task: asyncio.Task[Any]) -> None:
        self._tasks.append(task)
        if len(self._tasks) >= self._prune_at:
            self._tasks = [t for t in self._tasks if not t.done() or _unretrieved(t)]
            # Doubling the threshold keeps the pruning cost constant per added task.
            self._prune_at = max(1024, 2 * len(self._tasks))

    def __contains__(self, task: object) -> bool:
        return any(t is task for t in self._tasks)

    def take_unretrieved(self) -> list[tuple[asyncio.Task[Any], BaseException]]:
        """Return the ended tasks whose exception no one retrieved, and retrieve it.

        Retrieving it keeps asyncio from logging the exception a second time when the task
        is garbage collected.
        """
        failed = []
        for task in self._tasks:
            if task.done() and _unretrieved(task):
                exception = task.exception()
                assert exception is not None
                failed.append((task, exception))
        return failed


def _unretrieved(task: asyncio.Task[Any]) -> bool:
    """Return whether ``task`` ended with an exception that no one retrieved.

    NOTE: ``_log_traceback`` is the private flag asyncio's Future keeps for this (C and
    Python implementation, checked on CPython 3.11). No public method reads it without
    clearing it.
    """
    return bool(getattr(task, "_log_traceback", False))


class _CpuAccountingMixin(asyncio.BaseEventLoop):
    cpu: CpuLedger
    # The actor whose callback raised last; read by the exception handler, which asyncio
    # calls right after the callback raised, outside the callback's context.
    failed_callback_actor: str | None = None

    def _timed(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        ledger = self.cpu

        def run(*args: Any) -> Any:
            start = time.thread_time()
            try:
                return callback(*args)
            except BaseException:
                self.failed_callback_actor = ACTOR.get()
                raise
            finally:
                ledger.charge(ACTOR.get(), time.thread_time() - start)

        return run

    def call_soon(
        self, callback: Any, *args: Any, context: Any = None
    ) -> asyncio.Handle:
        return super().call_soon(self._timed(callback), *args, context=context)

    def call_at(
        self, when: float, callback: Any, *args: Any, context: Any = None
    ) -> asyncio.TimerHandle:
        return super().call_at(when, self._timed(callback), *args, context=context)

    def _add_reader(self, fd: Any, callback: Any, *args: Any) -> Any:
        return super()._add_reader(fd, self._timed(callback), *args)  # type: ignore[misc]

    def _add_writer(self, fd: Any, callback: Any, *args: Any) -> Any:
        return super()._add_writer(fd, self._timed(callback), *args)  # type: ignore[misc]


class _CaseLoopMixin(_CpuAccountingMixin):
    """Task tracking per actor and the stall watchdog, shared by both kinds of loop."""

    watchdog: StallWatchdog | None
    actor_tasks: ActorTasks | None

    def _init_case_loop(self) -> None:
        self.cpu = CpuLedger()
        self.watchdog = None
        self.actor_tasks = None

    def create_task(self, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        task = super().create_task(coro, **kwargs)
        tracked = self.actor_tasks
        if tracked is not None:
            context = kwargs.get("context")
            actor = (
                ACTOR.get() if context is None else context.get(ACTOR, DEFAULT_ACTOR)
            )
            if actor == tracked.actor:
                tracked.add(task)
        return task

    def _run_once(self) -> None:
        # NOTE: BaseEventLoop._run_once is private. It runs one cycle of the loop
        # (checked on CPython 3.11), and looptime relies on the same structure.
        super()._run_once()  # type: ignore[misc]
        if self.watchdog is not None:
            self.watchdog.check(self.time())


class VirtualTimeLoop(
    _CaseLoopMixin, looptime.LoopTimeEventLoop, asyncio.SelectorEventLoop
):
    """A selector loop with looptime's clock and per-actor CPU accounting.

    ``watchdog``, when set, is checked after every cycle. ``actor_tasks``, when set, keeps
    every task created in a context whose actor is ``actor_tasks.actor``.
    """

    clock_mode = "virtual"

    def __init__(self) -> None:
        self._init_case_loop()
        super().__init__(idle_timeout=IDLE_TIMEOUT_S, noop_cycles=NOOP_CYCLES)


class _CompressedSelector(selectors.BaseSelector):
    """A selector whose waits are ``speedup`` times shorter than asked.

    The event loop computes how long to wait from its own clock, which runs ``speedup``
    times faster than the wall clock, so the wait in wall seconds is that divided by
    ``speedup``.
    """

    def __init__(self, inner: selectors.BaseSelector, speedup: float) -> None:
        self._inner = inner
        self._speedup = speedup

    def register(
        self, fileobj: Any, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(
        self, fileobj: Any, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def select(
        self, timeout: float | None = None
    ) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is not None and timeout > 0:
            timeout /= self._speedup
        return self._inner.select(timeout)

    def close(self) -> None:
        self._inner.close()

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.get_key(fileobj)

    def get_map(self) -> Any:
        return self._inner.get_map()


class LiveTimeLoop(_CaseLoopMixin, asyncio.SelectorEventLoop):
    """A selector loop on the wall clock, running ``speedup`` times faster.

    Its time is the monotonic wall clock since the loop was made, times ``speedup``: a
    timer due in 60 loop seconds fires after one wall second at a speedup of 60. Work does
    not get faster, so every wall second the loop spends running callbacks counts as
    ``speedup`` seconds of its time.
    """

    clock_mode = "live"

    def __init__(self, speedup: float) -> None:
        valid = math.isfinite(speedup) and speedup > 0
        self._init_case_loop()
        self.speedup = speedup if valid else 1.0
        self._wall_origin = time.monotonic()
        super().__init__(_CompressedSelector(selectors.DefaultSelector(), self.speedup))
        if not valid:
            # Closed here, since a loop that was never closed complains when collected.
            self.close()
            raise ValueError(f"invalid speedup {speedup!r}: expected a number > 0")

    def time(self) -> float:
        return (time.monotonic() - self._wall_origin) * self.speedup


def new_virtual_loop() -> VirtualTimeLoop:
    return VirtualTimeLoop()


def new_case_loop(clock_mode: str, speedup: float) -> VirtualTimeLoop | LiveTimeLoop:
    """Return a loop for one case: ``"virtual"`` time or ``"live"`` wall time."""
    if clock_mode == "virtual":
        return VirtualTimeLoop()
    if clock_mode == "live":
        return LiveTimeLoop(speedup)
    raise ValueError(f"unknown clock mode {clock_mode!r}: expected virtual or live")


def run_virtual(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``factory()`` to completion on a fresh virtual-time loop and close the loop."""
    loop = new_virtual_loop()
    try:
        return loop.run_until_complete(factory())
    finally:
        close_loop(loop)


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is still running on ``loop``, let it finish, and close the loop.

    On a loop with a :class:`StallWatchdog`, a task that ignores its cancellation and keeps
    the clock from moving is left unfinished once the watchdog reports the stall, and a
    warning names it.
    """
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(_wait_cancelled(loop, pending))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
    forget_aiohttp_apps()


def forget_aiohttp_apps() -> None:
    """Drop aiohttp's cache of middleware chains, which keeps every served app alive.

    NOTE: aiohttp 3.10.6 and later cache each built middleware chain in
    ``aiohttp.web_app._cached_build_middleware``, an ``lru_cache`` of 1,024 entries keyed by
    the handler and the apps (checked in aiohttp 3.14). A mock's handler and app reach its
    store and its loop, so without this every case's store of companies stayed in memory.
    """
    cache = getattr(aiohttp.web_app, "_cached_build_middleware", None)
    if cache is not None and hasattr(cache, "cache_clear"):
        cache.cache_clear()


async def _wait_cancelled(
    loop: asyncio.AbstractEventLoop, pending: list[asyncio.Task[Any]]
) -> None:
    gathered = asyncio.gather(*pending, return_exceptions=True)
    watchdog = getattr(loop, "watchdog", None)
    if watchdog is None:
        await gathered
        return
    stalled = loop.create_future()

    def give_up() -> None:
        if not stalled.done():
            stalled.set_result(None)

    watchdog.on_stall = give_up
    live = isinstance(loop, LiveTimeLoop)
    if live:
        # The live clock always moves, so the watchdog never reports a stall there. A task
        # that ignores its cancellation is given up after the same wall time instead.
        loop.call_later(watchdog.limit_s * loop.speedup, give_up)
    await asyncio.wait([gathered, stalled], return_when=asyncio.FIRST_COMPLETED)
    if gathered.done():
        return
    running = [t for t in pending if not t.done()]
    reason = (
        f"still ran {watchdog.limit_s:g} wall seconds later"
        if live
        else "kept the simulated clock from moving"
    )
    logger.warning(
        "closing the loop with %d task(s) that ignored cancellation and %s: %s",
        len(running),
        reason,
        ", ".join(_describe(task) for task in running),
    )


def _describe(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    name = getattr(coro, "__qualname__", None) or repr(coro)
    return f"{task.get_name()} ({name})"


def as_actor(actor: str, awaitable: Awaitable[T]) -> asyncio.Task[T]:
    """Run ``awaitable`` as a task whose work, and that of its children, is charged to ``actor``."""
    context = contextvars.copy_context()
    context.run(ACTOR.set, actor)

    async def wrapper() -> T:
        return await awaitable

    return asyncio.get_running_loop().create_task(wrapper(), context=context)
