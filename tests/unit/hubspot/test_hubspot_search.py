"""Search of the mock HubSpot: operators, groups, limits, paging cap and index lag."""

from __future__ import annotations

import asyncio
from typing import Any

from hubspot_helpers import running_mock

from pytest_syncbench.clock import iso_ms, parse_iso_ms
from pytest_syncbench.loop import run_virtual

SEARCH = "/crm/v3/objects/companies/search"


def _filter(name: str, operator: str, **extra: Any) -> dict[str, Any]:
    return {"propertyName": name, "operator": operator, **extra}


async def _search(run: Any, body: dict[str, Any]) -> Any:
    return await run.client.post(SEARCH, json=body)


async def _ids(run: Any, body: dict[str, Any]) -> list[int]:
    response = await _search(run, {"limit": 200, **body})
    assert response.status_code == 200, response.text
    return [int(item["id"]) for item in response.json()["results"]]


def _set_values(run: Any) -> None:
    """Give companies 1-6 known values, written long enough ago to be indexed."""
    values = [
        ("Alpha Labs", "10", "lead"),
        ("Beta Works", "250", "customer"),
        ("Gamma Labs", "3000", "Lead"),
        ("Delta", None, "customer"),
        ("Echo Labs", "40", None),
        ("Foxtrot", "40", "opportunity"),
    ]
    for company_id, (name, employees, stage) in enumerate(values, start=1):
        run.store.update(
            company_id,
            {"name": name, "numberofemployees": employees, "lifecyclestage": stage},
        )


def _group(*filters: dict[str, Any]) -> dict[str, Any]:
    return {"filterGroups": [{"filters": list(filters)}]}


OPERATOR_CASES = [
    (_filter("lifecyclestage", "EQ", value="LEAD"), [1, 3]),
    (_filter("lifecyclestage", "NEQ", value="customer"), [1, 3, 5, 6]),
    (_filter("numberofemployees", "GT", value="40"), [2, 3]),
    (_filter("numberofemployees", "GTE", value=40), [2, 3, 5, 6]),
    (_filter("numberofemployees", "LT", value="40"), [1]),
    (_filter("numberofemployees", "LTE", value="40"), [1, 5, 6]),
    (
        _filter("numberofemployees", "BETWEEN", value="10", highValue="250"),
        [1, 2, 5, 6],
    ),
    (_filter("lifecyclestage", "IN", values=["customer", "opportunity"]), [2, 4, 6]),
    (_filter("lifecyclestage", "NOT_IN", values=["customer", "lead"]), [5, 6]),
    (_filter("numberofemployees", "HAS_PROPERTY"), [1, 2, 3, 5, 6]),
    (_filter("numberofemployees", "NOT_HAS_PROPERTY"), [4]),
    (_filter("name", "CONTAINS_TOKEN", value="labs"), [1, 3, 5]),
    (_filter("name", "CONTAINS_TOKEN", value="*ta"), [2, 4]),
    (_filter("name", "NOT_CONTAINS_TOKEN", value="labs"), [2, 4, 6]),
]


def test_search_operators() -> None:
    async def scenario() -> None:
        async with running_mock(6, index_lag_s=0.0) as run:
            _set_values(run)
            for flt, expected in OPERATOR_CASES:
                assert await _ids(run, _group(flt)) == expected, flt

    run_virtual(scenario)


def test_search_groups_or_and_filters_and() -> None:
    async def scenario() -> None:
        async with running_mock(6, index_lag_s=0.0) as run:
            _set_values(run)
            body = {
                "filterGroups": [
                    {
                        "filters": [
                            _filter("name", "CONTAINS_TOKEN", value="labs"),
                            _filter("numberofemployees", "GT", value="20"),
                        ]
                    },
                    {"filters": [_filter("lifecyclestage", "EQ", value="opportunity")]},
                ]
            }
            assert await _ids(run, body) == [3, 5, 6]
            top_level = {"filters": [_filter("lifecyclestage", "EQ", value="customer")]}
            assert await _ids(run, top_level) == [2, 4]

    run_virtual(scenario)


