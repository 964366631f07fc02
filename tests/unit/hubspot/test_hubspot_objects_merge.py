"""Merging companies: the merge endpoint, and how merged-away ids read, list and search."""

from __future__ import annotations

import asyncio

from hubspot_helpers import running_mock

from pytest_syncbench.hubspot.store import ChangeKind
from pytest_syncbench.loop import run_virtual

COMPANIES = "/crm/v3/objects/companies"
MERGE = f"{COMPANIES}/merge"
SEARCH = f"{COMPANIES}/search"


async def _merge(run, primary: str, merged: str):
    return await run.client.post(
        MERGE, json={"primaryObjectId": primary, "objectIdToMerge": merged}
    )


def test_merge_returns_the_survivor() -> None:
    async def scenario() -> None:
        async with running_mock(4) as run:
            run.store.update(2, {"city": None})
            run.store.update(3, {"city": "Porto"})
            response = await _merge(run, "2", "3")
            assert response.status_code == 200
            body = response.json()
            assert body["id"] == "2"
            assert body["archived"] is False
            survivor = run.store.companies[2]
            assert survivor.properties["hs_merged_object_ids"] == "3"
            assert survivor.properties["city"] == "Porto"  # taken from the merged one
            assert body["updatedAt"] == survivor.properties["hs_lastmodifieddate"]
            gone = run.store.companies[3]
            assert gone.archived and gone.merged_into == 2
            kinds = [(c.company_id, c.kind) for c in run.store.changes[-2:]]
            assert kinds == [(3, ChangeKind.MERGE), (2, ChangeKind.UPDATE)]
            assert {c.source for c in run.store.changes[-2:]} == {"INTEGRATION"}

    run_virtual(scenario)


def test_merge_errors() -> None:
    async def scenario() -> None:
        async with running_mock(4) as run:
            itself = await _merge(run, "1", "1")
            assert itself.status_code == 400
            assert itself.json()["category"] == "VALIDATION_ERROR"
            run.store.archive(4)
            for primary, merged in (("1", "99"), ("99", "1"), ("1", "4"), ("x", "1")):
                response = await _merge(run, primary, merged)
                assert response.status_code == 404, (primary, merged)
                assert response.json()["category"] == "OBJECT_NOT_FOUND"
            await _merge(run, "1", "2")
            # A merged-away id can be merged neither again nor into.
            assert (await _merge(run, "3", "2")).status_code == 404
            assert (await _merge(run, "2", "3")).status_code == 404
            missing = await run.client.post(MERGE, json={"primaryObjectId": "1"})
            assert missing.status_code == 400

    run_virtual(scenario)


def test_chained_merges_record_every_id() -> None:
    async def scenario() -> None:
        async with running_mock(3) as run:
            await _merge(run, "2", "3")
            await _merge(run, "1", "2")
            ids = run.store.companies[1].properties["hs_merged_object_ids"]
            assert ids.split(";") == ["2", "3"]
            body = (await run.client.get(f"{COMPANIES}/3")).json()
            assert body["id"] == "1"

    run_virtual(scenario)


def test_reading_a_merged_away_id_returns_the_survivor() -> None:
    async def scenario() -> None:
        async with running_mock(4) as run:
            await _merge(run, "1", "3")
            one = await run.client.get(f"{COMPANIES}/3", params={"properties": "name"})
            assert one.status_code == 200
            assert one.json()["id"] == "1"
            assert (
                one.json()["properties"]["name"]
                == run.store.companies[1].properties["name"]
            )
            body = {"inputs": [{"id": "3"}, {"id": "2"}, {"id": "1"}]}
            batch = await run.client.post(f"{COMPANIES}/batch/read", json=body)
            assert batch.status_code == 200
            assert [r["id"] for r in batch.json()["results"]] == ["1", "2"]
            # archived=true does not find it: a merged company cannot be restored.
            archived = await run.client.get(
                f"{COMPANIES}/3", params={"archived": "true"}
            )
            assert archived.status_code == 404
            # Once the survivor is archived too, the merged-away id is not found either.
            run.store.archive(1)
            assert (await run.client.get(f"{COMPANIES}/3")).status_code == 404

    run_virtual(scenario)


def test_merged_away_companies_leave_list_archived_list_and_search() -> None:
    async def scenario() -> None:
        async with running_mock(5, index_lag_s=1.0) as run:
            await asyncio.sleep(2)
            run.store.archive(5)
            await _merge(run, "1", "2")
            live = (await run.client.get(COMPANIES)).json()["results"]
            assert [r["id"] for r in live] == ["1", "3", "4"]
            archived = await run.client.get(COMPANIES, params={"archived": "true"})
            assert [r["id"] for r in archived.json()["results"]] == ["5"]
            await asyncio.sleep(2)
            search = await run.client.post(SEARCH, json={})
            assert search.json()["total"] == 3
            assert [r["id"] for r in search.json()["results"]] == ["1", "3", "4"]
            merged_ids = {
                "filterGroups": [
                    {
                        "filters": [
                            {
                                "propertyName": "hs_merged_object_ids",
                                "operator": "HAS_PROPERTY",
                            }
                        ]
                    }
                ]
            }
            found = (await run.client.post(SEARCH, json=merged_ids)).json()
            assert [r["id"] for r in found["results"]] == ["1"]

    run_virtual(scenario)


def test_merge_reaches_search_only_after_the_lag() -> None:
    async def scenario() -> None:
        async with running_mock(3, index_lag_s=5.0) as run:
            await asyncio.sleep(10)
            await _merge(run, "1", "2")
            before = (await run.client.post(SEARCH, json={})).json()
            assert [r["id"] for r in before["results"]] == ["1", "2", "3"]
            await asyncio.sleep(5)
            after = (await run.client.post(SEARCH, json={})).json()
            assert [r["id"] for r in after["results"]] == ["1", "3"]

    run_virtual(scenario)


def test_merged_away_id_is_not_a_write_target() -> None:
    async def scenario() -> None:
        async with running_mock(3) as run:
            await _merge(run, "1", "2")
            patch = await run.client.patch(
                f"{COMPANIES}/2", json={"properties": {"city": "Oslo"}}
            )
            assert patch.status_code == 404
            batch = {"inputs": [{"id": "2", "properties": {"city": "Oslo"}}]}
            update = await run.client.post(f"{COMPANIES}/batch/update", json=batch)
            assert update.status_code == 207
            assert (await run.client.delete(f"{COMPANIES}/2")).status_code == 204
            assert run.store.companies[2].merged_into == 1

    run_virtual(scenario)
