"""Property-based checks of search and paging against a brute-force model of the store.

The model below restates the search rules independently of ``filters.py`` and
``search.py``: groups are ORed and their filters ANDed; strings compare case-insensitively;
numbers as numbers; dates as epoch milliseconds (filter values given as epoch ms, numeric
strings or ISO-8601); an unset property fails every filter but NEQ, NOT_IN,
NOT_HAS_PROPERTY and NOT_CONTAINS_TOKEN (the mock's documented reading); archived and
merged-away companies never match. Results sort by the one sort rule with ties broken by
id (reversed with the direction), unset values last, or by id without a rule.
"""

from __future__ import annotations

import fnmatch
import re
from datetime import datetime
from typing import Any

import orjson
from hubspot_helpers import running_mock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_syncbench.clock import Clock, iso_ms
from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.hubspot.filters import parse_request
from pytest_syncbench.hubspot.search import SearchIndex
from pytest_syncbench.hubspot.store import Company, Store
from pytest_syncbench.loop import run_virtual

NOW_MS = 1_767_603_600_000
BASE_MS = NOW_MS - 100_000
COMPANIES = "/crm/v3/objects/companies"

KINDS = {
    "name": "string",
    "lifecyclestage": "string",
    "numberofemployees": "number",
    "hs_object_id": "number",
    "closedate": "date",
    "createdate": "date",
    "hs_lastmodifieddate": "date",
}
NAMES = ["Alpha Labs", "alpha-works", "Beta Labs", "GAMMA", "delta 42", "", None]
STAGES = ["lead", "Lead", "customer", "opportunity", "", None]
EMPLOYEES = ["10", "40", "250", "3000", "7.5", "", None]
# A few distinct milliseconds, so that many companies share one timestamp.
OFFSETS = [0, 1, 2, 50, 51, 999]
TOKENS = ["alpha", "labs", "beta", "gamma", "works", "42", "delta", "zeta"]
PATTERNS = ["a*", "*labs", "*a*", "g*a", "l*s", "be*a"]
FILTERED = sorted(KINDS) + ["hs_lastmodifieddate"] * 5 + ["hs_object_id"] * 2


class FixedClock(Clock):
    """A clock stopped at NOW_MS, so that the store and the index need no running loop."""

    def now_ms(self) -> int:
        return NOW_MS


# -- building a store ---------------------------------------------------------------------

company_rows = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(NAMES),
            "lifecyclestage": st.sampled_from(STAGES),
            "numberofemployees": st.sampled_from(EMPLOYEES),
            "closedate": st.one_of(st.none(), st.sampled_from(OFFSETS)),
            "created": st.sampled_from(OFFSETS),
            "modified": st.sampled_from(OFFSETS),
            "fate": st.sampled_from(["live"] * 6 + ["archived", "merged"]),
        }
    ),
    min_size=5,
    max_size=30,
)


def seed_store(rows: list[dict[str, Any]]) -> Store:
    store = Store(FixedClock())
    seeds = []
    for row in rows:
        props: dict[str, str | None] = {
            "name": row["name"],
            "lifecyclestage": row["lifecyclestage"],
            "numberofemployees": row["numberofemployees"],
            "closedate": None
            if row["closedate"] is None
            else str(BASE_MS + row["closedate"]),
        }
        created = BASE_MS + min(row["created"], row["modified"])
        seeds.append((props, created, BASE_MS + max(row["created"], row["modified"])))
    store.seed(seeds)
    return store


def apply_fates(store: Store, rows: list[dict[str, Any]]) -> None:
    """Archive or merge away the companies whose row marks them so."""
    for company_id, row in zip(sorted(store.companies), rows, strict=True):
        if row["fate"] == "archived":
            store.archive(company_id)
        elif row["fate"] == "merged":
            survivor = next(
                (
                    c
                    for c in store.companies.values()
                    if not c.archived and c.id != company_id
                ),
                None,
            )
            if survivor is not None:
                store.merge(survivor.id, company_id)


# -- the brute-force model ----------------------------------------------------------------


def current(company: Company, name: str) -> Any:
    if name == "hs_lastmodifieddate":
        return company.updated_ms
    if name == "createdate":
        return company.created_ms
    if name == "hs_object_id":
        return float(company.id)
    raw = company.properties.get(name)
    if raw is None or raw == "":
        return None
    kind = KINDS[name]
    if kind == "string":
        return raw.lower()
    if kind == "number":
        return float(raw)
    return int(raw)


def normalise(name: str, value: Any) -> Any:
    kind = KINDS[name]
    if kind == "string":
        return str(value).lower()
    if kind == "number":
        return float(value)
    if isinstance(value, int):
        return value
    if value.isdigit():
        return int(value)
    # ISO-8601, parsed here without the mock's helper.
    return round(
        datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000
    )


def tokens(text: str | None) -> list[str]:
    return [t for t in re.split(r"[^0-9a-z]+", (text or "").lower()) if t]


