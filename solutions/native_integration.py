"""native-integration: a simulation of Databox's own HubSpot connector, the control.

Databox's connector pulls aggregates, not records: paid accounts sync once an hour, free
accounts once a day at 03:00 in the data source's time zone. Connecting the data source
triggers a first sync at once.

Each sync counts companies with HubSpot's search API, one search per lifecycle stage
and one over all companies, reading only ``total``, and pushes the counts as metrics
dated with the sync's start. A failed sync is not retried before the next scheduled
one, as the real connector does.

Each sync is a trace ``native sync`` of ``context.tracer``, with its searches and the
``databox write`` of the counts under it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pytest_syncbench.clock import Clock, iso_ms
from pytest_syncbench.generator import LIFECYCLE_STAGES
from pytest_syncbench.solution import Delivery, Solution, SolutionContext
from solutions.common.databox_client import DataboxClient, DataboxError
from solutions.common.hubspot_client import HubSpotClient, HubSpotError
from solutions.common.lifecycle import cancel_task, open_clients
from solutions.common.settings import load_settings

TOTAL_METRIC = "hubspot_companies"
BY_STAGE_METRIC = "hubspot_companies_by_lifecyclestage"

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
# Free accounts sync at 03:00 in the data source's time zone.
FREE_SYNC_HOUR = 3
PLANS = ("paid", "free")


@dataclass(frozen=True)
class Settings:
    """Settings of native-integration, which a scenario overrides by name."""

    # "paid" syncs every hour, "free" daily at 03:00 account time.
    plan: str = "paid"
    # Offset of the account's time zone from UTC, in hours (may be fractional).
    tz_offset_hours: float = 0.0
    # Attempts per HubSpot and Databox request before the sync gives up.
    hubspot_max_attempts: int = 6
    databox_max_attempts: int = 8

    def __post_init__(self) -> None:
        if self.plan not in PLANS:
            raise ValueError(f"plan={self.plan!r}: must be one of {', '.join(PLANS)}")
        if not -12 <= self.tz_offset_hours <= 14:
            raise ValueError(
                f"tz_offset_hours={self.tz_offset_hours!r}: must be -12 to 14 hours"
            )


def next_sync_ms(settings: Settings, last_start_ms: int, now_ms: int) -> int:
    """Return when the sync after one started at ``last_start_ms`` is due.

    Paid: an hour after the last start, or at once if that has passed. Free: the first
    03:00 account time strictly after ``now_ms``.
    """
    if settings.plan == "paid":
        return max(now_ms, last_start_ms + HOUR_MS)
    offset_ms = round(settings.tz_offset_hours * HOUR_MS)
    local = now_ms + offset_ms
    due = local - local % DAY_MS + FREE_SYNC_HOUR * HOUR_MS
    if due <= local:
        due += DAY_MS
    return due - offset_ms


def search_bodies() -> list[tuple[str | None, dict[str, Any]]]:
    """Return (stage or None for all companies, search body) for one sync's counts."""
    bodies: list[tuple[str | None, dict[str, Any]]] = [(None, {"limit": 1})]
    for stage, _share in LIFECYCLE_STAGES:
        group = {
            "filters": [
                {"propertyName": "lifecyclestage", "operator": "EQ", "value": stage}
            ]
        }
        bodies.append((stage, {"filterGroups": [group], "limit": 1}))
    return bodies


def metric_items(counts: dict[str | None, int], date: str) -> list[dict[str, Any]]:
    """Return push items for counts by stage (None is the total), all dated ``date``."""
    items: list[dict[str, Any]] = []
    for stage, value in counts.items():
        if stage is None:
            items.append({"key": TOTAL_METRIC, "value": value, "date": date})
        else:
            items.append(
                {
                    "key": BY_STAGE_METRIC,
                    "value": value,
                    "date": date,
                    "attributes": [{"key": "lifecyclestage", "value": stage}],
                }
            )
    return items


class NativeIntegration(Solution):
    """Aggregate counts pulled by search on Databox's connector schedule."""

    name = "native-integration"
    delivers = Delivery.AGGREGATES

    def __init__(self) -> None:
        self.settings = Settings()
        self.stats: Counter[str] = Counter()
        self._task: asyncio.Task[None] | None = None
        self._hubspot: HubSpotClient | None = None
        self._databox: DataboxClient | None = None
        self._log = logging.getLogger(__name__)

    async def start(self, context: SolutionContext) -> None:
        self.settings = load_settings(Settings, context.settings)
        self._log = context.logger
        self._hubspot, self._databox = open_clients(
            context,
            seed=self.name,
            hubspot_max_attempts=self.settings.hubspot_max_attempts,
            databox_max_attempts=self.settings.databox_max_attempts,
        )
        self._hubspot.tracer = self._databox.tracer = context.tracer
        self._task = asyncio.create_task(self._run(context), name=self.name)

    async def stop(self) -> None:
        await cancel_task(self._task)
        self._task = None
        for client in (self._hubspot, self._databox):
            if client is not None:
                await client.aclose()
        self._hubspot = self._databox = None

    async def sync(self, clock: Clock) -> bool:
        """Count and push once; return whether the push landed.

        API failures are logged and counted, not raised.
        """
        if self._hubspot is None or self._databox is None:
            raise RuntimeError("sync() needs start() first")
        started = iso_ms(clock.now_ms())
        self.stats["syncs"] += 1
        try:
            counts: dict[str | None, int] = {}
            for stage, body in search_bodies():
                result = await self._hubspot.search(body)
                counts[stage] = int(result.get("total") or 0)
            await self._databox.push(metric_items(counts, started))
        except (HubSpotError, DataboxError) as exc:
            self.stats["failed_syncs"] += 1
            self._log.warning(
                "sync failed, next try at the next scheduled sync: %s", exc
            )
            return False
        self.stats["items_pushed"] += len(counts)
        self._log.info("sync pushed %d counts dated %s", len(counts), started)
        return True

    async def _run(self, context: SolutionContext) -> None:
        clock = context.clock
        while True:
            started_ms = clock.now_ms()
            try:
                with context.tracer.cycle("native sync") as span:
                    if not await self.sync(clock):
                        span.fail("SyncFailed", "the counts were not pushed")
            except Exception:
                # A bug in one sync must not end the schedule.
                self.stats["failed_syncs"] += 1
                context.logger.exception("sync crashed")
            due = next_sync_ms(self.settings, started_ms, clock.now_ms())
            await asyncio.sleep(max(0.0, (due - clock.now_ms()) / 1000))
