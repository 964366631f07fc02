"""Single and batch writes of the companies API: update, archive, create, upsert, 409."""

from __future__ import annotations

import asyncio

from hubspot_helpers import running_mock

from pytest_syncbench.clock import iso_ms
from pytest_syncbench.loop import run_virtual

COMPANIES = "/crm/v3/objects/companies"
SEARCH = f"{COMPANIES}/search"


def test_patch_updates_one_company() -> None:
    async def scenario() -> None:
        async with running_mock(3) as run:
            await asyncio.sleep(5)
            response = await run.client.patch(
                f"{COMPANIES}/2", json={"properties": {"city": "Oslo", "phone": None}}
            )
            assert response.status_code == 200
            body = response.json()
            assert body["id"] == "2"
            assert body["properties"]["city"] == "Oslo"
            assert body["properties"]["phone"] is None
            assert set(body["properties"]) == {
                "city",
                "phone",
                "createdate",
                "hs_lastmodifieddate",
                "hs_object_id",
            }
            now = iso_ms(run.clock.now_ms())  # the write commits after the latency
            assert body["updatedAt"] == body["properties"]["hs_lastmodifieddate"] == now
            assert run.store.companies[2].properties["city"] == "Oslo"
            assert run.store.changes[-1].source == "INTEGRATION"

    run_virtual(scenario)


def test_patch_unknown_or_archived_is_404() -> None:
    async def scenario() -> None:
        async with running_mock(3) as run:
            run.store.archive(3)
            for company_id in ("99", "3", "abc"):
                response = await run.client.patch(
                    f"{COMPANIES}/{company_id}", json={"properties": {"city": "Oslo"}}
                )
                assert response.status_code == 404, company_id
                assert response.json()["category"] == "OBJECT_NOT_FOUND"

    run_virtual(scenario)


def test_delete_archives_without_bumping_last_modified() -> None:
    async def scenario() -> None:
        async with running_mock(3) as run:
            before = dict(run.store.companies[1].properties)
            response = await run.client.delete(f"{COMPANIES}/1")
            assert response.status_code == 204
            assert response.content == b""
            company = run.store.companies[1]
            assert company.archived
            assert (
                company.properties["hs_lastmodifieddate"]
                == before["hs_lastmodifieddate"]
            )
            assert (await run.client.get(f"{COMPANIES}/1")).status_code == 404
            archived = await run.client.get(
                f"{COMPANIES}/1", params={"archived": "true"}
            )
            assert archived.status_code == 200
            assert archived.json()["archived"] is True
            assert archived.json()["archivedAt"] == iso_ms(company.archived_ms)

    run_virtual(scenario)


def test_delete_of_unknown_or_archived_id_is_204() -> None:
    # HubSpot returns 204 whatever the id's state, and nothing is written for these.
    async def scenario() -> None:
        async with running_mock(2) as run:
            run.store.archive(2)
            changes = len(run.store.changes)
            for company_id in ("99", "2", "x"):
                response = await run.client.delete(f"{COMPANIES}/{company_id}")
                assert response.status_code == 204, company_id
            assert len(run.store.changes) == changes

    run_virtual(scenario)


def test_batch_create_is_201() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            body = {
                "inputs": [
                    {"properties": {"name": "Nova", "city": "Rome"}},
                    {"properties": {"name": "Orion"}, "associations": []},
                ]
            }
            response = await run.client.post(f"{COMPANIES}/batch/create", json=body)
            assert response.status_code == 201
            payload = response.json()
            assert payload["status"] == "COMPLETE"
            assert [item["id"] for item in payload["results"]] == ["3", "4"]
            assert payload["results"][0]["properties"]["city"] == "Rome"
            assert run.store.companies[4].properties["name"] == "Orion"
            assert {c.source for c in run.store.changes[-2:]} == {"INTEGRATION"}

    run_virtual(scenario)


def test_batch_create_over_100_is_400() -> None:
    async def scenario() -> None:
        async with running_mock(0) as run:
            body = {"inputs": [{"properties": {"name": str(i)}} for i in range(101)]}
            response = await run.client.post(f"{COMPANIES}/batch/create", json=body)
            assert response.status_code == 400
            assert response.json()["category"] == "VALIDATION_ERROR"
            assert run.store.companies == {}

    run_virtual(scenario)


