"""Start and end a scenario's faults on the simulated timeline.

Each fault starts at ``start_s`` and ends at ``end_s`` independently of the others, so
faults may overlap. Faults that set one mode of the same mock (a HubSpot outage, a
Databox outage) stack: the mode of the latest started fault still active applies, and the
mock recovers when the last one ends. Added latencies add up, the largest active search
lag applies, and overlapping crashes keep the solution down until the last one ends.

The faults act on the mocks through their own knobs:

- HubSpot refused and 503: :meth:`HubSpotMock.set_outage`.
- HubSpot timeout and 429 storm: a :class:`FaultRule` for the window.
- HubSpot latency: the config's read, write and search latencies, which the mock reads
  on every request.
- Search lag spike: :attr:`SearchIndex.lag_spike_s`, applied to writes committed while
  it is set.
- Webhook outage: :attr:`WebhookDispatcher.receiver_unreachable`.
- Databox refused, 503 and 429: :meth:`DataboxMock.set_outage`.
- Solution crash: the harness's crash and restart callbacks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from pytest_syncbench.clock import Clock
from pytest_syncbench.databox.server import DataboxMock
from pytest_syncbench.databox.server import OutageMode as DataboxMode
from pytest_syncbench.hubspot.faults import TIMEOUT, FaultRule
from pytest_syncbench.hubspot.server import HubSpotMock
from pytest_syncbench.hubspot.server import OutageMode as HubSpotMode
from pytest_syncbench.scenarios import Fault, FaultKind

logger = logging.getLogger(__name__)

LATENCY_FIELDS = ("read_latency_s", "write_latency_s", "search_latency_s")

_HUBSPOT_MODES: dict[FaultKind, HubSpotMode] = {
    FaultKind.HUBSPOT_REFUSED: "refused",
    FaultKind.HUBSPOT_503: "503",
}
_DATABOX_MODES: dict[FaultKind, DataboxMode] = {
    FaultKind.DATABOX_REFUSED: "refused",
    FaultKind.DATABOX_503: "503",
    FaultKind.DATABOX_429: "429",
}


@dataclass(slots=True)
class FaultTargets:
    """Targets of the faults: the two mocks and the harness's solution lifecycle."""

    hubspot: HubSpotMock
    databox: DataboxMock
    # Kill the running solution without a graceful stop.
    crash_solution: Callable[[], Awaitable[None]]
    # Start a fresh instance of the solution with the same context.
    restart_solution: Callable[[], Awaitable[None]]


async def apply_faults(
    clock: Clock, faults: Sequence[Fault], targets: FaultTargets
) -> None:
    """Start and end each fault at its time; return when the last one has ended.

    At one instant, ends are applied before starts, in the order the faults are given.
    """
    steps: list[tuple[float, int, int, Fault]] = []
    for index, fault in enumerate(faults):
        steps.append((fault.start_s, 1, index, fault))
        steps.append((fault.end_s, 0, index, fault))
    steps.sort(key=lambda step: step[:3])
    state = _ActiveFaults(targets)
    for at_s, is_start, index, fault in steps:
        delay = at_s - clock.now()
        if delay > 0:
            await asyncio.sleep(delay)
        if is_start:
            logger.info(
                "fault %s starts at %.0fs for %.0fs",
                fault.kind.value,
                fault.start_s,
                fault.duration_s,
            )
            await state.start(index, fault)
        else:
            await state.end(index, fault)
            logger.info("fault %s ends at %.0fs", fault.kind.value, fault.end_s)


