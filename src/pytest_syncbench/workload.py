"""Drive a scenario's writes and faults on the simulated timeline."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from pytest_syncbench.clock import Clock
from pytest_syncbench.generator import EventKind, WorkloadEvent
from pytest_syncbench.hubspot.store import CompanyNotFound, Store
from pytest_syncbench.scenarios import Fault, FaultKind

logger = logging.getLogger(__name__)

OutageSetter = Callable[[str | None], Awaitable[None]]


async def _sleep_until(clock: Clock, at_s: float) -> None:
    delay = at_s - clock.now()
    if delay > 0:
        await asyncio.sleep(delay)


async def apply_events(
    store: Store, clock: Clock, events: Sequence[WorkloadEvent]
) -> int:
    """Apply each event to the store at its time; return how many changed the store.

    Events that share a timestamp are applied in one step, so they also share one commit
    millisecond, as a bulk update or an import does in HubSpot.
    """
    applied = 0
    for event in events:
        await _sleep_until(clock, event.at_s)
        try:
            if event.kind is EventKind.CREATE:
                store.create(event.properties)
            elif event.kind is EventKind.ARCHIVE:
                assert event.company_id is not None
                store.archive(event.company_id)
            else:
                assert event.company_id is not None
                if store.update(event.company_id, event.properties) is None:
                    continue
        except CompanyNotFound:
            # The stream was drawn against the same store, so this only happens when a
            # user-supplied stream addresses a company that is gone. Skip it and log a warning.
            logger.warning(
                "workload skipped %s of missing company %s",
                event.kind.value,
                event.company_id,
            )
            continue
        applied += 1
    return applied


async def apply_faults(
    clock: Clock, faults: Sequence[Fault], set_outage: OutageSetter
) -> None:
    """Start and end each fault at its time on the simulated timeline."""
    modes = {FaultKind.HUBSPOT_REFUSED: "refused", FaultKind.HUBSPOT_503: "503"}
    for fault in sorted(faults, key=lambda f: f.start_s):
        await _sleep_until(clock, fault.start_s)
        logger.info(
            "fault %s starts at %.0fs for %.0fs",
            fault.kind.value,
            fault.start_s,
            fault.duration_s,
        )
        await set_outage(modes[fault.kind])
        await _sleep_until(clock, fault.end_s)
        await set_outage(None)
        logger.info("fault %s ends at %.0fs", fault.kind.value, fault.end_s)