def test_batch_archive_is_204_even_for_unknown_ids() -> None:
    async def scenario() -> None:
        async with running_mock(4) as run:
            body = {"inputs": [{"id": "1"}, {"id": "404"}, {"id": "3"}, {"id": "1"}]}
            response = await run.client.post(f"{COMPANIES}/batch/archive", json=body)
            assert response.status_code == 204
            assert response.content == b""
            assert [c.archived for c in run.store.companies.values()] == [
                True,
                False,
                True,
                False,
            ]
            again = await run.client.post(f"{COMPANIES}/batch/archive", json=body)
            assert again.status_code == 204

    run_virtual(scenario)


def test_archived_company_leaves_search_after_the_lag() -> None:
    async def scenario() -> None:
        async with running_mock(3, index_lag_s=2.0) as run:
            await asyncio.sleep(5)
            await run.client.delete(f"{COMPANIES}/2")
            body = {"limit": 10}
            ids = [
                r["id"]
                for r in (await run.client.post(SEARCH, json=body)).json()["results"]
            ]
            assert ids == ["1", "2", "3"]  # not yet indexed
            await asyncio.sleep(3)
            ids = [
                r["id"]
                for r in (await run.client.post(SEARCH, json=body)).json()["results"]
            ]
            assert ids == ["1", "3"]

    run_virtual(scenario)


def test_upsert_by_unique_property_creates_and_updates() -> None:
    async def scenario() -> None:
        async with running_mock(2, unique_properties={"external_id"}) as run:
            run.store.update(1, {"external_id": "A-1"})
            body = {
                "inputs": [
                    {
                        "idProperty": "external_id",
                        "id": "A-1",
                        "properties": {"city": "Lyon"},
                    },
                    {
                        "idProperty": "external_id",
                        "id": "B-2",
                        "properties": {"name": "New"},
                    },
                ]
            }
            response = await run.client.post(f"{COMPANIES}/batch/upsert", json=body)
            assert response.status_code == 200
            results = response.json()["results"]
            assert [(r["id"], r["new"]) for r in results] == [("1", False), ("3", True)]
            assert run.store.companies[1].properties["city"] == "Lyon"
            assert run.store.companies[3].properties["external_id"] == "B-2"
            assert results[1]["properties"]["external_id"] == "B-2"
            # Upserting the same input again updates the company it created.
            again = await run.client.post(f"{COMPANIES}/batch/upsert", json=body)
            assert [r["new"] for r in again.json()["results"]] == [False, False]
            assert len(run.store.companies) == 3

    run_virtual(scenario)


def test_upsert_by_object_id_updates_and_reports_missing() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            body = {
                "inputs": [
                    {
                        "idProperty": "hs_object_id",
                        "id": "2",
                        "properties": {"city": "Oslo"},
                    },
                    {"id": "77", "properties": {"city": "Oslo"}},
                ]
            }
            response = await run.client.post(f"{COMPANIES}/batch/upsert", json=body)
            assert response.status_code == 207
            payload = response.json()
            assert [(r["id"], r["new"]) for r in payload["results"]] == [("2", False)]
            assert payload["errors"][0]["context"] == {"ids": ["77"]}
            assert run.store.companies[2].properties["city"] == "Oslo"

    run_virtual(scenario)


def test_upsert_id_property_must_be_unique_or_object_id() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            body = {"inputs": [{"idProperty": "name", "id": "x", "properties": {}}]}
            response = await run.client.post(f"{COMPANIES}/batch/upsert", json=body)
            assert response.status_code == 400
            assert response.json()["category"] == "VALIDATION_ERROR"
            duplicate = {"inputs": [{"id": "1", "properties": {}}] * 2}
            response = await run.client.post(
                f"{COMPANIES}/batch/upsert", json=duplicate
            )
            assert response.status_code == 400

    run_virtual(scenario)


def _conflict(response) -> dict:
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["status"] == "error"
    assert body["category"] == "CONFLICT"
    assert body["correlationId"]
    return body