class _ActiveFaults:
    """The faults in force, and how they combine on each target."""

    def __init__(self, targets: FaultTargets) -> None:
        self.targets = targets
        # Outage modes in force, by fault index, in the order the faults started.
        self._hubspot_modes: list[tuple[int, HubSpotMode]] = []
        self._databox_modes: list[tuple[int, DataboxMode]] = []
        self._rules: dict[int, FaultRule] = {}
        self._added_latency: dict[int, float] = {}
        self._base_latency: dict[str, float] = {}
        self._search_lags: dict[int, float] = {}
        self._webhook_outages: set[int] = set()
        self._crashes: set[int] = set()

    async def start(self, index: int, fault: Fault) -> None:
        kind = fault.kind
        if kind in _HUBSPOT_MODES:
            self._hubspot_modes.append((index, _HUBSPOT_MODES[kind]))
            await self._set_hubspot_mode()
        elif kind in _DATABOX_MODES:
            self._databox_modes.append((index, _DATABOX_MODES[kind]))
            await self._set_databox_mode()
        elif kind is FaultKind.HUBSPOT_TIMEOUT or kind is FaultKind.HUBSPOT_429_STORM:
            self._rules[index] = self.targets.hubspot.faults.add(_rule_for(fault))
        elif kind is FaultKind.HUBSPOT_LATENCY:
            self._added_latency[index] = float(fault.params["added_s"])
            self._set_latency()
        elif kind is FaultKind.SEARCH_LAG_SPIKE:
            self._search_lags[index] = float(fault.params["lag_s"])
            self._set_search_lag()
        elif kind is FaultKind.WEBHOOK_OUTAGE:
            self._webhook_outages.add(index)
            self.targets.hubspot.webhooks.receiver_unreachable = True
        elif kind is FaultKind.SOLUTION_CRASH:
            self._crashes.add(index)
            if len(self._crashes) == 1:
                await self.targets.crash_solution()
        else:
            raise AssertionError(f"unhandled fault kind {kind!r}")

    async def end(self, index: int, fault: Fault) -> None:
        kind = fault.kind
        if kind in _HUBSPOT_MODES:
            self._hubspot_modes = [m for m in self._hubspot_modes if m[0] != index]
            await self._set_hubspot_mode()
        elif kind in _DATABOX_MODES:
            self._databox_modes = [m for m in self._databox_modes if m[0] != index]
            await self._set_databox_mode()
        elif kind is FaultKind.HUBSPOT_TIMEOUT or kind is FaultKind.HUBSPOT_429_STORM:
            self.targets.hubspot.faults.remove(self._rules.pop(index))
        elif kind is FaultKind.HUBSPOT_LATENCY:
            del self._added_latency[index]
            self._set_latency()
        elif kind is FaultKind.SEARCH_LAG_SPIKE:
            del self._search_lags[index]
            self._set_search_lag()
        elif kind is FaultKind.WEBHOOK_OUTAGE:
            self._webhook_outages.discard(index)
            if not self._webhook_outages:
                self.targets.hubspot.webhooks.receiver_unreachable = False
        elif kind is FaultKind.SOLUTION_CRASH:
            self._crashes.discard(index)
            if not self._crashes:
                await self.targets.restart_solution()

    async def _set_hubspot_mode(self) -> None:
        modes = self._hubspot_modes
        await self.targets.hubspot.set_outage(modes[-1][1] if modes else None)

    async def _set_databox_mode(self) -> None:
        modes = self._databox_modes
        await self.targets.databox.set_outage(modes[-1][1] if modes else None)

    def _set_latency(self) -> None:
        config = self.targets.hubspot.config
        if not self._base_latency:
            self._base_latency = {
                name: getattr(config, name) for name in LATENCY_FIELDS
            }
        added = sum(self._added_latency.values())
        for name, base in self._base_latency.items():
            setattr(config, name, base + added)
        if not self._added_latency:
            # Back to the exact values the faults started from.
            self._base_latency = {}

    def _set_search_lag(self) -> None:
        lags = self._search_lags.values()
        self.targets.hubspot.search_index.lag_spike_s = max(lags, default=None)


def _rule_for(fault: Fault) -> FaultRule:
    start_ms = round(fault.start_s * 1000)
    end_ms = round(fault.end_s * 1000)
    if fault.kind is FaultKind.HUBSPOT_TIMEOUT:
        hold_s = float(fault.params["hold_s"])
        return FaultRule(TIMEOUT, start_ms=start_ms, end_ms=end_ms, hold_s=hold_s)
    endpoint = str(fault.params["endpoint"])
    return FaultRule(429, endpoint=endpoint, start_ms=start_ms, end_ms=end_ms)
