"""Handlers of the CRM companies endpoints, behind the server's auth and rate limits.

Request and response shapes follow HubSpot's v3 objects API (using-object-apis guide and the
public OpenAPI spec for companies). Writes go through the store with change source
"INTEGRATION", so the app's own writes trigger its webhooks as they do in HubSpot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from pytest_syncbench.clock import iso_ms
from pytest_syncbench.hubspot.errors import (
    JSON,
    OBJECT_NOT_FOUND,
    not_found,
    validation_error,
)
from pytest_syncbench.hubspot.filters import parse_request
from pytest_syncbench.hubspot.listing import decode_cursor, encode_cursor
from pytest_syncbench.hubspot.objects import (
    company_object,
    property_names,
    split_property_params,
)
from pytest_syncbench.hubspot.store import Company, CompanyNotFound

if TYPE_CHECKING:
    from pytest_syncbench.hubspot.server import HubSpotMock

LIST_DEFAULT_LIMIT = 10
LIST_MAX_LIMIT = 100
# Batch endpoints take at most 100 inputs (HubSpot objects API docs).
BATCH_MAX_INPUTS = 100
INTEGRATION = "INTEGRATION"


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(payload), content_type=JSON)


def _parse_bool(raw: str | None, name: str) -> bool:
    # The official Python client sends True/False and other clients true/false.
    if raw is None:
        return False
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise validation_error(f"Invalid {name} {raw!r}: expected true or false.")


def _parse_company_id(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


def _object(company: Company, names: tuple[str, ...]) -> dict[str, Any]:
    return company_object(company.properties, names, company.archived_ms)


def _string_properties(raw: object) -> dict[str, str | None]:
    """Validate a ``properties`` object of a write; HubSpot stores every value as a string."""
    if not isinstance(raw, dict):
        raise validation_error(
            "properties must be an object of property names to values."
        )
    values: dict[str, str | None] = {}
    for name, value in raw.items():
        if value is None or isinstance(value, str):
            values[name] = value
        elif isinstance(value, bool):
            values[name] = "true" if value else "false"
        elif isinstance(value, int | float):
            values[name] = str(value)
        else:
            raise validation_error(
                f"Invalid value for property {name}: expected a string."
            )
    return values


def _inputs(body: dict[str, Any]) -> list[Any]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("The request needs an inputs list.")
    if len(inputs) > BATCH_MAX_INPUTS:
        raise validation_error(
            f"Too many inputs: {len(inputs)}; a batch accepts at most {BATCH_MAX_INPUTS}.",
        )
    return inputs


def _input_id(item: object) -> str:
    if not isinstance(item, dict) or "id" not in item:
        raise validation_error("Each input needs an id.")
    return str(item["id"])


def _batch_response(
    results: list[dict[str, Any]], missing: list[str], started_ms: int, message: str
) -> web.Response:
    stamp = iso_ms(started_ms)
    payload: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": stamp,
        "completedAt": stamp,
    }
    if not missing:
        return _json(payload)
    payload["numErrors"] = 1
    payload["errors"] = [
        {
            "status": "error",
            "category": OBJECT_NOT_FOUND,
            "message": message,
            "context": {"ids": missing},
        }
    ]
    return _json(payload, status=207)


class CompaniesApi:
    """The companies endpoints of one mock account."""

    def __init__(self, mock: HubSpotMock) -> None:
        self.mock = mock

    async def list(self, request: web.Request, body: bytes) -> web.Response:
        query = request.rel_url.query
        limit = self._list_limit(query.get("limit"))
        archived = _parse_bool(query.get("archived"), "archived")
        after = query.get("after")
        first_id = decode_cursor(after) if after else 0
        names = property_names(split_property_params(query.getall("properties", [])))
        page, next_id = self.mock.listing.page(first_id, limit, archived)
        payload: dict[str, Any] = {
            "results": [_object(company, names) for company in page]
        }
        if next_id is not None:
            cursor = encode_cursor(next_id)
            link = request.rel_url.update_query(after=cursor)
            payload["paging"] = {
                "next": {"after": cursor, "link": f"{self.mock.base_url}{link}"}
            }
        return _json(payload)

    def _list_limit(self, raw: str | None) -> int:
        if raw is None:
            return LIST_DEFAULT_LIMIT
        if not raw.isdigit() or int(raw) < 1:
            raise validation_error(
                f"Invalid limit {raw!r}: expected an integer from 1 to 100."
            )
        limit = int(raw)
        if limit > LIST_MAX_LIMIT:
            # HubSpot does not document what happens above 100, so it is a setting.
            if self.mock.config.list_over_limit == "error":
                raise validation_error(
                    f"Invalid limit {limit}: at most {LIST_MAX_LIMIT} objects per page."
                )
            return LIST_MAX_LIMIT
        return limit

    async def get(self, request: web.Request, body: bytes) -> web.Response:
        raw_id = request.match_info["company_id"]
        query = request.rel_url.query
        archived = _parse_bool(query.get("archived"), "archived")
        names = property_names(split_property_params(query.getall("properties", [])))
        company_id = _parse_company_id(raw_id)
        company = (
            self.mock.store.companies.get(company_id)
            if company_id is not None
            else None
        )
        if company is None or company.archived != archived:
            raise not_found(
                f"Object not found. objectId are usually numeric. (id {raw_id})"
            )
        return _json(_object(company, names))

    async def search(self, request: web.Request, body: bytes) -> web.Response:
        search = parse_request(body, orjson.loads(body) if body else {})
        return _json(self.mock.search_index.search(search))

    async def batch_read(self, request: web.Request, body: bytes) -> web.Response:
        started = self.mock.clock.now_ms()
        payload = orjson.loads(body) if body else None
        if not isinstance(payload, dict):
            raise validation_error("The batch read body must be a JSON object.")
        archived = _parse_bool(request.rel_url.query.get("archived"), "archived")
        raw_names = payload.get("properties") or []
        if not isinstance(raw_names, list):
            raise validation_error("properties must be a list of property names.")
        names = property_names(str(name) for name in raw_names)
        companies = self.mock.store.companies
        results: list[dict[str, Any]] = []
        missing: list[str] = []
        for raw_id in dict.fromkeys(_input_id(item) for item in _inputs(payload)):
            company_id = _parse_company_id(raw_id)
            company = companies.get(company_id) if company_id is not None else None
            if company is None or company.archived != archived:
                missing.append(raw_id)
            else:
                results.append(_object(company, names))
        message = (
            "Could not get some COMPANY objects, they may be deleted or not exist. "
            "Check that ids are valid."
        )
        return _batch_response(results, missing, started, message)

    async def create(self, request: web.Request, body: bytes) -> web.Response:
        payload = orjson.loads(body) if body else None
        if not isinstance(payload, dict):
            raise validation_error(
                "The create body must be a JSON object with properties."
            )
        values = _string_properties(payload.get("properties", {}))
        company = self.mock.store.create(values, source=INTEGRATION)
        names = property_names(values)
        return _json(_object(company, names), status=201)

    async def batch_update(self, request: web.Request, body: bytes) -> web.Response:
        started = self.mock.clock.now_ms()
        payload = orjson.loads(body) if body else None
        if not isinstance(payload, dict):
            raise validation_error("The batch update body must be a JSON object.")
        updates: list[tuple[int, dict[str, str | None]]] = []
        missing: list[str] = []
        store = self.mock.store
        for item in _inputs(payload):
            raw_id = _input_id(item)
            values = _string_properties(item.get("properties", {}))
            company_id = _parse_company_id(raw_id)
            company = (
                store.companies.get(company_id) if company_id is not None else None
            )
            if company_id is None or company is None or company.archived:
                missing.append(raw_id)
                continue
            updates.append((company_id, values))
        results: list[dict[str, Any]] = []
        for company_id, values in updates:
            try:
                store.update(company_id, values, source=INTEGRATION)
            except CompanyNotFound:
                missing.append(str(company_id))
                continue
            results.append(_object(store.companies[company_id], property_names(values)))
        message = (
            "Could not update some COMPANY objects, they may be deleted or not exist."
        )
        return _batch_response(results, missing, started, message)
