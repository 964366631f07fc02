"""List, get, batch read, writes and auth of the mock HubSpot companies API."""

from __future__ import annotations

from typing import Any

from hubspot_helpers import running_mock

from pytest_syncbench.loop import run_virtual

COMPANIES = "/crm/v3/objects/companies"


async def _all_pages(client: Any, **params: Any) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    after = None
    while True:
        query = dict(params)
        if after is not None:
            query["after"] = after
        response = await client.get(COMPANIES, params=query)
        assert response.status_code == 200
        body = response.json()
        results.extend(body["results"])
        after = body.get("paging", {}).get("next", {}).get("after")
        if after is None:
            return results


def test_paging_visits_every_company_once() -> None:
    async def scenario() -> None:
        async with running_mock(250) as run:
            run.store.archive(5)
            results = await _all_pages(run.client, limit=100)
            ids = [int(item["id"]) for item in results]
            expected = [cid for cid in range(1, 251) if cid != 5]
            assert ids == expected

    run_virtual(scenario)


def test_list_default_limit_and_properties() -> None:
    async def scenario() -> None:
        async with running_mock(30) as run:
            body = (await run.client.get(COMPANIES)).json()
            assert len(body["results"]) == 10
            first = body["results"][0]
            expected = {
                "name",
                "domain",
                "createdate",
                "hs_lastmodifieddate",
                "hs_object_id",
            }
            assert set(first["properties"]) == expected
            assert first["updatedAt"] == first["properties"]["hs_lastmodifieddate"]
            assert first["archived"] is False
            assert "archivedAt" not in first
            assert body["paging"]["next"]["link"].startswith(
                run.mock.base_url + COMPANIES
            )

    run_virtual(scenario)


def test_list_properties_repeated_and_joined() -> None:
    async def scenario() -> None:
        async with running_mock(3) as run:
            repeated = await run.client.get(
                f"{COMPANIES}?properties=industry&properties=city&limit=1"
            )
            joined = await run.client.get(
                COMPANIES, params={"properties": "industry,city"}
            )
            names = set(repeated.json()["results"][0]["properties"])
            assert names == {
                "industry",
                "city",
                "createdate",
                "hs_lastmodifieddate",
                "hs_object_id",
            }
            assert set(joined.json()["results"][0]["properties"]) == names

    run_virtual(scenario)


def test_list_unset_property_is_null() -> None:
    async def scenario() -> None:
        async with running_mock(1) as run:
            run.store.update(1, {"city": None})
            body = (
                await run.client.get(COMPANIES, params={"properties": "city,nosuch"})
            ).json()
            assert body["results"][0]["properties"]["city"] is None
            assert body["results"][0]["properties"]["nosuch"] is None

    run_virtual(scenario)


def test_list_limit_above_100_is_capped() -> None:
    async def scenario() -> None:
        async with running_mock(150) as run:
            body = (await run.client.get(COMPANIES, params={"limit": 500})).json()
            assert len(body["results"]) == 100

    run_virtual(scenario)


def test_list_limit_above_100_error_setting() -> None:
    async def scenario() -> None:
        async with running_mock(150, list_over_limit="error") as run:
            response = await run.client.get(COMPANIES, params={"limit": 101})
            assert response.status_code == 400
            assert response.json()["category"] == "VALIDATION_ERROR"

    run_virtual(scenario)


def test_list_archived_both_spellings() -> None:
    async def scenario() -> None:
        async with running_mock(20) as run:
            run.store.archive(3)
            run.store.archive(17)
            for spelling in ("true", "True"):
                body = (
                    await run.client.get(COMPANIES, params={"archived": spelling})
                ).json()
                assert [item["id"] for item in body["results"]] == ["3", "17"]
                assert body["results"][0]["archived"] is True
                assert body["results"][0]["archivedAt"].endswith("Z")
            live = await _all_pages(run.client, archived="False", limit=7)
            assert len(live) == 18

    run_virtual(scenario)


def test_list_invalid_cursor_is_400() -> None:
    async def scenario() -> None:
        async with running_mock(5) as run:
            response = await run.client.get(
                COMPANIES, params={"after": "not a cursor!"}
            )
            assert response.status_code == 400

    run_virtual(scenario)


