"""direct-polling: list every company on a schedule and write what changed.

The baseline of the benchmark. Every ``poll_interval_s`` it pages through
``GET /crm/v3/objects/companies`` with all synced properties, turns each company into
its dataset row and compares the row's content hash with the one kept from the last
complete cycle. New and changed rows are upserted to Databox while the listing is read,
at most 100 at a time. Ids that vanished from the listing become archived rows once the
listing is known to be complete.

A cycle that fails (HubSpot or Databox unreachable after retries) keeps the previous
snapshot and writes no deletions: an incomplete listing would look like a mass deletion.
The next cycle starts from scratch. Before writing deletions the vanished ids are read
back with a batch read; if any of them still exists, the listing ended early and the
cycle is treated the same way.

The snapshot lives in memory: after a restart the first cycle rewrites every row, and a
company deleted while the solution was down is never marked archived.

Each cycle is a trace ``poll cycle`` of ``context.tracer``, with its requests and
``databox write`` spans under it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_syncbench.solution import Delivery, Solution, SolutionContext
from solutions.common.databox_client import (
    RECORDS_PER_CALL,
    DataboxClient,
    DataboxError,
)
from solutions.common.hubspot_client import PAGE_LIMIT, HubSpotClient, HubSpotError
from solutions.common.lifecycle import cancel_task, open_clients
from solutions.common.rows import archived_row, content_hash, to_row
from solutions.common.settings import load_settings


@dataclass(frozen=True)
class Settings:
    """Settings of direct-polling, which a scenario overrides by name."""

    # Seconds from the start of one cycle to the start of the next, as a cron would.
    # A cycle that takes longer is followed by the next one at once.
    poll_interval_s: float = 300.0
    # Companies per list request, at most HubSpot's maximum of 100.
    page_size: int = PAGE_LIMIT
    # Read vanished ids back before archiving them, to catch a listing that ended early.
    confirm_deletions: bool = True
    # Attempts per HubSpot and Databox request before the cycle gives up.
    hubspot_max_attempts: int = 6
    databox_max_attempts: int = 8

    def __post_init__(self) -> None:
        if not self.poll_interval_s > 0:
            raise ValueError(
                f"poll_interval_s={self.poll_interval_s!r}: must be seconds > 0"
            )
        if not isinstance(self.page_size, int) or not 1 <= self.page_size <= PAGE_LIMIT:
            raise ValueError(f"page_size={self.page_size!r}: must be 1 to {PAGE_LIMIT}")


class IncompleteListing(Exception):
    """Ids missing from the listing still exist in HubSpot: the listing ended early."""


class Snapshot:
    """Content hashes by company id, from the last complete listing.

    :meth:`begin` starts a new listing against it; the listing's :meth:`Listing.changed`
    picks the rows to write, and :meth:`commit` makes the listing the new snapshot.
    """

    def __init__(self) -> None:
        self.hashes: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.hashes)

    def begin(self) -> Listing:
        return Listing(self.hashes)

    def commit(self, listing: Listing) -> None:
        self.hashes = listing.seen


class Listing:
    """The rows seen so far in one pass over the company listing."""

    def __init__(self, previous: Mapping[str, str]) -> None:
        self.previous = previous
        self.seen: dict[str, str] = {}

    def changed(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Record ``rows`` as seen; return those that are new or differ from before."""
        out = []
        for row in rows:
            digest = content_hash(row)
            self.seen[row["id"]] = digest
            if self.previous.get(row["id"]) != digest:
                out.append(row)
        return out

    def vanished(self) -> list[str]:
        """Return the previous snapshot's ids missing from this listing, in id order."""
        missing = self.previous.keys() - self.seen.keys()
        return sorted(missing, key=lambda cid: (len(cid), cid))


