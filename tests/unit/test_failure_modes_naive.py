"""The CDC failure modes bite a sync that reads changes through search alone.

None of the four solutions is a pure timestamp CDC sync, so these tests run small ones,
each with one well-known watermark mistake, through the same scenarios. Each must lose
changes where the mistake bites, while hybrid-cdc's CDC alone (webhook property
subscriptions off) loses none. They run only with --syncbench, since each is a full
case.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from pytest_syncbench.harness import CaseSetup, run_case
from pytest_syncbench.scenarios import Scale, scenario
from pytest_syncbench.solution import Delivery, Solution, SolutionContext
from solutions.common.hubspot_client import HubSpotError
from solutions.common.lifecycle import cancel_task, open_clients
from solutions.common.rows import to_row
from solutions.hybrid_cdc import HybridCdc
from solutions.webhook_sync import MODIFIED, modified_ms

SEARCH_CAP = 10_000
INTERVAL_S = 60.0


class TimestampCdc(Solution):
    """Copy once, then every minute search for companies modified after a watermark.

    The watermark is the newest ``hs_lastmodifieddate`` read, and the search filters
    ``GT`` it: the common first version of a CDC sync. It stops paging at the cap.
    """

    name: ClassVar[str] = "timestamp-cdc-gt"
    delivers: ClassVar[Delivery] = Delivery.RECORDS
    operator: ClassVar[str] = "GT"

    async def start(self, context: SolutionContext) -> None:
        self.hubspot, self.databox = open_clients(
            context, seed=self.name, hubspot_max_attempts=6, databox_max_attempts=8
        )
        self.clock = context.clock
        self.properties = tuple(context.properties)
        self.task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        await cancel_task(self.task)
        await self.hubspot.aclose()
        await self.databox.aclose()

    async def _run(self) -> None:
        self.watermark_ms = self.clock.now_ms()
        async for companies in self.hubspot.iter_pages(self.properties):
            await self._write(companies)
        while True:
            await asyncio.sleep(INTERVAL_S)
            try:
                await self.cycle()
            except HubSpotError:
                continue

    async def cycle(self) -> None:
        newest = await self.scan(self.watermark_ms)
        self.watermark_ms = max(self.watermark_ms, newest)

    async def scan(self, since_ms: int) -> int:
        """Read every page after ``since_ms`` up to the cap; return the newest seen."""
        newest = since_ms
        after = 0
        while after < SEARCH_CAP:
            body: dict[str, Any] = {
                "filterGroups": [
                    {
                        "filters": [
                            {
                                "propertyName": MODIFIED,
                                "operator": self.operator,
                                "value": str(since_ms),
                            }
                        ]
                    }
                ],
                "sorts": [{"propertyName": MODIFIED, "direction": "ASCENDING"}],
                "properties": list(self.properties),
                "limit": 200,
                "after": str(after),
            }
            response = await self.hubspot.search(body)
            companies = response.get("results") or []
            await self._write(companies)
            newest = max([newest, *(modified_ms(c) for c in companies)])
            next_after = ((response.get("paging") or {}).get("next") or {}).get("after")
            if not companies or not next_after:
                break
            after = int(next_after)
        return newest

    async def _write(self, companies: list[dict[str, Any]]) -> None:
        rows = [to_row(company, self.properties) for company in companies]
        for start in range(0, len(rows), 100):
            await self.databox.upsert_rows(rows[start : start + 100])


class GteRestart(TimestampCdc):
    """Filters ``GTE`` the watermark, which moves to the newest timestamp read.

    Once more than 10,000 companies share one millisecond, every scan reads the same
    first 10,000 of them and stops at the cap, so the watermark never moves again. A
    sync that restarts from that timestamp within one scan loops forever instead.
    """

    name = "timestamp-cdc-gte"
    operator = "GTE"


class SecondsWatermark(TimestampCdc):
    """Stores the watermark as whole seconds, rounded, and filters ``GT`` it."""

    name = "timestamp-cdc-seconds"

    async def cycle(self) -> None:
        newest = await self.scan(self.watermark_ms)
        self.watermark_ms = max(self.watermark_ms, round(newest / 1000) * 1000)


class NowWatermark(TimestampCdc):
    """Moves the watermark to the time each scan started, whatever it read."""

    name = "timestamp-cdc-now"

    async def cycle(self) -> None:
        started_ms = self.clock.now_ms()
        await self.scan(self.watermark_ms)
        self.watermark_ms = started_ms


def _run(mode: str, solution: type[Solution], **settings: Any):
    return run_case(
        CaseSetup(scenario(mode, Scale.SMOKE), solution, seed=1, settings=settings)
    )


@pytest.fixture(autouse=True)
def _needs_syncbench(pytestconfig):
    if not pytestconfig.getoption("syncbench"):
        pytest.skip("scenario runs only with --syncbench")


@pytest.mark.parametrize(
    ("mode", "solution"),
    [
        ("failure-ties", TimestampCdc),
        ("failure-ties", GteRestart),
        ("failure-paging", TimestampCdc),
        ("failure-index-lag", NowWatermark),
        ("failure-watermark-precision", SecondsWatermark),
    ],
    ids=lambda value: value if isinstance(value, str) else value.name,
)
def test_naive_cdc_loses_changes(mode, solution):
    outcome = _run(mode, solution)

    assert outcome.data_loss > 0
    assert outcome.consistency.stale > 0


@pytest.mark.parametrize(
    "mode",
    [
        "failure-ties",
        "failure-paging",
        "failure-index-lag",
        "failure-watermark-precision",
    ],
)
def test_hybrid_cdc_alone_loses_nothing(mode):
    outcome = _run(mode, HybridCdc, webhook_properties=())

    assert outcome.data_loss == 0
    assert outcome.consistency.stale == 0
