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
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import looptime

T = TypeVar("T")

ACTOR: contextvars.ContextVar[str] = contextvars.ContextVar(
    "syncbench_actor", default="harness"
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


class CpuLedger:
    """CPU seconds per actor, as measured around each loop callback."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def charge(self, actor: str, seconds: float) -> None:
        self.seconds[actor] += seconds

    def snapshot(self) -> dict[str, float]:
        return dict(self.seconds)


class _CpuAccountingMixin(asyncio.BaseEventLoop):
    cpu: CpuLedger

    def _timed(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        ledger = self.cpu

        def run(*args: Any) -> Any:
            start = time.thread_time()
            try:
                return callback(*args)
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


class VirtualTimeLoop(
    _CpuAccountingMixin, looptime.LoopTimeEventLoop, asyncio.SelectorEventLoop
):
    """A selector loop with looptime's clock and per-actor CPU accounting."""

    def __init__(self) -> None:
        self.cpu = CpuLedger()
        super().__init__(idle_timeout=IDLE_TIMEOUT_S, noop_cycles=NOOP_CYCLES)


def new_virtual_loop() -> VirtualTimeLoop:
    return VirtualTimeLoop()


def run_virtual(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``factory()`` to completion on a fresh virtual-time loop and close the loop."""
    loop = new_virtual_loop()
    try:
        return loop.run_until_complete(factory())
    finally:
        close_loop(loop)


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is still running on ``loop``, let it finish, and close the loop."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


def as_actor(actor: str, awaitable: Awaitable[T]) -> asyncio.Task[T]:
    """Run ``awaitable`` as a task whose work, and that of its children, is charged to ``actor``."""
    context = contextvars.copy_context()
    context.run(ACTOR.set, actor)

    async def wrapper() -> T:
        return await awaitable

    return asyncio.get_running_loop().create_task(wrapper(), context=context)