def test_search_sort_and_paging() -> None:
    async def scenario() -> None:
        async with running_mock(6, index_lag_s=0.0) as run:
            _set_values(run)
            sort = {"propertyName": "numberofemployees", "direction": "DESCENDING"}
            body = {"sorts": [sort], "limit": 2}
            first = (await _search(run, body)).json()
            assert first["total"] == 6
            assert [item["id"] for item in first["results"]] == ["3", "2"]
            assert first["paging"]["next"]["after"] == "2"
            # Companies 5 and 6 tie at 40 employees and the tie reverses with the direction.
            middle = (await _search(run, {**body, "after": "2"})).json()
            assert [item["id"] for item in middle["results"]] == ["6", "5"]
            # Company 4 has no employee count and sorts last.
            last = (await _search(run, {**body, "after": "4"})).json()
            assert [item["id"] for item in last["results"]] == ["1", "4"]
            assert "paging" not in last

    run_virtual(scenario)


def test_search_date_filter_accepts_iso_and_ms() -> None:
    async def scenario() -> None:
        async with running_mock(4, index_lag_s=0.0) as run:
            await asyncio.sleep(10)
            run.store.update(2, {"city": "Rome"})
            moment = run.store.companies[2].updated_ms
            for value in (moment, str(moment), iso_ms(moment)):
                flt = _filter("hs_lastmodifieddate", "GTE", value=value)
                assert await _ids(run, _group(flt)) == [2]

    run_virtual(scenario)


LIMIT_CASES = [
    ("groups", {"filterGroups": [{"filters": []} for _ in range(6)]}),
    ("per group", _group(*[_filter("city", "HAS_PROPERTY") for _ in range(7)])),
    (
        "total",
        {
            "filterGroups": [
                {"filters": [_filter("city", "HAS_PROPERTY") for _ in range(5)]}
                for _ in range(4)
            ]
        },
    ),
    ("two sorts", {"sorts": [{"propertyName": "name"}, {"propertyName": "city"}]}),
    ("limit", {"limit": 201}),
    ("operator", _group(_filter("city", "LIKE", value="x"))),
    ("body size", {"query": "x" * 3_000}),
    ("after at cap", {"after": "10000"}),
]


def test_search_rejects_with_400() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            for case, body in LIMIT_CASES:
                response = await _search(run, body)
                assert response.status_code == 400, case
                assert response.json()["category"] == "VALIDATION_ERROR", case

    run_virtual(scenario)


def test_search_after_below_cap_is_allowed() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            response = await _search(run, {"after": "9999"})
            assert response.status_code == 200

    run_virtual(scenario)


def test_search_index_lags_writes() -> None:
    async def scenario() -> None:
        async with running_mock(5, index_lag_s=3.0) as run:
            await asyncio.sleep(5)
            run.store.update(3, {"city": "Reykjavik"})
            body = _group(_filter("city", "EQ", value="reykjavik"))
            assert await _ids(run, body) == []
            fresh = (
                await run.client.get("/crm/v3/objects/companies/3?properties=city")
            ).json()
            assert fresh["properties"]["city"] == "Reykjavik"
            await asyncio.sleep(3)
            assert await _ids(run, body) == [3]

    run_virtual(scenario)


def test_search_lagging_index_returns_old_values() -> None:
    async def scenario() -> None:
        async with running_mock(2, index_lag_s=30.0) as run:
            old_city = run.store.companies[1].properties["city"]
            run.store.update(1, {"city": "Lima"})
            body = {
                **_group(_filter("hs_object_id", "EQ", value="1")),
                "properties": ["city"],
            }
            response = await _search(run, body)
            assert response.json()["total"] == 1
            result = response.json()["results"][0]
            assert result["properties"]["city"] == old_city

    run_virtual(scenario)


def test_search_new_company_invisible_until_indexed() -> None:
    async def scenario() -> None:
        async with running_mock(0, index_lag_s=2.0) as run:
            run.store.create({"name": "Fresh"})
            assert (await _search(run, {})).json()["total"] == 0
            await asyncio.sleep(2)
            assert (await _search(run, {})).json()["total"] == 1

    run_virtual(scenario)


