"""Ingestion API of the mock Databox, over HTTP against the real server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pytest_syncbench.databox.server import DataboxMock

Serve = Callable[..., Any]  # the conftest fixture
KEY = {"x-api-key": "ingest-key-0001"}  # DataboxConfig's default API key


async def _ingest(
    client: httpx.AsyncClient, dataset_id: str, records: list[Any]
) -> httpx.Response:
    return await client.post(
        f"/v1/datasets/{dataset_id}/data", json={"records": records}, headers=KEY
    )


def test_accepted_ingestion_is_recorded_with_its_arrival_time(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        await asyncio.sleep(7)
        answer = await _ingest(client, dataset.id, [{"id": "1", "name": "Acme"}])
        return answer, mock, dataset

    answer, mock, dataset = serve(scenario)
    assert answer.status_code == 200
    write = mock.writes[0]
    assert write.kind == "ingest"
    assert write.arrival_s == pytest.approx(7.0)
    assert write.dataset_id == dataset.id
    assert write.rows == [{"id": "1", "name": "Acme"}]
    assert write.write_id == answer.json()["ingestionId"]


def test_upsert_replaces_the_whole_row(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        await _ingest(client, dataset.id, [{"id": "1", "name": "Acme", "city": "Oslo"}])
        await _ingest(client, dataset.id, [{"id": "1", "name": "Acme Inc"}])
        return dataset

    dataset = serve(scenario)
    assert dataset.rows == {("1",): {"id": "1", "name": "Acme Inc"}}
    assert dataset.row_count == 1


def test_later_row_wins_within_one_call(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        await _ingest(client, dataset.id, [{"id": "1", "v": 1}, {"id": "1", "v": 2}])
        return dataset

    assert serve(scenario).rows[("1",)] == {"id": "1", "v": 2}


def test_without_upsert_rows_are_appended(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        await _ingest(client, dataset.id, [{"id": "1", "v": 1}])
        await _ingest(client, dataset.id, [{"id": "1", "v": 2}])
        return dataset

    dataset = serve(scenario, upsert=False)
    assert dataset.row_count == 2
    assert dataset.rows[("1",)] == {"id": "1", "v": 2}


def test_composite_primary_key_keys_rows_by_tuple(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("deals", ["portal", "id"])
        await _ingest(client, dataset.id, [{"portal": 7, "id": "1"}])
        return dataset

    assert list(serve(scenario).rows) == [(7, "1")]


def test_101_records_get_400_with_the_exact_body(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        records = [{"id": str(i)} for i in range(101)]
        answer = await _ingest(client, dataset.id, records)
        return answer, mock

    answer, mock = serve(scenario)
    assert answer.status_code == 400
    body = answer.json()
    assert isinstance(body.pop("requestId"), str)
    assert body == {
        "status": "error",
        "errors": [
            {
                "code": "invalid_input",
                "message": "records must contain at most 100 items",
                "field": "records",
                "type": "validation",
            }
        ],
    }
    assert mock.writes == []


def test_100_records_are_accepted(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        answer = await _ingest(client, dataset.id, [{"id": str(i)} for i in range(100)])
        return answer, dataset

    answer, dataset = serve(scenario)
    assert answer.status_code == 200
    assert dataset.row_count == 100


def test_unknown_dataset_gets_404(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        answer = await _ingest(client, "no-such-dataset", [{"id": "1"}])
        return answer, mock

    answer, mock = serve(scenario)
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["code"] == "not_found"
    assert mock.writes == []


def test_missing_primary_key_gets_400(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        answer = await _ingest(client, dataset.id, [{"id": "1"}, {"name": "no id"}])
        return answer, dataset

    answer, dataset = serve(scenario)
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert error["field"] == "records[1].id"
    assert "'id'" in error["message"]
    assert dataset.row_count == 0


def test_null_primary_key_counts_as_missing(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        return await _ingest(client, dataset.id, [{"id": None}])

    assert serve(scenario).status_code == 400


@pytest.mark.parametrize(
    "headers", [{}, {"x-api-key": "wrong"}], ids=["missing", "wrong"]
)
def test_bad_api_key_gets_401(serve: Serve, headers: dict[str, str]) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        answer = await client.post(
            f"/v1/datasets/{dataset.id}/data",
            json={"records": [{"id": "1"}]},
            headers=headers,
        )
        return answer, mock

    answer, mock = serve(scenario)
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["code"] == "unauthorized"
    assert mock.writes == []


def test_eleventh_ingestion_in_one_second_gets_429(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        answers = await asyncio.gather(
            *(_ingest(client, dataset.id, [{"id": str(i)}]) for i in range(11))
        )
        return answers, mock

    answers, mock = serve(scenario)
    assert sorted(answer.status_code for answer in answers) == [200] * 10 + [429]
    assert len(mock.writes) == 10


def test_accepted_ingestion_body_follows_the_docs(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        return await _ingest(client, dataset.id, [{"id": "1"}])

    body = serve(scenario).json()
    assert set(body) == {"requestId", "status", "ingestionId", "message"}
    assert body["status"] == "success"
    assert body["message"] == "Data ingestion request accepted"


def test_ingestion_status_reports_completed(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        await _ingest(client, dataset.id, [{"id": "1"}])
        answer = await _ingest(client, dataset.id, [{"id": "1"}, {"id": "2"}])
        ingestion_id = answer.json()["ingestionId"]
        return await client.get(
            f"/v1/datasets/{dataset.id}/ingestions/{ingestion_id}", headers=KEY
        )

    status = serve(scenario).json()
    assert status["status"] == "success"
    assert status["ingestionStatus"] == "completed"
    assert status["recordsIngested"] == 2
    counts = status["metrics"]["ingestionMetrics"]
    assert counts["receivedRecordsCount"] == 2
    assert counts["appendedRecordsCount"] == 1
    assert counts["overwrittenRecordsCount"] == 1
    assert status["metrics"]["datasetMetrics"]["totalDatasetRecordsCount"] == 2


def test_ingestion_processing_until_delay_passes(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        answer = await _ingest(client, dataset.id, [{"id": "1"}])
        path = f"/v1/datasets/{dataset.id}/ingestions/{answer.json()['ingestionId']}"
        early = (await client.get(path, headers=KEY)).json()
        rows_early = dict(dataset.rows)
        writes_early = len(mock.writes)
        await asyncio.sleep(5)
        late = (await client.get(path, headers=KEY)).json()
        return early, rows_early, writes_early, late, dataset, mock

    early, rows_early, writes_early, late, dataset, mock = serve(
        scenario, ingest_processing_s=4.0, response_latency_s=0.0
    )
    assert early["ingestionStatus"] == "processing"
    assert early["recordsIngested"] == 0
    assert rows_early == {}
    assert writes_early == 0
    assert late["ingestionStatus"] == "completed"
    assert late["recordsIngested"] == 1
    assert dataset.rows == {("1",): {"id": "1"}}
    assert mock.writes[0].arrival_s == pytest.approx(0.0)
    assert mock.writes[0].visible_s == pytest.approx(4.0)


def test_no_delay_rows_visible_on_arrival(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        await asyncio.sleep(2)
        await _ingest(client, dataset.id, [{"id": "1"}])
        return mock.writes[0]

    write = serve(scenario)
    assert write.visible_s == pytest.approx(2.0)
    assert write.visible_s == write.arrival_s


def test_ingestions_are_listed_with_their_status(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        answer = await _ingest(client, dataset.id, [{"id": "1"}])
        listed = await client.get(f"/v1/datasets/{dataset.id}/ingestions", headers=KEY)
        return answer.json()["ingestionId"], listed.json()

    ingestion_id, listed = serve(scenario)
    assert listed["pagination"]["totalItems"] == 1
    assert listed["ingestions"][0]["ingestionId"] == ingestion_id
    assert listed["ingestions"][0]["status"] == "completed"


def test_unknown_ingestion_gets_404(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        return await client.get(
            f"/v1/datasets/{dataset.id}/ingestions/unknown", headers=KEY
        )

    assert serve(scenario).status_code == 404


def test_dataset_created_over_http_accepts_records(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        created = await client.post(
            "/v1/datasets",
            json={"title": "companies", "primaryKeys": ["id"]},
            headers=KEY,
        )
        dataset_id = created.json()["id"]
        await _ingest(client, dataset_id, [{"id": "1"}])
        return created, mock.datasets[dataset_id]

    created, dataset = serve(scenario)
    assert created.status_code == 201
    assert created.json()["status"] == "success"
    assert created.json()["title"] == "companies"
    assert dataset.primary_keys == ["id"]
    assert dataset.row_count == 1


def test_null_primary_keys_append_rows(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        created = await client.post(
            "/v1/datasets", json={"title": "events", "primaryKeys": None}, headers=KEY
        )
        dataset_id = created.json()["id"]
        await _ingest(client, dataset_id, [{"id": "1"}])
        await _ingest(client, dataset_id, [{"id": "1"}])
        return created, mock.datasets[dataset_id]

    created, dataset = serve(scenario)
    assert created.status_code == 201
    assert dataset.primary_keys == []
    assert dataset.row_count == 2


def test_same_seed_gives_the_same_ids(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        answer = await _ingest(client, dataset.id, [{"id": "1"}])
        return dataset.id, answer.json()["ingestionId"]

    assert serve(scenario, seed=3) == serve(scenario, seed=3)


def test_access_describes_how_to_reach_the_dataset(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        return mock.access(dataset.id), mock.base_url, dataset.id

    access, base_url, dataset_id = serve(scenario)
    assert access.base_url == base_url
    assert access.dataset_id == dataset_id
    assert access.api_key == "ingest-key-0001"


def test_call_log_labels_the_route_template(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        await _ingest(client, dataset.id, [{"id": "1"}])
        return mock.calls[0]

    assert serve(scenario).endpoint == "POST /v1/datasets/{id}/data"


def test_ingestion_over_payload_limit_gets_413(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        records = [{"id": str(i), "notes": "x" * 100} for i in range(20)]
        answer = await _ingest(client, dataset.id, records)
        return answer, mock

    answer, mock = serve(scenario, payload_limit_bytes=1_024)
    assert answer.status_code == 413
    body = answer.json()
    assert body["status"] == "error"
    assert body["errors"][0]["code"] == "REQUEST_ENTITY_TOO_LARGE"
    assert mock.writes == []
