"""Reads of the companies API: property histories, null properties, archive retention."""

from __future__ import annotations

import asyncio

import pytest
from hubspot.crm.companies.models import ValueWithTimestamp
from hubspot_helpers import running_mock

from pytest_syncbench.clock import iso_ms
from pytest_syncbench.hubspot.store import CompanyNotFound
from pytest_syncbench.loop import run_virtual

COMPANIES = "/crm/v3/objects/companies"
SEARCH = f"{COMPANIES}/search"
DAY_S = 86_400.0


def _history_fields() -> set[str]:
    """The JSON names of the official client's ValueWithTimestamp model."""
    return set(ValueWithTimestamp.attribute_map.values())


def test_get_with_history_lists_versions_newest_first() -> None:
    async def scenario() -> None:
        async with running_mock(1) as run:
            first = run.store.companies[1].properties["city"]
            await asyncio.sleep(10)
            run.store.update(1, {"city": "Austin"})
            await asyncio.sleep(10)
            await run.client.patch(
                f"{COMPANIES}/1", json={"properties": {"city": None}}
            )
            response = await run.client.get(
                f"{COMPANIES}/1",
                params={"propertiesWithHistory": "city,nosuch", "properties": "city"},
            )
            assert response.status_code == 200
            body = response.json()
            assert body["properties"]["city"] is None
            versions = body["propertiesWithHistory"]["city"]
            assert [v["value"] for v in versions] == ["", "Austin", first]
            stamps = [c.committed_ms for c in reversed(run.store.history(1))]
            assert [v["timestamp"] for v in versions] == [iso_ms(ms) for ms in stamps]
            assert [v["sourceType"] for v in versions] == [
                "INTEGRATION",
                "CRM_UI",
                "CRM_UI",
            ]
            assert versions[0]["sourceId"] == str(run.mock.config.app_id)
            assert "sourceId" not in versions[1]
            for version in versions:
                assert set(version) <= _history_fields()
                assert {"value", "timestamp", "sourceType"} <= set(version)
            assert body["propertiesWithHistory"]["nosuch"] == []
            modified = (
                await run.client.get(
                    f"{COMPANIES}/1",
                    params={"propertiesWithHistory": "hs_lastmodifieddate"},
                )
            ).json()["propertiesWithHistory"]["hs_lastmodifieddate"]
            assert modified[0]["sourceType"] == "CALCULATED"
            assert modified[0]["value"] == body["updatedAt"]

    run_virtual(scenario)


def test_list_and_batch_read_with_history() -> None:
    async def scenario() -> None:
        async with running_mock(60) as run:
            run.store.update(2, {"industry": "RETAIL"})
            listed = await run.client.get(
                COMPANIES,
                params=[("propertiesWithHistory", "industry"), ("limit", "100")],
            )
            assert listed.status_code == 200
            page = listed.json()
            # A history listing pages 50 at a time, since HubSpot documents only that
            # the page size is "reduced".
            assert len(page["results"]) == 50
            versions = page["results"][1]["propertiesWithHistory"]["industry"]
            assert versions[0]["value"] == "RETAIL"
            plain = (await run.client.get(COMPANIES)).json()["results"][0]
            assert "propertiesWithHistory" not in plain
            body = {
                "inputs": [{"id": "2"}],
                "properties": ["industry"],
                "propertiesWithHistory": ["industry"],
            }
            batch = await run.client.post(f"{COMPANIES}/batch/read", json=body)
            assert batch.status_code == 200
            result = batch.json()["results"][0]
            assert len(result["propertiesWithHistory"]["industry"]) == 2

    run_virtual(scenario)


def test_batch_read_with_history_takes_at_most_50_inputs() -> None:
    async def scenario() -> None:
        async with running_mock(60) as run:
            inputs = [{"id": str(i)} for i in range(1, 52)]
            over = await run.client.post(
                f"{COMPANIES}/batch/read",
                json={"inputs": inputs, "propertiesWithHistory": ["name"]},
            )
            assert over.status_code == 400
            assert over.json()["category"] == "VALIDATION_ERROR"
            assert "50" in over.json()["message"]
            at_limit = await run.client.post(
                f"{COMPANIES}/batch/read",
                json={"inputs": inputs[:50], "propertiesWithHistory": ["name"]},
            )
            assert at_limit.status_code == 200
            without = await run.client.post(
                f"{COMPANIES}/batch/read", json={"inputs": inputs}
            )
            assert without.status_code == 200

    run_virtual(scenario)


