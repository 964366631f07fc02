"""Handlers of the ingestion API: datasets and their records under ``x-api-key``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from pytest_syncbench.databox.arrival import ARRIVAL_MS, ARRIVAL_S
from pytest_syncbench.databox.records import Dataset, Ingestion, Write
from pytest_syncbench.databox.responses import (
    ingest_error,
    invalid_input,
    json_response,
)

if TYPE_CHECKING:
    from pytest_syncbench.databox.server import DataboxMock

# Primary-key values must be hashable scalars to key a row; JSON null counts as missing.
_KEY_TYPES = (str, int, float)


class IngestApi:
    def __init__(self, mock: DataboxMock) -> None:
        self._mock = mock

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/datasets", self.create_dataset)
        app.router.add_get("/v1/datasets/{id}", self.get_dataset)
        app.router.add_post("/v1/datasets/{id}/data", self.ingest)
        app.router.add_get(
            "/v1/datasets/{id}/ingestions/{ingestionId}", self.get_ingestion
        )

    def _admit(self, request: web.Request) -> web.Response | None:
        """Check the API key, then the rate limit; return the rejection or None."""
        if request.headers.get("x-api-key") != self._mock.config.api_key:
            return ingest_error(
                401, "unauthorized", "Invalid or missing API key", "authentication"
            )
        if not self._mock.ingest_limiter.try_acquire(request[ARRIVAL_S]):
            return ingest_error(
                429, "too_many_requests", "Too many requests", "rate_limit"
            )
        return None

    def _dataset(self, request: web.Request) -> Dataset | web.Response:
        dataset_id = request.match_info["id"]
        dataset = self._mock.datasets.get(dataset_id)
        if dataset is None:
            return ingest_error(
                404, "not_found", f"Dataset {dataset_id} not found", "not_found"
            )
        return dataset

    async def create_dataset(self, request: web.Request) -> web.Response:
        if (denied := self._admit(request)) is not None:
            return denied
        try:
            payload = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return invalid_input("Request body is not valid JSON", "body")
        if not isinstance(payload, dict):
            return invalid_input("Request body must be an object", "body")
        title = payload.get("title", payload.get("name"))
        if not isinstance(title, str) or not title:
            return invalid_input("title is required", "title")
        primary_keys = payload.get("primaryKeys", [])
        if not isinstance(primary_keys, list) or not all(
            isinstance(name, str) and name for name in primary_keys
        ):
            return invalid_input(
                "primaryKeys must be an array of field names", "primaryKeys"
            )
        dataset = self._mock.create_dataset(title, primary_keys)
        return json_response(_describe(dataset), status=201)

    async def get_dataset(self, request: web.Request) -> web.Response:
        if (denied := self._admit(request)) is not None:
            return denied
        found = self._dataset(request)
        if isinstance(found, web.Response):
            return found
        return json_response(_describe(found))

    async def ingest(self, request: web.Request) -> web.Response:
        if (denied := self._admit(request)) is not None:
            return denied
        found = self._dataset(request)
        if isinstance(found, web.Response):
            return found
        body = await request.read()
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return invalid_input("Request body is not valid JSON", "body")
        records = payload.get("records") if isinstance(payload, dict) else None
        if not isinstance(records, list) or not records:
            return invalid_input(
                "records must be a non-empty array of objects", "records"
            )

        limit = self._mock.config.max_records_per_ingest
        if len(records) > limit:
            return invalid_input(
                f"records must contain at most {limit} items", "records"
            )
        if (rejection := _check_records(records, found.primary_keys)) is not None:
            return rejection

        mock = self._mock
        found.apply(records)
        ingestion_id = mock.new_uuid()
        mock.ingestions[ingestion_id] = Ingestion(
            ingestion_id=ingestion_id,
            dataset_id=found.id,
            arrival_ms=request[ARRIVAL_MS],
            record_count=len(records),
        )
        mock.writes.append(
            Write(
                arrival_s=request[ARRIVAL_S],
                arrival_ms=request[ARRIVAL_MS],
                kind="ingest",
                dataset_id=found.id,
                request_bytes=len(body),
                write_id=ingestion_id,
                rows=records,
            )
        )
        return json_response({"ingestionId": ingestion_id})

    async def get_ingestion(self, request: web.Request) -> web.Response:
        if (denied := self._admit(request)) is not None:
            return denied
        found = self._dataset(request)
        if isinstance(found, web.Response):
            return found
        ingestion = self._mock.ingestions.get(request.match_info["ingestionId"])
        if ingestion is None or ingestion.dataset_id != found.id:
            return ingest_error(
                404,
                "not_found",
                f"Ingestion {request.match_info['ingestionId']} not found",
                "not_found",
            )
        return json_response(
            {
                "ingestionId": ingestion.ingestion_id,
                "datasetId": ingestion.dataset_id,
                "status": ingestion.status,
                "recordsReceived": ingestion.record_count,
                "recordsIngested": ingestion.record_count,
                "recordsFailed": 0,
            }
        )


def _check_records(records: list[Any], primary_keys: list[str]) -> web.Response | None:
    """Reject the whole call on the first bad record, as a validation error does."""
    for index, record in enumerate(records):
        if type(record) is not dict:
            return invalid_input(
                f"records[{index}] must be an object", f"records[{index}]"
            )
        for name in primary_keys:
            value = record.get(name)
            if value is None:
                return invalid_input(
                    f"records[{index}] is missing primary key field '{name}'",
                    f"records[{index}].{name}",
                )
            if type(value) not in _KEY_TYPES:
                return invalid_input(
                    f"records[{index}].{name} must be a string or a number",
                    f"records[{index}].{name}",
                )
    return None


def _describe(dataset: Dataset) -> dict[str, Any]:
    return {
        "id": dataset.id,
        "title": dataset.name,
        "primaryKeys": dataset.primary_keys,
    }
