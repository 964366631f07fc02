"""Drive a scenario's writes on the simulated timeline; fault_timeline drives faults."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from pytest_syncbench.clock import Clock
from pytest_syncbench.generator import EventKind, WorkloadEvent
from pytest_syncbench.hubspot.store import CompanyNotFound, Store

logger = logging.getLogger(__name__)


async def _sleep_until(clock: Clock, at_s: float) -> None:
    delay = at_s - clock.now()
    if delay > 0:
        await asyncio.sleep(delay)


async def apply_events(
    store: Store, clock: Clock, events: Sequence[WorkloadEvent]
) -> int:
    """Apply each event to the store at its time; return how many changed the store.

    Events that share a timestamp are applied in one step, with no await between them,
    so they also share one commit millisecond, as a bulk update or an import does in
    HubSpot. ``events`` must be sorted by time.
    """
    applied = 0
    index = 0
    while index < len(events):
        at_s = events[index].at_s
        await _sleep_until(clock, at_s)
        while index < len(events) and events[index].at_s == at_s:
            applied += apply_event(store, events[index])
            index += 1
    return applied


def apply_event(store: Store, event: WorkloadEvent) -> bool:
    """Apply one event to the store now; return whether it changed the store."""
    try:
        if event.kind is EventKind.CREATE:
            store.create(event.properties)
        elif event.kind is EventKind.ARCHIVE:
            store.archive(_company(event))
        elif event.kind is EventKind.MERGE:
            if event.primary_id is None:
                raise ValueError(
                    f"merge event at {event.at_s}s of company {event.company_id} has "
                    "no primary_id: set the id of the company it merges into"
                )
            store.merge(event.primary_id, _company(event))
        elif store.update(_company(event), event.properties) is None:
            return False
    except CompanyNotFound:
        # The stream was drawn against the same store, so this only happens when a
        # user-supplied stream addresses a company that is gone. Skip it and log a warning.
        logger.warning(
            "workload skipped %s of missing company %s",
            event.kind.value,
            event.company_id,
        )
        return False
    return True


def _company(event: WorkloadEvent) -> int:
    if event.company_id is None:
        raise ValueError(
            f"{event.kind.value} event at {event.at_s}s has no company_id: set the id "
            "of the company it writes"
        )
    return event.company_id