def matches(company: Company, flt: dict[str, Any]) -> bool:
    name, op = flt["propertyName"], flt["operator"]
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        pattern = str(flt["value"]).lower()
        words = tokens(company.properties.get(name))
        if "*" in pattern:  # the only wildcard HubSpot documents
            found = any(fnmatch.fnmatchcase(word, pattern) for word in words)
        else:
            found = all(part in words for part in tokens(pattern))
        return found if op == "CONTAINS_TOKEN" else not found
    value = current(company, name)
    if op == "HAS_PROPERTY":
        return value is not None
    if op == "NOT_HAS_PROPERTY":
        return value is None
    if op in ("IN", "NOT_IN"):
        inside = value in {normalise(name, v) for v in flt["values"]}
        return inside if op == "IN" else not inside
    target = normalise(name, flt["value"])
    if op == "EQ":
        return value == target
    if op == "NEQ":
        return value != target
    if value is None:
        return False
    if op == "BETWEEN":
        return target <= value <= normalise(name, flt["highValue"])
    return {
        "LT": value < target,
        "LTE": value <= target,
        "GT": value > target,
        "GTE": value >= target,
    }[op]


def expected_ids(store: Store, body: dict[str, Any]) -> list[int]:
    groups = [group["filters"] for group in body.get("filterGroups", [])] or [[]]
    found = [
        company
        for company in store.companies.values()
        if not company.archived
        and any(all(matches(company, flt) for flt in group) for group in groups)
    ]
    sorts = body.get("sorts") or []
    if not sorts:
        return sorted(company.id for company in found)
    name = sorts[0]["propertyName"]
    descending = sorts[0]["direction"] == "DESCENDING"
    present = [(current(c, name), c.id) for c in found if current(c, name) is not None]
    missing = sorted(c.id for c in found if current(c, name) is None)
    return [cid for _, cid in sorted(present, reverse=descending)] + missing


# -- drawing requests ---------------------------------------------------------------------


@st.composite
def values_for(draw: st.DrawFn, name: str) -> Any:
    kind = KINDS[name]
    if kind == "string":
        value = draw(st.sampled_from([v for v in NAMES + STAGES if v]))
        return draw(st.sampled_from([value, value.upper()]))
    if kind == "number":
        if name == "hs_object_id":
            number = draw(st.integers(0, 12))
        else:
            number = draw(st.sampled_from([0, 10, 39, 40, 41, 250, 7.5, 5000]))
        return draw(st.sampled_from([number, str(number)]))
    millis = BASE_MS + draw(st.sampled_from([-1, *OFFSETS, 1000]))
    return draw(st.sampled_from([millis, str(millis), iso_ms(millis)]))


@st.composite
def filters(draw: st.DrawFn) -> dict[str, Any]:
    op = draw(
        st.sampled_from(
            [
                "EQ",
                "NEQ",
                "LT",
                "LTE",
                "GT",
                "GTE",
                "BETWEEN",
                "IN",
                "NOT_IN",
                "HAS_PROPERTY",
                "NOT_HAS_PROPERTY",
                "CONTAINS_TOKEN",
                "NOT_CONTAINS_TOKEN",
            ]
        )
    )
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        value = draw(st.sampled_from(TOKENS + PATTERNS + ["Alpha Labs"]))
        return {"propertyName": "name", "operator": op, "value": value}
    # The index narrows groups with an hs_lastmodifieddate filter (and, within one
    # millisecond, an hs_object_id filter) by bisection, so those are drawn most often.
    name = draw(st.sampled_from(FILTERED))
    flt: dict[str, Any] = {"propertyName": name, "operator": op}
    if op in ("IN", "NOT_IN"):
        flt["values"] = draw(st.lists(values_for(name), min_size=1, max_size=3))
    elif op not in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        flt["value"] = draw(values_for(name))
        if op == "BETWEEN":
            flt["highValue"] = draw(values_for(name))
    return flt


RANGE_OPERATORS = ["EQ", "GT", "GTE", "LT", "LTE", "BETWEEN"]


@st.composite
def range_filter(draw: st.DrawFn, name: str) -> dict[str, Any]:
    # EQ on the timestamp (one millisecond) is what lets an id filter narrow too.
    op = draw(st.sampled_from(RANGE_OPERATORS + ["EQ", "EQ"]))
    flt: dict[str, Any] = {
        "propertyName": name,
        "operator": op,
        "value": draw(values_for(name)),
    }
    if op == "BETWEEN":
        flt["highValue"] = draw(values_for(name))
    return flt