def test_unset_properties_are_null_everywhere() -> None:
    async def scenario() -> None:
        async with running_mock(2, index_lag_s=0.0) as run:
            run.store.update(1, {"city": None})
            params = {"properties": "city,nosuch"}
            one = (await run.client.get(f"{COMPANIES}/1", params=params)).json()
            body = {"inputs": [{"id": "1"}], "properties": ["city", "nosuch"]}
            batch = (await run.client.post(f"{COMPANIES}/batch/read", json=body)).json()
            search_body = {
                "properties": ["city", "nosuch"],
                "filterGroups": [
                    {
                        "filters": [
                            {
                                "propertyName": "hs_object_id",
                                "operator": "EQ",
                                "value": "1",
                            }
                        ]
                    }
                ],
            }
            search = (await run.client.post(SEARCH, json=search_body)).json()
            for obj in (one, batch["results"][0], search["results"][0]):
                assert obj["properties"]["city"] is None
                assert obj["properties"]["nosuch"] is None

    run_virtual(scenario)


def test_archived_companies_are_purged_after_the_retention() -> None:
    async def scenario() -> None:
        async with running_mock(4, archive_retention_s=10 * DAY_S) as run:
            run.store.archive(2)
            await asyncio.sleep(5 * DAY_S)
            run.store.archive(3)
            archived = {"archived": "true"}

            async def listed() -> list[str]:
                body = (await run.client.get(COMPANIES, params=archived)).json()
                return [r["id"] for r in body["results"]]

            assert await listed() == ["2", "3"]
            await asyncio.sleep(5 * DAY_S)
            # Company 2 was archived exactly 10 days ago: purged.
            assert await listed() == ["3"]
            gone = await run.client.get(f"{COMPANIES}/2", params=archived)
            assert gone.status_code == 404
            kept = await run.client.get(f"{COMPANIES}/3", params=archived)
            assert kept.status_code == 200
            body = {"inputs": [{"id": "2"}, {"id": "3"}]}
            batch = await run.client.post(
                f"{COMPANIES}/batch/read", params=archived, json=body
            )
            assert batch.status_code == 207
            assert [r["id"] for r in batch.json()["results"]] == ["3"]
            with pytest.raises(CompanyNotFound):
                run.store.restore(2, retention_ms=10 * 86_400_000)
            run.store.restore(3, retention_ms=10 * 86_400_000)
            assert await listed() == []
            live = (await run.client.get(COMPANIES)).json()["results"]
            assert [r["id"] for r in live] == ["1", "3", "4"]

    run_virtual(scenario)


def test_default_retention_is_90_days() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            assert run.mock.config.archive_retention_s == 90 * DAY_S
            run.store.archive(1)
            await asyncio.sleep(89 * DAY_S)
            body = (await run.client.get(COMPANIES, params={"archived": "true"})).json()
            assert [r["id"] for r in body["results"]] == ["1"]
            await asyncio.sleep(DAY_S)
            body = (await run.client.get(COMPANIES, params={"archived": "true"})).json()
            assert body["results"] == []
            with pytest.raises(CompanyNotFound):
                run.store.restore(1)

    run_virtual(scenario)


def test_archived_listing_skips_purged_companies_across_pages() -> None:
    async def scenario() -> None:
        async with running_mock(30, archive_retention_s=DAY_S) as run:
            for company_id in range(1, 21):
                run.store.archive(company_id)
            await asyncio.sleep(2 * DAY_S)
            for company_id in range(21, 31, 2):
                run.store.archive(company_id)
            first = (
                await run.client.get(COMPANIES, params={"archived": "true", "limit": 3})
            ).json()
            assert [r["id"] for r in first["results"]] == ["21", "23", "25"]
            after = first["paging"]["next"]["after"]
            second = (
                await run.client.get(
                    COMPANIES, params={"archived": "true", "limit": 3, "after": after}
                )
            ).json()
            assert [r["id"] for r in second["results"]] == ["27", "29"]
            assert "paging" not in second

    run_virtual(scenario)
