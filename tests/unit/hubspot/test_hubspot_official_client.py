"""The official hubspot-api-client, used unmodified, against the mock HubSpot."""

from __future__ import annotations

import time

import pytest
from hubspot.crm.companies import ApiException
from hubspot.crm.companies.models import (
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    BatchResponseSimplePublicObject,
    BatchResponseSimplePublicObjectWithErrors,
    BatchResponseSimplePublicUpsertObject,
    Filter,
    FilterGroup,
    PublicMergeInput,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInput,
)
from hubspot_threaded import threaded_mock


def test_official_client_get_all() -> None:
    with threaded_mock(250) as served:
        companies = served.client.crm.companies.get_all(properties=["name", "city"])
        assert [company.id for company in companies] == [str(i) for i in range(1, 251)]
        city = served.store.companies[1].properties["city"]
        assert companies[0].properties["city"] == city
        one = served.client.crm.companies.basic_api.get_by_id("7")
        assert one.id == "7"


def test_get_page_follows_the_cursor() -> None:
    with threaded_mock(230) as served:
        api = served.client.crm.companies.basic_api
        ids: list[str] = []
        after = None
        pages = 0
        while True:
            page = api.get_page(limit=100, after=after, properties=["name", "nosuch"])
            pages += 1
            ids.extend(company.id for company in page.results)
            assert page.results[0].properties["nosuch"] is None
            if page.paging is None:
                break
            after = page.paging.next.after
        assert pages == 3
        assert ids == [str(i) for i in range(1, 231)]


def test_get_by_id_with_history_and_missing_id() -> None:
    with threaded_mock(5) as served:
        api = served.client.crm.companies.basic_api
        served.call(served.store.update, 3, {"city": "Oslo"})
        company = api.get_by_id(
            "3", properties=["city"], properties_with_history=["city"]
        )
        assert company.properties["city"] == "Oslo"
        versions = company.properties_with_history["city"]
        assert versions[0].value == "Oslo"
        assert versions[0].source_type == "CRM_UI"
        assert versions[0].timestamp.tzinfo is not None
        assert len(versions) == 2
        with pytest.raises(ApiException) as raised:
            api.get_by_id("999")
        assert raised.value.status == 404


def test_do_search_filters_and_pages_up_to_the_cap() -> None:
    started = time.monotonic()
    with threaded_mock(10_050, index_lag_s=0.0) as served:
        search = served.client.crm.companies.search_api

        def request(after: str, **extra: object) -> PublicObjectSearchRequest:
            return PublicObjectSearchRequest(
                filter_groups=[
                    FilterGroup(
                        filters=[
                            Filter(
                                property_name="hs_lastmodifieddate",
                                operator="GTE",
                                value="0",
                            )
                        ]
                    )
                ],
                sorts=["hs_lastmodifieddate"],
                properties=["name"],
                limit=200,
                after=after,
                **extra,
            )

        seen: set[str] = set()
        after = "0"
        while after != "10000":
            page = search.do_search(public_object_search_request=request(after))
            assert page.total == 10_050
            seen.update(company.id for company in page.results)
            after = page.paging.next.after
        assert len(seen) == 10_000
        with pytest.raises(ApiException) as raised:
            search.do_search(public_object_search_request=request("10000"))
        assert raised.value.status == 400
        assert "10000" in raised.value.body

        industry = served.store.companies[17].properties["industry"]
        narrowed = search.do_search(
            public_object_search_request=PublicObjectSearchRequest(
                filter_groups=[
                    FilterGroup(
                        filters=[
                            Filter(
                                property_name="industry", operator="EQ", value=industry
                            ),
                            Filter(
                                property_name="hs_object_id",
                                operator="LTE",
                                value="100",
                            ),
                        ]
                    )
                ],
                limit=100,
            )
        )
        expected = [
            str(cid)
            for cid in range(1, 101)
            if served.store.companies[cid].properties["industry"] == industry
        ]
        assert [company.id for company in narrowed.results] == expected
        assert narrowed.total == len(expected)
    assert time.monotonic() - started < 20