@st.composite
def cdc_group(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A change-data-capture group: a timestamp range, maybe an id range, maybe more."""
    group = [draw(range_filter("hs_lastmodifieddate"))]
    group += draw(st.lists(range_filter("hs_object_id"), max_size=2))
    group += draw(st.lists(filters(), max_size=1))
    return group


@st.composite
def search_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A search body; draws are weighted towards what the index optimises."""
    group_count = draw(st.sampled_from([0, 1, 1, 1, 2, 2]))
    groups = [
        {
            "filters": draw(
                st.one_of(st.lists(filters(), min_size=1, max_size=3), cdc_group())
            )
        }
        for _ in range(group_count)
    ]
    sort = draw(st.sampled_from([None, None, *FILTERED]))
    sorts = []
    if sort is not None:
        direction = draw(st.sampled_from(["ASCENDING", "DESCENDING"]))
        sorts = [{"propertyName": sort, "direction": direction}]
    return {"filterGroups": groups, "sorts": sorts}


PROFILE = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _search(index: SearchIndex, body: dict[str, Any]) -> dict[str, Any]:
    raw = orjson.dumps(body)
    return index.search(parse_request(raw, orjson.loads(raw)))


def tie_break_body(data: st.DataObject, store: Store) -> dict[str, Any]:
    """The tie-safe CDC query: one millisecond that some company has, an id range, sorted
    by the timestamp."""
    millis = data.draw(
        st.sampled_from(sorted({c.updated_ms for c in store.companies.values()}))
    )
    at = data.draw(st.sampled_from([millis, str(millis), iso_ms(millis)]))
    if data.draw(st.booleans()):
        stamp = {"operator": "EQ", "value": at}
    else:
        stamp = {"operator": "BETWEEN", "value": at, "highValue": at}
    group = [{"propertyName": "hs_lastmodifieddate", **stamp}]
    for _ in range(data.draw(st.integers(1, 2))):
        op = data.draw(st.sampled_from(["GT", "GTE", "LT", "LTE", "BETWEEN"]))
        flt = {"propertyName": "hs_object_id", "operator": op}
        flt["value"] = data.draw(st.integers(0, len(store.companies) + 1))
        if op == "BETWEEN":
            flt["highValue"] = data.draw(st.integers(0, len(store.companies) + 1))
        group.append(flt)
    direction = data.draw(st.sampled_from(["ASCENDING", "DESCENDING"]))
    return {
        "filterGroups": [{"filters": group}],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": direction}],
    }


@PROFILE
@given(rows=company_rows, body=search_bodies(), limit=st.integers(1, 12))
def test_search_matches_brute_force_and_pages_once(
    rows: list[dict[str, Any]], body: dict[str, Any], limit: int
) -> None:
    check_search(rows, body, limit)


@settings(max_examples=100, deadline=None)
@given(rows=company_rows, data=st.data(), limit=st.integers(1, 6))
def test_tie_break_queries_match_brute_force(
    rows: list[dict[str, Any]], data: st.DataObject, limit: int
) -> None:
    store = seed_store(rows)
    check_search(rows, tie_break_body(data, store), limit)


def check_search(rows: list[dict[str, Any]], body: dict[str, Any], limit: int) -> None:
    """Search equals the model, and paging with ``after`` visits each match once."""
    store = seed_store(rows)
    index = SearchIndex(store, store.clock, HubSpotConfig(index_lag_s=0.0))
    # Build the index first, so that archives and merges reach it as changes.
    _search(index, {})
    apply_fates(store, rows)
    expected = expected_ids(store, body)

    everything = _search(index, {**body, "limit": 200})
    assert [int(r["id"]) for r in everything["results"]] == expected
    assert everything["total"] == len(expected)

    # Paging with ``after`` visits every match exactly once, in the same order.
    paged: list[int] = []
    after = None
    while True:
        request = {**body, "limit": limit}
        if after is not None:
            request["after"] = after
        page = _search(index, request)
        assert page["total"] == len(expected)
        # Every page is full but the last one.
        assert len(page["results"]) == min(limit, len(expected) - len(paged))
        paged.extend(int(r["id"]) for r in page["results"])
        after = page.get("paging", {}).get("next", {}).get("after")
        if after is None:
            break
    assert paged == expected


@settings(max_examples=40, deadline=None)
@given(rows=company_rows, limit=st.integers(1, 12), archived=st.booleans())
def test_list_paging_visits_every_company_once(
    rows: list[dict[str, Any]], limit: int, archived: bool
) -> None:
    async def scenario() -> list[str]:
        async with running_mock(len(rows)) as run:
            for company_id, row in zip(sorted(run.store.companies), rows, strict=True):
                if row["fate"] == "archived":
                    run.store.archive(company_id)
                elif row["fate"] == "merged" and company_id > 1:
                    if not run.store.companies[1].archived:
                        run.store.merge(1, company_id)
            expected = [
                str(c.id)
                for c in run.store.companies.values()
                if c.archived == archived and c.merged_into is None
            ]
            seen: list[str] = []
            after = None
            while True:
                params = {"limit": str(limit), "archived": str(archived)}
                if after is not None:
                    params["after"] = after
                body = (await run.client.get(COMPANIES, params=params)).json()
                seen.extend(r["id"] for r in body["results"])
                assert len(body["results"]) <= limit
                after = body.get("paging", {}).get("next", {}).get("after")
                if after is None:
                    break
            assert seen == expected
            return seen

    run_virtual(scenario)