def test_get_by_id_and_missing() -> None:
    async def scenario() -> None:
        async with running_mock(5) as run:
            found = await run.client.get(
                f"{COMPANIES}/4", params={"properties": "industry"}
            )
            assert found.status_code == 200
            assert found.json()["id"] == "4"
            assert "industry" in found.json()["properties"]
            missing = await run.client.get(f"{COMPANIES}/99")
            assert missing.status_code == 404
            assert missing.json()["category"] == "OBJECT_NOT_FOUND"
            run.store.archive(2)
            archived = await run.client.get(f"{COMPANIES}/2")
            assert archived.status_code == 404

    run_virtual(scenario)


def test_batch_read_partial_is_207() -> None:
    async def scenario() -> None:
        async with running_mock(5) as run:
            body = {
                "inputs": [{"id": "1"}, {"id": "77"}, {"id": "3"}],
                "properties": ["city"],
            }
            response = await run.client.post(f"{COMPANIES}/batch/read", json=body)
            assert response.status_code == 207
            payload = response.json()
            assert [item["id"] for item in payload["results"]] == ["1", "3"]
            assert payload["numErrors"] == 1
            error = payload["errors"][0]
            assert error["category"] == "OBJECT_NOT_FOUND"
            assert error["context"] == {"ids": ["77"]}
            assert "city" in payload["results"][0]["properties"]

    run_virtual(scenario)


def test_batch_read_all_found_is_200() -> None:
    async def scenario() -> None:
        async with running_mock(5) as run:
            body = {"inputs": [{"id": "1"}, {"id": "2"}]}
            response = await run.client.post(f"{COMPANIES}/batch/read", json=body)
            assert response.status_code == 200
            assert "errors" not in response.json()

    run_virtual(scenario)


def test_batch_read_over_100_inputs_is_400() -> None:
    async def scenario() -> None:
        async with running_mock(5) as run:
            body = {"inputs": [{"id": str(i)} for i in range(1, 102)]}
            response = await run.client.post(f"{COMPANIES}/batch/read", json=body)
            assert response.status_code == 400
            assert response.json()["category"] == "VALIDATION_ERROR"

    run_virtual(scenario)


def test_create_and_batch_update_write_through() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            created = await run.client.post(
                COMPANIES, json={"properties": {"name": "Nova"}}
            )
            assert created.status_code == 201
            new_id = int(created.json()["id"])
            assert run.store.companies[new_id].properties["name"] == "Nova"
            assert run.store.changes[-1].source == "INTEGRATION"
            update = {"inputs": [{"id": "1", "properties": {"city": "Oslo"}}]}
            updated = await run.client.post(f"{COMPANIES}/batch/update", json=update)
            assert updated.status_code == 200
            assert run.store.companies[1].properties["city"] == "Oslo"
            assert run.store.changes[-1].source == "INTEGRATION"

    run_virtual(scenario)


def test_missing_or_wrong_token_is_401() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            for headers in ({"Authorization": "Bearer wrong"}, {"Authorization": ""}):
                response = await run.client.get(COMPANIES, headers=headers)
                assert response.status_code == 401
                assert response.json()["category"] == "INVALID_AUTHENTICATION"

    run_virtual(scenario)


def test_unknown_route_is_html_404() -> None:
    async def scenario() -> None:
        async with running_mock(0) as run:
            response = await run.client.get("/crm/v3/objects/nothing/here")
            assert response.status_code == 404
            assert response.headers["content-type"].startswith("text/html")

    run_virtual(scenario)


def test_calls_record_endpoint_and_status() -> None:
    async def scenario() -> None:
        async with running_mock(3) as run:
            await run.client.get(f"{COMPANIES}/1")
            await run.client.get(f"{COMPANIES}/42")
            labels = [(call.endpoint, call.status) for call in run.mock.calls]
            assert labels == [
                ("GET /crm/v3/objects/companies/{company_id}", 200),
                ("GET /crm/v3/objects/companies/{company_id}", 404),
            ]
            assert run.mock.calls[0].response_bytes > 0

    run_virtual(scenario)


def test_latency_costs_virtual_time() -> None:
    async def scenario() -> None:
        async with running_mock(3, read_latency_s=0.5) as run:
            before = run.clock.now()
            await run.client.get(f"{COMPANIES}/1")
            assert run.clock.now() - before >= 0.5

    run_virtual(scenario)
