"""hybrid-cdc: the CDC cursor, and the solution against the mocks on virtual time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from solutions.common.state import Cursor, SyncState
from solutions.hybrid_cdc import SEARCH_CAP, HybridCdc, scan_changes, search_body
from solutions.tests.support import run
from solutions.tests.test_webhook_sync import SETTLE_S, mock_world

T0 = 1_767_603_600_000
# Fast cycles so that tests cover several of them in little simulated time.
FAST = {
    "cdc_interval_s": 20.0,
    "lookback_s": 10.0,
    "reconcile_interval_s": 120.0,
    "webhook_properties": ("name",),
}


class FakeSearch:
    """HubSpot's search semantics for CDC bodies, with the 10,000-result cap."""

    def __init__(self, companies: list[tuple[int, int]]) -> None:
        # (modified_ms, id) pairs, in HubSpot's order for an ascending timestamp sort.
        self.companies = sorted(companies)
        self.calls = 0
        self._matched: dict[str, list[tuple[int, int]]] = {}

    async def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        after = int(body.get("after", 0))
        if after >= SEARCH_CAP:
            raise AssertionError(f"after={after} would be refused with 400")
        groups = body["filterGroups"]
        key = repr(groups)
        if key not in self._matched:
            self._matched[key] = [c for c in self.companies if self._matches(c, groups)]
        matched = self._matched[key]
        page = matched[after : after + body["limit"]]
        response: dict[str, Any] = {
            "total": len(matched),
            "results": [
                {"id": str(i), "properties": {"hs_lastmodifieddate": _iso(m)}}
                for m, i in page
            ],
        }
        if after + len(page) < len(matched):
            response["paging"] = {"next": {"after": str(after + len(page))}}
        return response

    @staticmethod
    def _matches(company: tuple[int, int], groups: list[dict[str, Any]]) -> bool:
        values = {"hs_lastmodifieddate": company[0], "hs_object_id": company[1]}
        ops = {
            "EQ": lambda a, b: a == b,
            "GT": lambda a, b: a > b,
            "GTE": lambda a, b: a >= b,
        }
        return any(
            all(
                ops[f["operator"]](values[f["propertyName"]], int(f["value"]))
                for f in group["filters"]
            )
            for group in groups
        )


def _iso(epoch_ms: int) -> str:
    from pytest_syncbench.clock import iso_ms

    return iso_ms(epoch_ms)


async def _scan(search: FakeSearch, **start: Any) -> list[int]:
    seen: list[int] = []
    async for page, _ in scan_changes(search, ["name"], lambda: T0, **start):
        seen.extend(int(c["id"]) for c in page)
    return seen


def test_search_body_filters_at_or_after_the_start() -> None:
    body = search_body(["name"], since_ms=T0)
    assert body["filterGroups"] == [
        {
            "filters": [
                {
                    "propertyName": "hs_lastmodifieddate",
                    "operator": "GTE",
                    "value": str(T0),
                }
            ]
        }
    ]


