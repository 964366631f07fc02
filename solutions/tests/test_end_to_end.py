"""direct-polling and native-integration against the mock HubSpot and Databox."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import fakeredis
import pytest

from pytest_syncbench.clock import Clock
from pytest_syncbench.databox.config import DataboxConfig
from pytest_syncbench.databox.records import Dataset
from pytest_syncbench.databox.server import DataboxMock
from pytest_syncbench.generator import (
    LIFECYCLE_STAGES,
    SYNCED_PROPERTIES,
    generate_companies,
)
from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.hubspot.server import HubSpotMock
from pytest_syncbench.hubspot.store import Store
from pytest_syncbench.solution import Solution, SolutionContext
from solutions.direct_polling import DirectPolling
from solutions.native_integration import (
    BY_STAGE_METRIC,
    TOTAL_METRIC,
    NativeIntegration,
)
from solutions.tests.support import LOG, run


@dataclass
class World:
    clock: Clock
    store: Store
    hubspot: HubSpotMock
    databox: DataboxMock
    dataset: Dataset
    context: SolutionContext

    async def at(self, seconds: float) -> None:
        """Sleep until ``seconds`` of simulated time since the start."""
        await asyncio.sleep(max(0.0, seconds - self.clock.now()))

    def expected_rows(self) -> dict[str, dict[str, Any]]:
        rows = {}
        for cid, company in self.store.companies.items():
            if company.archived:
                rows[str(cid)] = {"id": str(cid), "archived": "true"}
            else:
                values = {p: company.properties.get(p) for p in SYNCED_PROPERTIES}
                rows[str(cid)] = {"id": str(cid), **values, "archived": "false"}
        return rows

    def stored_rows(self) -> dict[str, dict[str, Any]]:
        return {key[0]: row for key, row in self.dataset.rows.items()}


def in_world(
    solution: Solution,
    scenario: Callable[[World], Awaitable[None]],
    *,
    companies: int = 1_000,
    settings: dict[str, Any] | None = None,
) -> World:
    """Seed a store, start both mocks and ``solution``, run ``scenario``, stop all."""

    async def main() -> World:
        clock = Clock()
        clock.start()
        store = Store(clock)
        store.seed(generate_companies(companies, seed=7, now_ms=clock.now_ms()))
        hubspot = HubSpotMock(store, clock, HubSpotConfig())
        databox = DataboxMock(clock, DataboxConfig())
        await hubspot.start()
        await databox.start()
        dataset = databox.create_dataset("hubspot companies", ["id"])
        context = SolutionContext(
            hubspot=hubspot.access(),
            databox=databox.access(dataset.id),
            clock=clock,
            redis=fakeredis.FakeAsyncRedis(),
            properties=SYNCED_PROPERTIES,
            logger=LOG,
            settings=settings or {},
        )
        world = World(clock, store, hubspot, databox, dataset, context)
        await solution.start(context)
        try:
            await scenario(world)
        finally:
            await solution.stop()
            await hubspot.stop()
            await databox.stop()
        return world

    return run(main)


# -- direct-polling


def test_polling_first_cycle_copies_every_company():
    polling = DirectPolling()
    world = in_world(polling, lambda w: w.at(120))
    assert world.stored_rows() == world.expected_rows()
    assert len(world.stored_rows()) == 1_000
    assert polling.stats["failed_cycles"] == 0


def test_polling_delivers_update_and_deletion():
    polling = DirectPolling()
    first_cycle_writes: list[int] = []

    async def scenario(world: World) -> None:
        await world.at(120)
        first_cycle_writes.append(len(world.databox.writes))
        world.store.update(
            5, {"name": "Renamed Company Ltd", "lifecyclestage": "customer"}
        )
        world.store.archive(7)
        await world.at(420)

    world = in_world(polling, scenario)
    rows = world.stored_rows()
    assert rows["5"]["name"] == "Renamed Company Ltd"
    assert (
        rows["5"]["hs_lastmodifieddate"]
        == world.store.get(5).properties["hs_lastmodifieddate"]
    )
    assert rows["7"] == {"id": "7", "archived": "true"}
    assert rows == world.expected_rows()
    # The second cycle writes the changed row and the deletion, nothing else.
    second_cycle = world.databox.writes[first_cycle_writes[0] :]
    assert sorted(r["id"] for w in second_cycle for r in w.rows) == ["5", "7"]


def test_polling_cycles_start_every_poll_interval():
    polling = DirectPolling()
    world = in_world(polling, lambda w: w.at(650), settings={"poll_interval_s": 300})
    lists = [
        c.t_s
        for c in world.hubspot.calls
        if c.endpoint == "GET /crm/v3/objects/companies"
    ]
    # A cycle reads its pages back to back; a gap of a minute or more starts the next.
    starts = [t for i, t in enumerate(lists) if i == 0 or t - lists[i - 1] >= 60]
    assert starts == pytest.approx([0, 300, 600], abs=0.5)
    assert polling.stats["cycles"] == 3


def test_polling_survives_hubspot_downtime_and_catches_up():
    polling = DirectPolling()

    async def scenario(world: World) -> None:
        await world.at(120)
        await world.hubspot.set_outage("refused")
        world.store.update(9, {"city": "Ljubljana"})
        await world.at(420)  # the cycle at 300 fails
        await world.hubspot.set_outage(None)
        await world.at(720)  # the cycle at 600 succeeds

    world = in_world(polling, scenario)
    assert polling.stats["failed_cycles"] == 1
    assert world.stored_rows()["9"]["city"] == "Ljubljana"
    assert world.stored_rows() == world.expected_rows()


def test_polling_backlog_is_zero_between_cycles():
    polling = DirectPolling()
    backlog: list[int] = []

    async def scenario(world: World) -> None:
        await world.at(200)
        backlog.append(polling.backlog())

    in_world(polling, scenario)
    assert backlog == [0]


# -- native-integration


def points(world: World, key: str) -> list[Any]:
    return world.databox.data_points.get(key, [])


def live_stage_counts(store: Store) -> Counter[str]:
    return Counter(
        c.properties["lifecyclestage"]
        for c in store.companies.values()
        if not c.archived
    )


def test_native_first_sync_pushes_total():
    native = NativeIntegration()
    world = in_world(native, lambda w: w.at(60))
    (total,) = points(world, TOTAL_METRIC)
    assert total.value == 1_000
    assert total.date_ms == world.clock.epoch_ms


def test_native_pushes_the_count_of_every_lifecycle_stage():
    native = NativeIntegration()
    world = in_world(native, lambda w: w.at(60))
    pushed = {
        p.attributes["lifecyclestage"]: p.value for p in points(world, BY_STAGE_METRIC)
    }
    expected = live_stage_counts(world.store)
    assert pushed == {stage: expected.get(stage, 0) for stage, _ in LIFECYCLE_STAGES}


def test_native_paid_plan_syncs_hourly():
    native = NativeIntegration()

    async def scenario(world: World) -> None:
        await world.at(600)
        world.store.archive(3)
        world.store.create({"name": "New Co", "lifecyclestage": "lead"})
        world.store.archive(4)
        await world.at(3_700)

    world = in_world(native, scenario)
    totals = [
        (p.date_ms - world.clock.epoch_ms, p.value) for p in points(world, TOTAL_METRIC)
    ]
    assert totals == [(0, 1_000), (3_600_000, 999)]


def test_native_free_plan_syncs_at_three():
    native = NativeIntegration()
    # The default epoch is 09:00 UTC, so 03:00 UTC comes 18 hours later.
    world = in_world(
        native, lambda w: w.at(19 * 3600), settings={"plan": "free"}, companies=50
    )
    dates = [
        (p.date_ms - world.clock.epoch_ms) / 3_600_000
        for p in points(world, TOTAL_METRIC)
    ]
    assert dates == [0, 18]


def test_native_failed_sync_waits_for_the_next_schedule():
    native = NativeIntegration()

    async def scenario(world: World) -> None:
        await world.hubspot.set_outage("503")
        await world.at(600)
        await world.hubspot.set_outage(None)
        await world.at(3_700)

    world = in_world(native, scenario, companies=50)
    dates = [
        (p.date_ms - world.clock.epoch_ms) / 1000 for p in points(world, TOTAL_METRIC)
    ]
    assert native.stats["failed_syncs"] == 1
    assert dates == [3_600]
