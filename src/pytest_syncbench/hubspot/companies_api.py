"""Handlers of the CRM companies read endpoints and of create and batch update.

Request and response shapes follow HubSpot's v3 objects API (using-object-apis guide and the
public OpenAPI spec for companies). Writes go through the store with change source
"INTEGRATION", so the app's own writes trigger its webhooks as they do in HubSpot. The other
write endpoints (update, archive, batch create, upsert and archive, merge) live in
:mod:`pytest_syncbench.hubspot.companies_writes`.

Reading a merged-away id (GET one, batch read) answers with the surviving company, whose
id differs from the one asked for. Archived companies are read with ``archived=true`` until
the configured retention has passed; merged-away ones never, since they cannot be restored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from pytest_syncbench.hubspot.companies_common import (
    BATCH_MAX_INPUTS,
    HISTORY_MAX_INPUTS,
    INTEGRATION,
    OBJECT_ID,
    batch_response,
    input_id,
    inputs,
    json_body,
    json_response,
    name_list,
    parse_bool,
    parse_company_id,
    string_properties,
)
from pytest_syncbench.hubspot.companies_writes import CompanyWrites
from pytest_syncbench.hubspot.errors import not_found, validation_error
from pytest_syncbench.hubspot.filters import parse_request
from pytest_syncbench.hubspot.listing import decode_cursor, encode_cursor
from pytest_syncbench.hubspot.objects import (
    company_object,
    history_names,
    property_history,
    property_names,
    split_property_params,
)
from pytest_syncbench.hubspot.properties import defined_properties
from pytest_syncbench.hubspot.store import Company, CompanyNotFound

if TYPE_CHECKING:
    from pytest_syncbench.hubspot.server import HubSpotMock

LIST_DEFAULT_LIMIT = 10
LIST_MAX_LIMIT = 100
# HubSpot documents that propertiesWithHistory "will reduce the maximum number of
# companies that can be read by a single request" but gives no number, so the mock uses
# the batch read limit of 50.
LIST_MAX_LIMIT_WITH_HISTORY = 50


class CompaniesApi:
    """The companies endpoints of one mock account."""

    def __init__(self, mock: HubSpotMock) -> None:
        self.mock = mock
        self.writes = CompanyWrites(mock, self)

    # -- shared ----------------------------------------------------------------------------

    def object(
        self,
        company: Company,
        names: tuple[str, ...],
        with_history: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        history = None
        if with_history:
            changes = self.mock.store.history(company.id)
            history = property_history(changes, with_history, self.mock.config.app_id)
        return company_object(company.properties, names, company.archived_ms, history)

    def retention_ms(self) -> int:
        return round(self.mock.config.archive_retention_s * 1000)

    def readable(self, company_id: int | None, archived: bool) -> Company | None:
        """Return the company that a read of ``company_id`` returns, or None (not found).

        Without ``archived`` a merged-away id resolves to its survivor; with it only
        archived companies that are neither merged away nor purged are found.
        """
        store = self.mock.store
        company = store.companies.get(company_id) if company_id is not None else None
        if company is None:
            return None
        if not archived:
            if company.merged_into is not None:
                company = store.resolve(company.id)
            return None if company.archived else company
        if not company.archived or store.is_purged(
            company, self.mock.clock.now_ms(), self.retention_ms()
        ):
            return None
        return company

    # -- reads -----------------------------------------------------------------------------

    async def list(self, request: web.Request, body: bytes) -> web.Response:
        query = request.rel_url.query
        with_history = history_names(
            split_property_params(query.getall("propertiesWithHistory", []))
        )
        limit = self._list_limit(
            query.get("limit"),
            LIST_MAX_LIMIT_WITH_HISTORY if with_history else LIST_MAX_LIMIT,
        )
        archived = parse_bool(query.get("archived"), "archived")
        after = query.get("after")
        first_id = decode_cursor(after) if after else 0
        names = property_names(split_property_params(query.getall("properties", [])))
        page, next_id = self.mock.listing.page(
            first_id, limit, archived, self.mock.clock.now_ms(), self.retention_ms()
        )
        payload: dict[str, Any] = {
            "results": [self.object(company, names, with_history) for company in page]
        }
        if next_id is not None:
            cursor = encode_cursor(next_id)
            link = request.rel_url.update_query(after=cursor)
            payload["paging"] = {
                "next": {"after": cursor, "link": f"{self.mock.base_url}{link}"}
            }
        return json_response(payload)

    def _list_limit(self, raw: str | None, maximum: int) -> int:
        if raw is None:
            return LIST_DEFAULT_LIMIT
        if not raw.isdigit() or int(raw) < 1:
            raise validation_error(
                f"Invalid limit {raw!r}: expected an integer from 1 to 100."
            )
        limit = int(raw)
        if limit > maximum:
            # HubSpot does not document what happens above 100, so it is a setting.
            if self.mock.config.list_over_limit == "error":
                raise validation_error(
                    f"Invalid limit {limit}: at most {maximum} objects per page."
                )
            return maximum
        return limit

    async def get(self, request: web.Request, body: bytes) -> web.Response:
        raw_id = request.match_info["company_id"]
        query = request.rel_url.query
        archived = parse_bool(query.get("archived"), "archived")
        names = property_names(split_property_params(query.getall("properties", [])))
        with_history = history_names(
            split_property_params(query.getall("propertiesWithHistory", []))
        )
        id_property = query.get("idProperty")
        if id_property and id_property != OBJECT_ID:
            company_id = self.writes.find_unique(id_property, raw_id)
        else:
            company_id = parse_company_id(raw_id)
        company = self.readable(company_id, archived)
        if company is None:
            raise not_found(
                f"Object not found. objectId are usually numeric. (id {raw_id})"
            )
        return json_response(self.object(company, names, with_history))

    async def search(self, request: web.Request, body: bytes) -> web.Response:
        search = parse_request(body, orjson.loads(body) if body else {})
        return json_response(self.mock.search_index.search(search))

    async def batch_read(self, request: web.Request, body: bytes) -> web.Response:
        started = self.mock.clock.now_ms()
        payload = orjson.loads(body) if body else None
        if not isinstance(payload, dict):
            raise validation_error("The batch read body must be a JSON object.")
        archived = parse_bool(request.rel_url.query.get("archived"), "archived")
        raw_names = payload.get("properties") or []
        if not isinstance(raw_names, list):
            raise validation_error("properties must be a list of property names.")
        names = property_names(str(name) for name in raw_names)
        with_history = history_names(
            name_list(payload.get("propertiesWithHistory"), "propertiesWithHistory")
        )
        limit = HISTORY_MAX_INPUTS if with_history else BATCH_MAX_INPUTS
        id_property = payload.get("idProperty")
        by_unique = bool(id_property) and id_property != OBJECT_ID
        results: list[dict[str, Any]] = []
        missing: list[str] = []
        seen: set[int] = set()
        for raw_id in dict.fromkeys(input_id(item) for item in inputs(payload, limit)):
            if by_unique:
                company_id = self.writes.find_unique(str(id_property), raw_id)
            else:
                company_id = parse_company_id(raw_id)
            company = self.readable(company_id, archived)
            if company is None:
                missing.append(raw_id)
            elif company.id not in seen:
                # Two inputs that resolve to one survivor (its id and a merged-away id)
                # give one result; HubSpot does not document this case.
                seen.add(company.id)
                results.append(self.object(company, names, with_history))
        message = (
            "Could not get some COMPANY objects, they may be deleted or not exist. "
            "Check that ids are valid."
        )
        return batch_response(results, missing, started, message)

    # -- create and batch update -------------------------------------------------------------

    async def create(self, request: web.Request, body: bytes) -> web.Response:
        payload = orjson.loads(body) if body else None
        if not isinstance(payload, dict):
            raise validation_error(
                "The create body must be a JSON object with properties."
            )
        values = string_properties(
            payload.get("properties", {}), defined_properties(self.mock.config)
        )
        self.writes.check_unique([(None, values)])
        company = self.mock.store.create(values, source=INTEGRATION)
        names = property_names(values)
        return json_response(self.object(company, names), status=201)

    async def batch_update(self, request: web.Request, body: bytes) -> web.Response:
        started = self.mock.clock.now_ms()
        payload = json_body(body, "batch update")
        updates: list[tuple[int, dict[str, str | None]]] = []
        missing: list[str] = []
        store = self.mock.store
        for item in inputs(payload):
            raw_id = input_id(item)
            values = string_properties(
                item.get("properties", {}), defined_properties(self.mock.config)
            )
            company_id = parse_company_id(raw_id)
            company = (
                store.companies.get(company_id) if company_id is not None else None
            )
            if company_id is None or company is None or company.archived:
                missing.append(raw_id)
                continue
            updates.append((company_id, values))
        self.writes.check_unique(updates)
        results: list[dict[str, Any]] = []
        for company_id, values in updates:
            try:
                store.update(company_id, values, source=INTEGRATION)
            except CompanyNotFound:
                missing.append(str(company_id))
                continue
            results.append(
                self.object(store.companies[company_id], property_names(values))
            )
        message = (
            "Could not update some COMPANY objects, they may be deleted or not exist."
        )
        return batch_response(results, missing, started, message)