class Poller:
    """One poll cycle at a time: list, diff against the snapshot, write to Databox."""

    def __init__(
        self,
        hubspot: HubSpotClient,
        databox: DataboxClient,
        properties: Sequence[str],
        settings: Settings,
        log: logging.Logger,
    ) -> None:
        self.hubspot = hubspot
        self.databox = databox
        self.properties = tuple(properties)
        self.settings = settings
        self.log = log
        self.snapshot = Snapshot()
        self.stats: Counter[str] = Counter()
        # Rows known to have changed and not written yet.
        self.pending = 0

    async def run_cycle(self) -> bool:
        """Run one full cycle; return whether it completed. API failures don't raise."""
        self.stats["cycles"] += 1
        try:
            await self._sync()
        except (HubSpotError, DataboxError, IncompleteListing) as exc:
            self.stats["failed_cycles"] += 1
            self.log.warning(
                "poll cycle failed, snapshot of %d ids kept: %s",
                len(self.snapshot),
                exc,
            )
            return False
        finally:
            self.pending = 0
        return True

    async def _sync(self) -> None:
        listing = self.snapshot.begin()
        buffer: list[dict[str, Any]] = []
        pages = 0
        list_pages = self.hubspot.iter_pages(
            self.properties, limit=self.settings.page_size
        )
        async for companies in list_pages:
            pages += 1
            rows = (to_row(company, self.properties) for company in companies)
            buffer += listing.changed(rows)
            self.pending = len(buffer)
            if len(buffer) >= RECORDS_PER_CALL:
                await self._write(buffer)
                buffer = []
        await self._write(buffer)

        vanished = listing.vanished()
        if vanished and self.settings.confirm_deletions:
            await self._confirm_gone(vanished)
        self.pending = len(vanished)
        await self._write([archived_row(cid) for cid in vanished])
        self.stats["rows_archived"] += len(vanished)
        self.snapshot.commit(listing)
        self.log.info(
            "poll cycle done: %d pages, %d companies, %d archived",
            pages,
            len(listing.seen),
            len(vanished),
        )

    async def _write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        await self.databox.upsert_rows(rows)
        self.stats["rows_written"] += len(rows)
        self.pending = max(0, self.pending - len(rows))

    async def _confirm_gone(self, vanished: list[str]) -> None:
        found = await self.hubspot.batch_read(vanished, ["hs_object_id"])
        # A merged-away id reads back as its survivor, so only the same id is alive.
        alive = sorted({str(c.get("id")) for c in found} & set(vanished))
        if alive:
            self.stats["incomplete_listings"] += 1
            raise IncompleteListing(
                f"{len(alive)} of {len(vanished)} ids missing from the listing still "
                f"exist (first: {', '.join(alive[:5])}); writing no deletions"
            )


class DirectPolling(Solution):
    """Full listing every ``poll_interval_s``, diffed against an in-memory snapshot."""

    name = "direct-polling"
    delivers = Delivery.RECORDS

    def __init__(self) -> None:
        self.settings = Settings()
        self.stats: Counter[str] = Counter()
        self._poller: Poller | None = None
        self._task: asyncio.Task[None] | None = None
        self._clients: list[HubSpotClient | DataboxClient] = []

    async def start(self, context: SolutionContext) -> None:
        self.settings = load_settings(Settings, context.settings)
        hubspot, databox = open_clients(
            context,
            seed=self.name,
            hubspot_max_attempts=self.settings.hubspot_max_attempts,
            databox_max_attempts=self.settings.databox_max_attempts,
        )
        hubspot.tracer = databox.tracer = context.tracer
        self._clients = [hubspot, databox]
        self._poller = Poller(
            hubspot, databox, context.properties, self.settings, context.logger
        )
        self.stats = self._poller.stats
        self._task = asyncio.create_task(
            self._run(self._poller, context), name=self.name
        )

    async def stop(self) -> None:
        await cancel_task(self._task)
        self._task = None
        for client in self._clients:
            await client.aclose()
        self._clients = []

    async def crash(self) -> None:
        """Stop at once, as a killed process would.

        The cycle in progress is cancelled with its unwritten rows, and the snapshot in
        memory is lost, so the next instance's first cycle rewrites every row.
        """
        await cancel_task(self._task)
        self._task = None
        self._poller = None
        for client in self._clients:
            await client.aclose()
        self._clients = []

    def backlog(self) -> int:
        return self._poller.pending if self._poller else 0

    async def _run(self, poller: Poller, context: SolutionContext) -> None:
        interval = self.settings.poll_interval_s
        while True:
            started = context.clock.now()
            try:
                with context.tracer.cycle("poll cycle") as span:
                    if not await poller.run_cycle():
                        span.fail("IncompleteCycle", "the cycle ended early")
            except Exception:
                # A bug in one cycle must not end the schedule: the next cycle retries.
                poller.stats["failed_cycles"] += 1
                context.logger.exception("poll cycle crashed")
            wait = started + interval - context.clock.now()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                poller.stats["overruns"] += 1
                context.logger.warning(
                    "poll cycle took %.1fs, longer than the %.0fs interval",
                    interval - wait,
                    interval,
                )