def test_search_excludes_archived() -> None:
    async def scenario() -> None:
        async with running_mock(5, index_lag_s=1.0) as run:
            run.store.archive(2)
            await asyncio.sleep(1)
            ids = await _ids(run, {})
            assert 2 not in ids
            assert len(ids) == 4
            run.store.restore(2)
            await asyncio.sleep(1)
            assert 2 in await _ids(run, {})

    run_virtual(scenario)


def _cdc_body(after_ms: int, after_id: int, limit: int = 100) -> dict[str, Any]:
    """The (timestamp, id) cursor query of a change-data-capture client."""
    return {
        "filterGroups": [
            {
                "filters": [
                    _filter("hs_lastmodifieddate", "EQ", value=str(after_ms)),
                    _filter("hs_object_id", "GT", value=str(after_id)),
                ]
            },
            {"filters": [_filter("hs_lastmodifieddate", "GT", value=str(after_ms))]},
        ],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["hs_lastmodifieddate"],
        "limit": limit,
    }


def test_search_cdc_cursor_survives_ties() -> None:
    async def scenario() -> None:
        async with running_mock(300, index_lag_s=0.0) as run:
            # 150 companies share one millisecond, as after a bulk import.
            run.store.update_many([(cid, {"city": "Tied"}) for cid in range(1, 151)])
            await asyncio.sleep(1)
            run.store.update(200, {"city": "Later"})
            seen: list[int] = []
            cursor = (0, 0)
            while True:
                response = await _search(run, _cdc_body(*cursor, limit=40))
                results = response.json()["results"]
                if not results:
                    break
                for item in results:
                    seen.append(int(item["id"]))
                last = results[-1]
                cursor = (
                    _ms(last["properties"]["hs_lastmodifieddate"]),
                    int(last["id"]),
                )
            assert sorted(seen) == list(range(1, 301))
            assert len(seen) == 300
            assert seen[-1] == 200

    run_virtual(scenario)


def test_search_cdc_matches_full_scan() -> None:
    async def scenario() -> None:
        async with running_mock(400, index_lag_s=0.0) as run:
            run.store.update_many([(cid, {"city": "Tied"}) for cid in range(50, 120)])
            tied_ms = run.store.companies[50].updated_ms
            fast = _cdc_body(tied_ms, 80, limit=200)
            # The same query plus a filter that forces a full scan of the index.
            slow = _cdc_body(tied_ms, 80, limit=200)
            for group in slow["filterGroups"]:
                group["filters"].append(_filter("name", "HAS_PROPERTY"))
            fast_body = (await _search(run, fast)).json()
            slow_body = (await _search(run, slow)).json()
            assert fast_body["total"] == slow_body["total"]
            assert [r["id"] for r in fast_body["results"]] == [
                r["id"] for r in slow_body["results"]
            ]
            assert fast_body["total"] == 39

    run_virtual(scenario)


def test_search_descending_modified() -> None:
    async def scenario() -> None:
        async with running_mock(50, index_lag_s=0.0) as run:
            sort = {"propertyName": "hs_lastmodifieddate", "direction": "DESCENDING"}
            flt = _filter("hs_lastmodifieddate", "GT", value="0")
            body = {**_group(flt), "sorts": [sort], "limit": 200}
            results = (await _search(run, body)).json()["results"]
            stamps = [
                _ms(item["properties"]["hs_lastmodifieddate"]) for item in results
            ]
            assert stamps == sorted(stamps, reverse=True)
            assert len(stamps) == 50

    run_virtual(scenario)


def test_search_query_matches_name_prefix() -> None:
    async def scenario() -> None:
        async with running_mock(6, index_lag_s=0.0) as run:
            _set_values(run)
            assert await _ids(run, {"query": "gam"}) == [3]

    run_virtual(scenario)


def _ms(iso: str) -> int:
    return parse_iso_ms(iso)
