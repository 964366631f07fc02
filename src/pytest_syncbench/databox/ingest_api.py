"""Handlers of the ingestion API: datasets and their records under ``x-api-key``.

Response bodies follow the OpenAPI description at developers.databox.com/api: every
response contains a ``requestId`` and a ``status``, an accepted ingestion returns its
``ingestionId``, and the ingestion's details report its record counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from pytest_syncbench.clock import iso_ms
from pytest_syncbench.databox.arrival import ARRIVAL_MS, ARRIVAL_S
from pytest_syncbench.databox.records import Dataset, Ingestion
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
        app.router.add_get("/v1/datasets/{id}/ingestions", self.list_ingestions)
        app.router.add_get(
            "/v1/datasets/{id}/ingestions/{ingestionId}", self.get_ingestion
        )

    def _admit(self, request: web.Request, request_id: str) -> web.Response | None:
        """Check the API key, then the rate limit, and return the rejection or None."""
        if request.headers.get("x-api-key") != self._mock.config.api_key:
            return ingest_error(
                request_id,
                401,
                "unauthorized",
                "Invalid or missing API key",
                "authentication",
            )
        if not self._mock.ingest_limiter.try_acquire(request[ARRIVAL_S]):
            return ingest_error(
                request_id, 429, "too_many_requests", "Too many requests", "rate_limit"
            )
        return None

    def _dataset(self, request: web.Request, request_id: str) -> Dataset | web.Response:
        dataset_id = request.match_info["id"]
        dataset = self._mock.datasets.get(dataset_id)
        if dataset is None:
            return ingest_error(
                request_id,
                404,
                "not_found",
                f"Dataset {dataset_id} not found",
                "not_found",
            )
        return dataset

    async def create_dataset(self, request: web.Request) -> web.Response:
        request_id = self._mock.new_request_id()
        if (denied := self._admit(request, request_id)) is not None:
            return denied
        try:
            payload = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return invalid_input(request_id, "Request body is not valid JSON", "body")
        if not isinstance(payload, dict):
            return invalid_input(request_id, "Request body must be an object", "body")
        title = payload.get("title", payload.get("name"))
        if not isinstance(title, str) or not title:
            return invalid_input(request_id, "title is required", "title")
        # The OpenAPI description allows null or an omitted field for "no primary key".
        primary_keys = payload.get("primaryKeys") or []
        if not isinstance(primary_keys, list) or not all(
            isinstance(name, str) and name for name in primary_keys
        ):
            return invalid_input(
                request_id, "primaryKeys must be an array of field names", "primaryKeys"
            )
        dataset = self._mock.create_dataset(title, primary_keys)
        described = _describe(dataset)
        described["created"] = iso_ms(request[ARRIVAL_MS])
        return json_response(
            {"requestId": request_id, "status": "success", **described}, 201
        )

    async def get_dataset(self, request: web.Request) -> web.Response:
        request_id = self._mock.new_request_id()
        if (denied := self._admit(request, request_id)) is not None:
            return denied
        found = self._dataset(request, request_id)
        if isinstance(found, web.Response):
            return found
        return json_response(
            {"requestId": request_id, "status": "success", **_describe(found)}
        )

    async def ingest(self, request: web.Request) -> web.Response:
        request_id = self._mock.new_request_id()
        if (denied := self._admit(request, request_id)) is not None:
            return denied
        found = self._dataset(request, request_id)
        if isinstance(found, web.Response):
            return found
        body = await request.read()
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return invalid_input(request_id, "Request body is not valid JSON", "body")
        records = payload.get("records") if isinstance(payload, dict) else None
        if not isinstance(records, list) or not records:
            return invalid_input(
                request_id, "records must be a non-empty array of objects", "records"
            )

        limit = self._mock.config.max_records_per_ingest
        if len(records) > limit:
            return invalid_input(
                request_id, f"records must contain at most {limit} items", "records"
            )
        rejection = _check_records(request_id, records, found.primary_keys)
        if rejection is not None:
            return rejection

        ingestion = self._mock.accept_ingestion(
            found, records, request[ARRIVAL_S], request[ARRIVAL_MS], len(body)
        )
        return json_response(
            {
                "requestId": request_id,
                "status": "success",
                "ingestionId": ingestion.ingestion_id,
                "message": "Data ingestion request accepted",
            }
        )

    async def list_ingestions(self, request: web.Request) -> web.Response:
        request_id = self._mock.new_request_id()
        if (denied := self._admit(request, request_id)) is not None:
            return denied
        found = self._dataset(request, request_id)
        if isinstance(found, web.Response):
            return found
        listed = [
            {
                "ingestionId": ingestion.ingestion_id,
                "timestamp": iso_ms(ingestion.arrival_ms),
                "status": ingestion.status,
            }
            for ingestion in self._mock.ingestions.values()
            if ingestion.dataset_id == found.id
        ]
        return json_response(
            {
                "requestId": request_id,
                "status": "success",
                "pagination": {
                    "page": 1,
                    "pageSize": len(listed),
                    "totalItems": len(listed),
                },
                "ingestions": listed,
            }
        )

    async def get_ingestion(self, request: web.Request) -> web.Response:
        request_id = self._mock.new_request_id()
        if (denied := self._admit(request, request_id)) is not None:
            return denied
        found = self._dataset(request, request_id)
        if isinstance(found, web.Response):
            return found
        ingestion_id = request.match_info["ingestionId"]
        ingestion = self._mock.ingestions.get(ingestion_id)
        if ingestion is None or ingestion.dataset_id != found.id:
            return ingest_error(
                request_id,
                404,
                "not_found",
                f"Ingestion {ingestion_id} not found",
                "not_found",
            )
        return json_response(_ingestion_details(request_id, ingestion, found))


def _ingestion_details(
    request_id: str, ingestion: Ingestion, dataset: Dataset
) -> dict[str, Any]:
    """Describe an ingestion in the documented shape, with the mock's own counts.

    The documented ``status`` is the request's. The ingestion's own progress, which the
    documentation does not name in this body, is ``ingestionStatus``: ``processing``
    until the rows are readable, then ``completed``. ``recordsReceived``,
    ``recordsIngested`` and ``recordsFailed`` repeat the counts in flat form.
    """
    done = ingestion.status == "completed"
    ingested = ingestion.record_count if done else 0
    return {
        "requestId": request_id,
        "status": "success",
        "ingestionId": ingestion.ingestion_id,
        "timestamp": iso_ms(ingestion.arrival_ms),
        "ingestionStatus": ingestion.status,
        "metrics": {
            "datasetMetrics": {
                "columnsCount": len(
                    {name for row in dataset.rows.values() for name in row}
                ),
                "totalDatasetRecordsCount": dataset.row_count,
            },
            "ingestionMetrics": {
                "receivedRecordsCount": ingestion.record_count,
                "appendedRecordsCount": ingestion.appended,
                "overwrittenRecordsCount": ingestion.overwritten,
                "rejectedRecordsCount": 0,
            },
        },
        "datasetId": ingestion.dataset_id,
        "recordsReceived": ingestion.record_count,
        "recordsIngested": ingested,
        "recordsFailed": 0,
    }


def _check_records(
    request_id: str, records: list[Any], primary_keys: list[str]
) -> web.Response | None:
    """Reject the whole call on the first bad record, as a validation error does."""
    for index, record in enumerate(records):
        if type(record) is not dict:
            return invalid_input(
                request_id, f"records[{index}] must be an object", f"records[{index}]"
            )
        for name in primary_keys:
            value = record.get(name)
            if value is None:
                return invalid_input(
                    request_id,
                    f"records[{index}] is missing primary key field '{name}'",
                    f"records[{index}].{name}",
                )
            if type(value) not in _KEY_TYPES:
                return invalid_input(
                    request_id,
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
