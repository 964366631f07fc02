"""Start-up and shutdown steps that the scheduled solutions share."""

from __future__ import annotations

import asyncio
import contextlib

from pytest_syncbench.solution import SolutionContext
from solutions.common.databox_client import DataboxClient
from solutions.common.hubspot_client import HubSpotClient


def open_clients(
    context: SolutionContext,
    *,
    seed: str,
    hubspot_max_attempts: int,
    databox_max_attempts: int,
) -> tuple[HubSpotClient, DataboxClient]:
    """Return HubSpot and Databox clients for the scenario's accounts."""
    hubspot = HubSpotClient(
        context.hubspot,
        context.clock,
        context.logger,
        seed=seed,
        max_attempts=hubspot_max_attempts,
    )
    databox = DataboxClient(
        context.databox,
        context.clock,
        context.logger,
        seed=seed,
        max_attempts=databox_max_attempts,
    )
    return hubspot, databox


async def cancel_task(task: asyncio.Task[None] | None) -> None:
    """Cancel ``task`` and wait until it has finished."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