def test_unique_property_conflicts_are_409() -> None:
    async def scenario() -> None:
        async with running_mock(3, unique_properties={"external_id"}) as run:
            run.store.update(1, {"external_id": "A-1"})
            changes = len(run.store.changes)
            create = await run.client.post(
                COMPANIES, json={"properties": {"external_id": "A-1"}}
            )
            body = _conflict(create)
            assert body["message"] == "Company already exists. Existing ID: 1"
            assert body["errors"][0]["in"] == "external_id"
            _conflict(
                await run.client.patch(
                    f"{COMPANIES}/2", json={"properties": {"external_id": "A-1"}}
                )
            )
            batch = {"inputs": [{"id": "2", "properties": {"external_id": "A-1"}}]}
            _conflict(await run.client.post(f"{COMPANIES}/batch/update", json=batch))
            twins = {
                "inputs": [
                    {"properties": {"external_id": "Z"}},
                    {"properties": {"external_id": "Z"}},
                ]
            }
            _conflict(await run.client.post(f"{COMPANIES}/batch/create", json=twins))
            upsert = {
                "inputs": [
                    {"idProperty": "external_id", "id": "C-3", "properties": {}},
                    {"id": "2", "properties": {"external_id": "C-3"}},
                ]
            }
            _conflict(await run.client.post(f"{COMPANIES}/batch/upsert", json=upsert))
            # Nothing was written by any rejected request.
            assert len(run.store.changes) == changes
            # Rewriting a company's own value, or a value freed by an archive, is fine.
            same = await run.client.patch(
                f"{COMPANIES}/1", json={"properties": {"external_id": "A-1"}}
            )
            assert same.status_code == 200
            run.store.archive(1)
            freed = await run.client.post(
                COMPANIES, json={"properties": {"external_id": "A-1"}}
            )
            assert freed.status_code == 201

    run_virtual(scenario)


def test_no_unique_properties_by_default() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            for _ in range(2):
                response = await run.client.post(
                    COMPANIES, json={"properties": {"domain": "same.example"}}
                )
                assert response.status_code == 201

    run_virtual(scenario)


def test_undefined_property_is_400() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            created = await run.client.post(
                COMPANIES, json={"properties": {"name": "A", "nonexistent_prop": "x"}}
            )
            patched = await run.client.patch(
                f"{COMPANIES}/1", json={"properties": {"nonexistent_prop": "x"}}
            )
            batch = await run.client.post(
                f"{COMPANIES}/batch/update",
                json={"inputs": [{"id": "2", "properties": {"other_prop": "y"}}]},
            )
            assert created.status_code == 400
            body = created.json()
            assert body["category"] == "VALIDATION_ERROR"
            assert "PROPERTY_DOESNT_EXIST" in body["message"]
            assert '"name":"nonexistent_prop"' in body["message"]
            assert patched.status_code == 400
            assert batch.status_code == 400
            assert len(run.store.companies) == 2
            assert "nonexistent_prop" not in run.store.companies[1].properties

    run_virtual(scenario)


def test_defined_properties_are_a_setting() -> None:
    async def scenario() -> None:
        async with running_mock(0, company_properties=frozenset({"custom"})) as run:
            custom = await run.client.post(
                COMPANIES, json={"properties": {"custom": "x"}}
            )
            standard = await run.client.post(
                COMPANIES, json={"properties": {"city": "Oslo"}}
            )
            assert custom.status_code == 201
            assert standard.status_code == 400

    run_virtual(scenario)


def test_read_by_unique_id_property() -> None:
    async def scenario() -> None:
        async with running_mock(3, unique_properties={"external_id"}) as run:
            run.store.update(3, {"external_id": "K"})
            one = await run.client.get(
                f"{COMPANIES}/K", params={"idProperty": "external_id"}
            )
            assert one.status_code == 200
            assert one.json()["id"] == "3"
            body = {"idProperty": "external_id", "inputs": [{"id": "K"}, {"id": "Q"}]}
            batch = await run.client.post(f"{COMPANIES}/batch/read", json=body)
            assert batch.status_code == 207
            assert [r["id"] for r in batch.json()["results"]] == ["3"]
            bad = await run.client.get(f"{COMPANIES}/K", params={"idProperty": "name"})
            assert bad.status_code == 400

    run_virtual(scenario)