def test_search_body_sorts_by_timestamp_ascending() -> None:
    body = search_body(["name"], since_ms=T0)
    assert body["sorts"] == [
        {"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}
    ]


def test_search_body_resumes_ties_by_id_after_a_cursor() -> None:
    groups = search_body(["name"], cursor=Cursor(T0, 77))["filterGroups"]
    assert [[(f["operator"], f["value"]) for f in g["filters"]] for g in groups] == [
        [("EQ", str(T0)), ("GT", "77")],
        [("GT", str(T0))],
    ]


def test_search_body_needs_exactly_one_start() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        search_body(["name"])


def test_scan_reads_more_than_10000_ties_once_each() -> None:
    ties = [(T0, i) for i in range(1, 25_001)]
    later = [(T0 + 5, i) for i in range(25_001, 25_101)]
    search = FakeSearch(ties + later)
    seen = run(lambda: _scan(search, since_ms=T0 - 1_000))
    assert sorted(seen) == list(range(1, 25_101))
    assert len(seen) == len(set(seen))


def test_scan_of_ties_costs_one_call_per_page() -> None:
    search = FakeSearch([(T0, i) for i in range(1, 25_001)])
    run(lambda: _scan(search, since_ms=T0))
    # 125 full pages of 200, plus the empty answer to the final restart.
    assert search.calls <= 127


def test_scan_from_a_cursor_skips_what_the_cursor_covers() -> None:
    search = FakeSearch([(T0, 1), (T0, 2), (T0, 3), (T0 + 1, 4)])
    seen = run(lambda: _scan(search, cursor=Cursor(T0, 2)))
    assert seen == [3, 4]


def test_unsubscribed_property_arrives_through_cdc() -> None:
    async def scenario() -> tuple[Any, dict[str, int]]:
        async with mock_world() as world:
            sync = HybridCdc()
            await sync.start(world.context(**FAST))
            await asyncio.sleep(SETTLE_S)
            world.store.update(3, {"city": "Koper"})  # not subscribed
            await world.wait_for(
                lambda: (world.row(3) or {}).get("city") == "Koper", timeout_s=60
            )
            await sync.stop()
            return world.row(3), sync.stats

    row, stats = run(scenario)
    assert row is not None
    assert stats["cdc_rows"] >= 1
    assert stats["events_received"] == 0


def test_subscribed_property_arrives_by_webhook_before_cdc() -> None:
    async def scenario() -> float:
        async with mock_world() as world:
            sync = HybridCdc()
            await sync.start(world.context(**FAST))
            await asyncio.sleep(SETTLE_S + 1)
            world.store.update(3, {"name": "Hooked"})
            took = await world.wait_for(
                lambda: (world.row(3) or {}).get("name") == "Hooked", timeout_s=60
            )
            await sync.stop()
            return took

    assert run(scenario) <= 7.0


def test_deletion_reaches_the_destination() -> None:
    async def scenario() -> Any:
        async with mock_world() as world:
            sync = HybridCdc()
            await sync.start(world.context(**FAST))
            await asyncio.sleep(SETTLE_S)
            world.store.archive(6)
            await asyncio.sleep(15)
            await sync.stop()
            return world.row(6)

    assert run(scenario) == {"id": "6", "archived": "true"}


def test_unchanged_rows_are_not_written_again() -> None:
    async def scenario() -> dict[str, int]:
        async with mock_world() as world:
            sync = HybridCdc()
            await sync.start(world.context(**FAST))
            await asyncio.sleep(SETTLE_S)
            written = sync.stats["rows_written"]
            await asyncio.sleep(200)  # ten CDC cycles and a reconciliation, no writes
            await sync.stop()
            return {"before": written, "after": sync.stats["rows_written"]}

    counts = run(scenario)
    assert counts["after"] == counts["before"]


def test_crash_and_restart_lose_nothing() -> None:
    settings = FAST | {"flush_interval_s": 60.0}

    async def scenario() -> dict[str, Any]:
        async with mock_world() as world:
            first = HybridCdc()
            await first.start(world.context(**settings))
            await asyncio.sleep(SETTLE_S + 45)  # past a flush and a watermark commit
            world.store.update(4, {"name": "Before Crash"})
            await asyncio.sleep(3)  # delivered and stored, not yet written
            stored = len(await SyncState(world.redis).pending())
            await first.crash()
            name_at_crash = (world.row(4) or {}).get("name")

            world.store.update(5, {"city": "While Down"})
            world.store.archive(7)
            await asyncio.sleep(5)

            second = HybridCdc()
            await second.start(world.context(**settings))
            await asyncio.sleep(90)
            await second.stop()
            return {
                "stored": stored,
                "name_at_crash": name_at_crash,
                "consistent": world.consistent(),
                "stats": second.stats,
            }

    outcome = run(scenario)
    assert outcome["stored"] >= 1
    assert outcome["name_at_crash"] != "Before Crash"
    assert outcome["consistent"]
    assert outcome["stats"]["events_recovered"] >= 1
    # Resumed from the watermark: no second full copy.
    assert outcome["stats"]["rows_written"] < 10


def test_more_than_10000_ties_in_one_millisecond_end_to_end() -> None:
    async def scenario() -> tuple[bool, dict[str, int]]:
        async with mock_world(companies=10_300) as world:
            sync = HybridCdc()
            await sync.start(world.context(**FAST))
            await world.wait_for(lambda: len(world.dataset.rows) == 10_300, 300, 5)
            # A bulk update: 10,200 companies share one commit millisecond.
            ids = list(range(1, 10_201))
            world.store.update_many([(i, {"city": "Bulk"}) for i in ids])
            await asyncio.sleep(120)
            await sync.stop()
            return world.consistent(), sync.stats

    consistent, stats = run(scenario)
    assert consistent
    assert stats["cdc_rows"] >= 10_200
