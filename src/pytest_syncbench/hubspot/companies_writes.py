"""Handlers of the companies write endpoints: update, archive, batch create, upsert and
archive, and merge.

Shapes follow HubSpot's v3 objects API and the official Python client's models
(``hubspot.crm.companies.models``). Where HubSpot documents no behaviour the choice made
here is marked NOTE:

- ``DELETE /companies/{id}`` and ``POST batch/archive`` answer 204 also for ids that do not
  exist or are already archived: the spec gives 204 as the only answer, a public report says
  deleting an unknown contact id answers 204, and HubSpot's batch archive of properties is
  documented to answer 204 "regardless of the initial state ... non-existent".
- Merge: the public spec shows only the 200 answer. A company merged with itself is a 400
  ``VALIDATION_ERROR`` and an unknown, archived or already merged-away id a 404
  ``OBJECT_NOT_FOUND``, in HubSpot's usual error shape (NOTE: messages are the mock's own).
- Upsert: each input's ``idProperty`` (default ``hs_object_id``) must be ``hs_object_id``
  or one of ``HubSpotConfig.unique_properties``, else the request is a 400. By a unique
  property, an unknown value creates a company holding that value (``new: true``); by
  ``hs_object_id``, an unknown id cannot be created with that id, so it is reported as a
  207 error (NOTE). Two inputs with the same id are a 400.
- Writes that would give two live companies one value of a unique property fail as a
  whole with 409 CONFLICT before anything is written (see :mod:`uniques`).
- A merged-away id is not a target of PATCH, batch update or upsert: those answer as for
  a deleted company (NOTE: only reads are documented to follow merges).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from pytest_syncbench.hubspot.companies_common import (
    INTEGRATION,
    OBJECT_ID,
    batch_response,
    input_id,
    inputs,
    json_body,
    json_response,
    no_content,
    parse_company_id,
    string_properties,
)
from pytest_syncbench.hubspot.errors import not_found, validation_error
from pytest_syncbench.hubspot.objects import property_names
from pytest_syncbench.hubspot.properties import defined_properties
from pytest_syncbench.hubspot.store import Company, CompanyNotFound
from pytest_syncbench.hubspot.uniques import UniqueValues

if TYPE_CHECKING:
    from pytest_syncbench.hubspot.companies_api import CompaniesApi
    from pytest_syncbench.hubspot.server import HubSpotMock


class CompanyWrites:
    """The write endpoints beyond create and batch update, and the unique-value rules."""

    def __init__(self, mock: HubSpotMock, api: CompaniesApi) -> None:
        self.mock = mock
        self.api = api
        self.uniques = UniqueValues(mock.store)

    # -- unique properties --------------------------------------------------------------

    def _unique_names(self) -> tuple[str, ...]:
        # Sorted, so that the property a 409 names does not depend on set order.
        return tuple(sorted(self.mock.config.unique_properties))

    def check_unique(
        self, writes: Iterable[tuple[int | None, Mapping[str, str | None]]]
    ) -> None:
        """Raise 409 CONFLICT if the writes would duplicate a unique property's value."""
        names = self._unique_names()
        if names:
            self.uniques.check(names, list(writes))

    def find_unique(self, name: str, value: str) -> int | None:
        """Return the live company whose unique property ``name`` is ``value``."""
        if name not in self.mock.config.unique_properties:
            raise validation_error(
                f"Invalid idProperty {name!r}: use hs_object_id or a property with "
                "unique values."
            )
        return self.uniques.find(self._unique_names(), name, value)

    def _live(self, company_id: int | None) -> Company | None:
        store = self.mock.store
        company = store.companies.get(company_id) if company_id is not None else None
        return None if company is None or company.archived else company

    # -- single object ------------------------------------------------------------------

    async def update(self, request: web.Request, body: bytes) -> web.Response:
        raw_id = request.match_info["company_id"]
        id_property = request.rel_url.query.get("idProperty")
        if id_property and id_property != OBJECT_ID:
            company = self._live(self.find_unique(id_property, raw_id))
        else:
            company = self._live(parse_company_id(raw_id))
        payload = json_body(body, "update")
        values = string_properties(
            payload.get("properties", {}), defined_properties(self.mock.config)
        )
        if company is None:
            raise not_found(
                f"Object not found. objectId are usually numeric. (id {raw_id})"
            )
        self.check_unique([(company.id, values)])
        self.mock.store.update(company.id, values, source=INTEGRATION)
        return json_response(self.api.object(company, property_names(values)))

    async def archive(self, request: web.Request, body: bytes) -> web.Response:
        company = self._live(parse_company_id(request.match_info["company_id"]))
        if company is not None:
            self.mock.store.archive(company.id, source=INTEGRATION)
        return no_content()

    # -- batches ------------------------------------------------------------------------

    async def batch_create(self, request: web.Request, body: bytes) -> web.Response:
        started = self.mock.clock.now_ms()
        payload = json_body(body, "batch create")
        creates: list[dict[str, str | None]] = []
        for item in inputs(payload):
            if not isinstance(item, dict):
                raise validation_error("Each input must be an object with properties.")
            creates.append(
                string_properties(
                    item.get("properties", {}), defined_properties(self.mock.config)
                )
            )
        self.check_unique((None, values) for values in creates)
        store = self.mock.store
        results = [
            self.api.object(
                store.create(values, source=INTEGRATION), property_names(values)
            )
            for values in creates
        ]
        return batch_response(results, [], started, "", status=201)

    async def batch_upsert(self, request: web.Request, body: bytes) -> web.Response:
        started = self.mock.clock.now_ms()
        payload = json_body(body, "batch upsert")
        writes: list[tuple[int | None, dict[str, str | None]]] = []
        missing: list[str] = []
        seen: set[tuple[str, str]] = set()
        for item in inputs(payload):
            raw_id = input_id(item)
            id_property = str(item.get("idProperty") or OBJECT_ID)
            if (id_property, raw_id) in seen:
                raise validation_error(
                    f"Duplicate IDs found in batch input: [{raw_id}]. IDs must be unique."
                )
            seen.add((id_property, raw_id))
            values = string_properties(
                item.get("properties", {}), defined_properties(self.mock.config)
            )
            if id_property == OBJECT_ID:
                company = self._live(parse_company_id(raw_id))
                if company is None:
                    missing.append(raw_id)
                    continue
                writes.append((company.id, values))
                continue
            owner = self.find_unique(id_property, raw_id)
            if owner is None:
                writes.append((None, {**values, id_property: raw_id}))
            else:
                writes.append((owner, values))
        self.check_unique(writes)
        store = self.mock.store
        results: list[dict[str, Any]] = []
        for company_id, values in writes:
            if company_id is None:
                company = store.create(values, source=INTEGRATION)
            else:
                store.update(company_id, values, source=INTEGRATION)
                company = store.companies[company_id]
            result = self.api.object(company, property_names(values))
            result["new"] = company_id is None
            results.append(result)
        message = (
            "Could not upsert some COMPANY objects by hs_object_id, they may be deleted "
            "or not exist."
        )
        return batch_response(results, missing, started, message)

    async def batch_archive(self, request: web.Request, body: bytes) -> web.Response:
        payload = json_body(body, "batch archive")
        ids = [parse_company_id(input_id(item)) for item in inputs(payload)]
        store = self.mock.store
        for company_id in dict.fromkeys(ids):
            if self._live(company_id) is not None:
                assert company_id is not None
                store.archive(company_id, source=INTEGRATION)
        return no_content()

    # -- merge --------------------------------------------------------------------------

    async def merge(self, request: web.Request, body: bytes) -> web.Response:
        payload = json_body(body, "merge")
        raw_primary = payload.get("primaryObjectId")
        raw_merged = payload.get("objectIdToMerge")
        if raw_primary in (None, "") or raw_merged in (None, ""):
            raise validation_error(
                "The merge body needs primaryObjectId and objectIdToMerge."
            )
        raw_primary, raw_merged = str(raw_primary), str(raw_merged)
        primary_id = parse_company_id(raw_primary)
        merged_id = parse_company_id(raw_merged)
        if primary_id is not None and primary_id == merged_id:
            raise validation_error(
                f"Cannot merge company {raw_primary} with itself.",
                ids=[raw_primary],
            )
        for raw, company_id in ((raw_primary, primary_id), (raw_merged, merged_id)):
            if self._live(company_id) is None:
                raise not_found(
                    f"Object not found. objectId are usually numeric. (id {raw})",
                    ids=[raw],
                )
        assert primary_id is not None and merged_id is not None
        try:
            self.mock.store.merge(primary_id, merged_id, source=INTEGRATION)
        except CompanyNotFound as error:  # pragma: no cover - checked just above
            raise not_found(f"Object not found. (id {error.args[0]})") from None
        survivor = self.mock.store.companies[primary_id]
        return json_response(self.api.object(survivor, property_names(())))