def test_batch_read_with_missing_ids_returns_the_errors_model() -> None:
    # A 207 is not an error for the client: it returns the "with errors" model.
    with threaded_mock(5) as served:
        result = served.client.crm.companies.batch_api.read(
            BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=cid) for cid in ("1", "99", "4")],
                properties=["name"],
                properties_with_history=[],
            )
        )
        assert isinstance(result, BatchResponseSimplePublicObjectWithErrors)
        assert [company.id for company in result.results] == ["1", "4"]
        assert result.num_errors == 1
        assert result.errors[0].category == "OBJECT_NOT_FOUND"
        assert result.errors[0].context == {"ids": ["99"]}
        complete = served.client.crm.companies.batch_api.read(
            BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id="2")],
                properties=["name"],
                properties_with_history=[],
            )
        )
        assert isinstance(complete, BatchResponseSimplePublicObject)


def test_merge_then_reads_follow_the_survivor() -> None:
    with threaded_mock(4) as served:
        api = served.client.crm.companies.basic_api
        survivor = api.merge(
            PublicMergeInput(primary_object_id="1", object_id_to_merge="2")
        )
        assert survivor.id == "1"
        assert api.get_by_id("2").id == "1"
        listed = [company.id for company in api.get_page(limit=10).results]
        assert listed == ["1", "3", "4"]
        with pytest.raises(ApiException) as raised:
            api.merge(PublicMergeInput(primary_object_id="3", object_id_to_merge="3"))
        assert raised.value.status == 400


def test_archive_then_archived_listing() -> None:
    with threaded_mock(4) as served:
        api = served.client.crm.companies.basic_api
        assert api.archive("2") is None
        assert [c.id for c in api.get_page(archived=True).results] == ["2"]
        archived = api.get_page(archived=True).results[0]
        assert archived.archived is True
        assert archived.archived_at is not None
        assert [c.id for c in api.get_page().results] == ["1", "3", "4"]
        updated = api.update("3", SimplePublicObjectInput(properties={"city": "Lima"}))
        assert updated.properties["city"] == "Lima"


def test_batch_create_upsert_and_archive() -> None:
    with threaded_mock(2, unique_properties={"external_id"}) as served:
        batch = served.client.crm.companies.batch_api
        created = batch.create(
            BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[
                    SimplePublicObjectBatchInputForCreate(
                        properties={"name": "Nova", "external_id": "N-1"},
                        associations=[],
                    )
                ]
            )
        )
        assert isinstance(created, BatchResponseSimplePublicObject)
        assert [company.id for company in created.results] == ["3"]
        upserted = batch.upsert(
            BatchInputSimplePublicObjectBatchInputUpsert(
                inputs=[
                    SimplePublicObjectBatchInputUpsert(
                        id_property="external_id", id="N-1", properties={"city": "Rome"}
                    ),
                    SimplePublicObjectBatchInputUpsert(
                        id_property="external_id", id="N-2", properties={"name": "Vega"}
                    ),
                ]
            )
        )
        assert isinstance(upserted, BatchResponseSimplePublicUpsertObject)
        assert [(c.id, c.new) for c in upserted.results] == [("3", False), ("4", True)]
        ids = [SimplePublicObjectId(id="3"), SimplePublicObjectId(id="404")]
        assert batch.archive(BatchInputSimplePublicObjectId(inputs=ids)) is None
        assert served.store.companies[3].archived
        with pytest.raises(ApiException) as raised:
            batch.create(
                BatchInputSimplePublicObjectBatchInputForCreate(
                    inputs=[
                        SimplePublicObjectBatchInputForCreate(
                            properties={"external_id": "N-2"}, associations=[]
                        )
                    ]
                )
            )
        assert raised.value.status == 409
