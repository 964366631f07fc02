"""webhook-sync against the mock HubSpot and mock Databox, on virtual time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import fakeredis
import httpx
import orjson
import pytest

from pytest_syncbench.databox.config import DataboxConfig
from pytest_syncbench.databox.records import Dataset
from pytest_syncbench.databox.server import DataboxMock
from pytest_syncbench.generator import SYNCED_PROPERTIES, generate_companies
from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.hubspot.server import HubSpotMock
from pytest_syncbench.hubspot.store import Store
from pytest_syncbench.metrics.consistency import compare_rows
from pytest_syncbench.solution import SolutionContext
from solutions.common.webhook_receiver import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_v3,
)
from solutions.tests.support import run, started_clock
from solutions.webhook_sync import Settings, WebhookSync

SETTLE_S = 30.0


@dataclass
class MockWorld:
    """A seeded store behind the mock HubSpot, and the mock Databox with one dataset."""

    clock: Any
    store: Store
    hubspot: HubSpotMock
    databox: DataboxMock
    dataset: Dataset
    redis: Any

    def context(self, **settings: Any) -> SolutionContext:
        return SolutionContext(
            hubspot=self.hubspot.access(),
            databox=self.databox.access(self.dataset.id),
            clock=self.clock,
            redis=self.redis,
            properties=SYNCED_PROPERTIES,
            logger=logging.getLogger("solutions.tests.e2e"),
            settings=settings,
        )

    def row(self, company_id: int) -> dict[str, Any] | None:
        return self.dataset.rows.get((str(company_id),))

    def rows_by_id(self) -> dict[str, Any]:
        return {key[0]: row for key, row in self.dataset.rows.items()}

    def consistent(self) -> bool:
        return compare_rows(self.store, self.rows_by_id(), SYNCED_PROPERTIES).consistent

    async def wait_for(
        self, condition: Callable[[], bool], timeout_s: float, step_s: float = 0.5
    ) -> float:
        """Sleep until ``condition`` holds; return the simulated seconds it took."""
        start = self.clock.now()
        while not condition():
            if self.clock.now() - start > timeout_s:
                raise AssertionError(f"condition not met within {timeout_s} s")
            await asyncio.sleep(step_s)
        return self.clock.now() - start


@asynccontextmanager
async def mock_world(
    companies: int = 50, config: HubSpotConfig | None = None, redis: Any = None
) -> AsyncIterator[MockWorld]:
    clock = started_clock()
    store = Store(clock)
    store.seed(generate_companies(companies, 7, clock.epoch_ms))
    hubspot = HubSpotMock(store, clock, config or HubSpotConfig())
    databox = DataboxMock(clock, DataboxConfig())
    await hubspot.start()
    await databox.start()
    dataset = databox.create_dataset("hubspot_companies", ["id"])
    world = MockWorld(
        clock,
        store,
        hubspot,
        databox,
        dataset,
        redis if redis is not None else fakeredis.FakeAsyncRedis(),
    )
    try:
        yield world
    finally:
        await hubspot.stop()
        await databox.stop()


def test_settings_reject_unknown_names() -> None:
    async def scenario() -> None:
        async with mock_world(companies=1) as world:
            await WebhookSync().start(world.context(flush_every_s=1))

    with pytest.raises(ValueError, match="flush_every_s"):
        run(scenario)


def test_settings_reject_a_zero_flush_interval() -> None:
    with pytest.raises(ValueError, match="flush_interval_s"):
        Settings(flush_interval_s=0)


def test_initial_sync_copies_every_company() -> None:
    async def scenario() -> tuple[int, bool]:
        async with mock_world(companies=250) as world:
            sync = WebhookSync()
            await sync.start(world.context())
            await asyncio.sleep(SETTLE_S)
            await sync.stop()
            return len(world.dataset.rows), world.consistent()

    rows, consistent = run(scenario)
    assert rows == 250
    assert consistent


def test_update_arrives_within_seconds_without_an_api_call() -> None:
    async def scenario() -> tuple[float, int, dict[str, int]]:
        async with mock_world() as world:
            sync = WebhookSync()
            await sync.start(world.context())
            await asyncio.sleep(SETTLE_S)
            calls_before = len(world.hubspot.calls)
            world.store.update(3, {"lifecyclestage": "customer", "city": "Celje"})
            took = await world.wait_for(
                lambda: (world.row(3) or {}).get("city") == "Celje", timeout_s=30
            )
            calls = len(world.hubspot.calls) - calls_before
            await sync.stop()
            return took, calls, sync.stats

    took, calls, stats = run(scenario)
    # One delivery window (1 s) plus at most one flush interval (5 s).
    assert took <= 7.0
    assert calls == 0
    assert stats["events_received"] == 2


def test_updated_row_matches_the_source_including_its_timestamp() -> None:
    async def scenario() -> bool:
        async with mock_world() as world:
            sync = WebhookSync()
            await sync.start(world.context())
            await asyncio.sleep(SETTLE_S)
            world.store.update(4, {"name": "Renamed d.o.o."})
            await asyncio.sleep(10)
            await sync.stop()
            return world.consistent()

    assert run(scenario)


def test_creation_and_deletion_reach_the_destination() -> None:
    async def scenario() -> tuple[Any, Any, dict[str, int]]:
        async with mock_world() as world:
            sync = WebhookSync()
            await sync.start(world.context())
            await asyncio.sleep(SETTLE_S)
            created = world.store.create(
                {"name": "Fresh Labs", "domain": "fresh.example"}
            )
            world.store.archive(8)
            await asyncio.sleep(15)
            await sync.stop()
            return world.row(created.id), world.row(8), sync.stats

    created_row, deleted_row, stats = run(scenario)
    assert created_row is not None
    assert created_row["name"] == "Fresh Labs"
    assert deleted_row == {"id": "8", "archived": "true"}
    assert stats["batch_reads"] == 1


def test_changes_committed_during_the_initial_sync_are_not_missed() -> None:
    async def scenario() -> bool:
        async with mock_world(companies=600) as world:
            sync = WebhookSync()
            await sync.start(world.context())
            # The copy of 600 companies takes several page reads; edit while it runs.
            for company_id in (1, 300, 599):
                await asyncio.sleep(0.2)
                world.store.update(company_id, {"city": f"Edited {company_id}"})
            await asyncio.sleep(SETTLE_S)
            await sync.stop()
            return world.consistent()

    assert run(scenario)


def test_duplicated_and_reordered_deliveries_converge() -> None:
    config = HubSpotConfig(duplicate_rate=1.0, reorder=True)

    async def scenario() -> tuple[bool, dict[str, int]]:
        async with mock_world(config=config) as world:
            sync = WebhookSync()
            await sync.start(world.context())
            await asyncio.sleep(SETTLE_S)
            for step in range(5):
                world.store.update(2, {"city": f"City {step}", "name": f"Name {step}"})
                await asyncio.sleep(0.01)
            await asyncio.sleep(20)
            await sync.stop()
            return world.consistent(), sync.stats

    consistent, stats = run(scenario)
    assert consistent
    assert stats["events_duplicate"] >= 10


def test_property_change_before_its_creation_is_applied() -> None:
    async def scenario() -> tuple[Any, int, dict[str, int]]:
        async with mock_world() as world:
            sync = WebhookSync()
            await sync.start(world.context())
            await asyncio.sleep(SETTLE_S)
            company = world.store.create(
                {"name": "Early Bird", "domain": "early.example"}
            )
            common = {
                "portalId": world.hubspot.config.portal_id,
                "appId": world.hubspot.config.app_id,
                "occurredAt": company.created_ms,
                "objectId": company.id,
                "attemptNumber": 0,
            }
            events = [
                common
                | {
                    "eventId": 1,
                    "subscriptionType": "company.propertyChange",
                    "propertyName": "name",
                    "propertyValue": "Early Bird",
                },
                common | {"eventId": 2, "subscriptionType": "company.creation"},
            ]
            status = await _deliver(world, sync.receiver.url, events)
            await asyncio.sleep(15)
            await sync.stop()
            return world.row(company.id), status, sync.stats

    row, status, stats = run(scenario)
    assert status == 200
    assert row is not None
    assert row["name"] == "Early Bird"
    assert stats["batch_reads"] == 1


async def _deliver(world: MockWorld, url: str, events: list[dict[str, Any]]) -> int:
    """POST events to the receiver signed as HubSpot signs them; return the status."""
    body = orjson.dumps(events)
    timestamp = str(world.clock.now_ms())
    secret = world.hubspot.config.client_secret
    headers = {
        SIGNATURE_HEADER: signature_v3(secret, "POST", url, body, timestamp),
        TIMESTAMP_HEADER: timestamp,
        "Content-Type": "application/json",
    }
    async with httpx.AsyncClient() as client:
        response = await client.post(url, content=body, headers=headers)
    return response.status_code
