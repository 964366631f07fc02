"""Parsing and evaluation of CRM search requests.

Rules from HubSpot's CRM search guide (2026). Filter groups are ORed and the filters inside
a group are ANDed. A request takes at most 5 groups, 6 filters per group, 18 filters in all
and one sort rule, with ``limit`` up to 200. ``after`` is a numeric offset, and paging to
10,000 or beyond is rejected, as is a request body over 3,000 characters. Dates compare as
epoch milliseconds and also accept ISO-8601 strings.
"""

from __future__ import annotations

import enum
import fnmatch
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_syncbench.clock import parse_iso_ms
from pytest_syncbench.hubspot.errors import validation_error

MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
MAX_BODY_CHARS = 3_000
MAX_LIMIT = 200
DEFAULT_LIMIT = 10
MAX_RESULT_WINDOW = 10_000

MODIFIED = "hs_lastmodifieddate"
CREATED = "createdate"
OBJECT_ID = "hs_object_id"

DATE_PROPERTIES = frozenset({CREATED, MODIFIED, "closedate", "notes_last_updated"})
NUMBER_PROPERTIES = frozenset(
    {OBJECT_ID, "numberofemployees", "annualrevenue", "num_associated_contacts"}
)
# Properties that the free-text ``query`` searches for companies.
QUERY_PROPERTIES = ("name", "domain", "website", "phone")

_TOKEN_SPLIT = re.compile(r"[^0-9a-z]+")


class Operator(enum.StrEnum):
    EQ = "EQ"
    NEQ = "NEQ"
    LT = "LT"
    LTE = "LTE"
    GT = "GT"
    GTE = "GTE"
    BETWEEN = "BETWEEN"
    IN = "IN"
    NOT_IN = "NOT_IN"
    HAS_PROPERTY = "HAS_PROPERTY"
    NOT_HAS_PROPERTY = "NOT_HAS_PROPERTY"
    CONTAINS_TOKEN = "CONTAINS_TOKEN"
    NOT_CONTAINS_TOKEN = "NOT_CONTAINS_TOKEN"


RANGE_OPERATORS = frozenset(
    {
        Operator.EQ,
        Operator.LT,
        Operator.LTE,
        Operator.GT,
        Operator.GTE,
        Operator.BETWEEN,
    }
)


class Kind(enum.Enum):
    DATE = "date"
    NUMBER = "number"
    STRING = "string"


def property_kind(name: str) -> Kind:
    if name in DATE_PROPERTIES:
        return Kind.DATE
    if name in NUMBER_PROPERTIES:
        return Kind.NUMBER
    return Kind.STRING


@dataclass(slots=True)
class Candidate:
    """A company as stored in the search index, which may lag the store."""

    id: int
    properties: Mapping[str, str | None]
    created_ms: int
    modified_ms: int


Predicate = Callable[[Candidate], bool]


@dataclass(slots=True)
class Filter:
    property_name: str
    operator: Operator
    # Converted to the property's kind: epoch ms for dates, float for numbers, lowercase str.
    value: Any = None
    high_value: Any = None
    values: frozenset[Any] = frozenset()
    predicate: Predicate = field(default=lambda candidate: True)


@dataclass(slots=True)
class Sort:
    property_name: str
    descending: bool


@dataclass(slots=True)
class SearchRequest:
    groups: list[list[Filter]]
    sort: Sort | None
    properties: list[str]
    limit: int
    after: int
    query: str | None


def parse_request(body: bytes, decoded: object) -> SearchRequest:
    """Validate a decoded search body; raise :class:`ApiError` (400) on any violation."""
    if len(body) > MAX_BODY_CHARS:
        raise validation_error(
            f"The request body has {len(body)} characters; search accepts at most {MAX_BODY_CHARS}."
        )
    if not isinstance(decoded, dict):
        raise validation_error("The search body must be a JSON object.")
    groups = _parse_groups(decoded)
    return SearchRequest(
        groups=groups,
        sort=_parse_sorts(decoded.get("sorts")),
        properties=_parse_properties(decoded.get("properties")),
        limit=_parse_limit(decoded.get("limit")),
        after=_parse_after(decoded.get("after")),
        query=_parse_query(decoded.get("query")),
    )


def _parse_groups(body: dict[str, Any]) -> list[list[Filter]]:
    raw_groups = body.get("filterGroups") or []
    if not isinstance(raw_groups, list):
        raise validation_error(
            "filterGroups must be a list of {filters: [...]} objects."
        )
    groups: list[list[Any]] = []
    for raw in raw_groups:
        if not isinstance(raw, dict) or not isinstance(raw.get("filters", []), list):
            raise validation_error(
                "Each filter group must be an object with a filters list."
            )
        groups.append(raw.get("filters", []))
    top_level = body.get("filters")
    if top_level:
        if not isinstance(top_level, list):
            raise validation_error("filters must be a list of filter objects.")
        # A top-level filter list acts as one more group.
        groups.append(top_level)
    if len(groups) > MAX_GROUPS:
        raise validation_error(
            f"Too many filter groups: {len(groups)}; at most {MAX_GROUPS} are allowed."
        )
    total = sum(len(group) for group in groups)
    if total > MAX_FILTERS:
        raise validation_error(
            f"Too many filters: {total} in all groups; at most {MAX_FILTERS} are allowed."
        )
    for group in groups:
        if len(group) > MAX_FILTERS_PER_GROUP:
            raise validation_error(
                f"Too many filters in one group: {len(group)}; at most "
                f"{MAX_FILTERS_PER_GROUP} are allowed."
            )
    return [[parse_filter(raw) for raw in group] for group in groups]


def parse_filter(raw: object) -> Filter:
    if not isinstance(raw, dict):
        raise validation_error("Each filter must be an object.")
    name = raw.get("propertyName")
    if not isinstance(name, str) or not name:
        raise validation_error("A filter is missing propertyName.")
    try:
        operator = Operator(raw.get("operator"))
    except ValueError:
        accepted = ", ".join(op.value for op in Operator)
        raise validation_error(
            f"Invalid operator {raw.get('operator')!r} on {name}; expected one of {accepted}."
        ) from None
    kind = property_kind(name)
    result = Filter(name, operator)
    if operator in (Operator.IN, Operator.NOT_IN):
        values = raw.get("values")
        if not isinstance(values, list) or not values:
            raise validation_error(
                f"{operator} on {name} needs a non-empty values list."
            )
        result.values = frozenset(convert_value(name, kind, value) for value in values)
    elif operator not in (Operator.HAS_PROPERTY, Operator.NOT_HAS_PROPERTY):
        if "value" not in raw or raw["value"] is None:
            raise validation_error(f"{operator} on {name} needs a value.")
        if operator in (Operator.CONTAINS_TOKEN, Operator.NOT_CONTAINS_TOKEN):
            result.value = str(raw["value"]).lower()
        else:
            result.value = convert_value(name, kind, raw["value"])
        if operator is Operator.BETWEEN:
            if raw.get("highValue") is None:
                raise validation_error(f"BETWEEN on {name} needs a highValue.")
            result.high_value = convert_value(name, kind, raw["highValue"])
    result.predicate = _build_predicate(result, kind)
    return result


def convert_value(name: str, kind: Kind, value: object) -> Any:
    """Convert a filter value to the comparable form of the property's kind."""
    if kind is Kind.STRING:
        return str(value).lower()
    if kind is Kind.NUMBER:
        number = _to_float(value)
        if number is None:
            raise validation_error(
                f"Invalid value {value!r} for {name}: expected a number."
            )
        return number
    millis = to_epoch_ms(value)
    if millis is None:
        raise validation_error(
            f"Invalid value {value!r} for {name}: expected epoch milliseconds or an ISO-8601 "
            "date-time."
        )
    return millis


def to_epoch_ms(value: object) -> int | None:
    # Comparisons are at millisecond resolution, so a fractional millisecond is cut off.
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return int(float(text))
        try:
            return parse_iso_ms(text)
        except ValueError:
            return None
    return None


def _to_float(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def candidate_value(candidate: Candidate, name: str, kind: Kind) -> Any:
    """Return a candidate's value of ``name`` in comparable form, or None when unset."""
    if name == MODIFIED:
        return candidate.modified_ms
    if name == CREATED:
        return candidate.created_ms
    if name == OBJECT_ID and kind is Kind.NUMBER:
        return float(candidate.id)
    raw = candidate.properties.get(name)
    if raw is None or raw == "":
        return None
    if kind is Kind.STRING:
        return raw.lower()
    if kind is Kind.NUMBER:
        return _to_float(raw)
    return to_epoch_ms(raw)


def _tokens(raw: str | None) -> list[str]:
    if not raw:
        return []
    return [token for token in _TOKEN_SPLIT.split(raw.lower()) if token]


def _build_predicate(flt: Filter, kind: Kind) -> Predicate:
    name, op, value, high = flt.property_name, flt.operator, flt.value, flt.high_value
    values = flt.values

    def current(candidate: Candidate) -> Any:
        return candidate_value(candidate, name, kind)

    if op is Operator.HAS_PROPERTY:
        return lambda c: current(c) is not None
    if op is Operator.NOT_HAS_PROPERTY:
        return lambda c: current(c) is None
    if op in (Operator.CONTAINS_TOKEN, Operator.NOT_CONTAINS_TOKEN):
        matches_token = _token_matcher(value)
        if op is Operator.CONTAINS_TOKEN:
            return lambda c: matches_token(_tokens(c.properties.get(name)))
        return lambda c: not matches_token(_tokens(c.properties.get(name)))
    # NOTE: HubSpot does not document whether NEQ and NOT_IN match records where the property
    # is unset; this mock includes them, as "not equal" reads.
    if op is Operator.NEQ:
        return lambda c: current(c) != value
    if op is Operator.NOT_IN:
        return lambda c: current(c) not in values
    if op is Operator.IN:
        return lambda c: current(c) in values
    if op is Operator.EQ:
        return lambda c: current(c) == value
    comparisons: dict[Operator, Callable[[Any], bool]] = {
        Operator.LT: lambda v: v < value,
        Operator.LTE: lambda v: v <= value,
        Operator.GT: lambda v: v > value,
        Operator.GTE: lambda v: v >= value,
        Operator.BETWEEN: lambda v: value <= v <= high,
    }
    compare = comparisons[op]

    def ordered(candidate: Candidate) -> bool:
        present = current(candidate)
        return present is not None and compare(present)

    return ordered


def _token_matcher(pattern: str) -> Callable[[list[str]], bool]:
    # HubSpot lets CONTAINS_TOKEN values use * as a wildcard inside one token.
    if "*" in pattern:
        return lambda tokens: any(
            fnmatch.fnmatchcase(token, pattern) for token in tokens
        )
    required_tokens = _tokens(pattern)
    return lambda tokens: all(token in tokens for token in required_tokens)


def query_predicate(query: str) -> Predicate:
    """Build the free-text match: every query word must start some token of a text property."""
    words = _tokens(query)

    def matches(candidate: Candidate) -> bool:
        tokens = [
            t
            for name in QUERY_PROPERTIES
            for t in _tokens(candidate.properties.get(name))
        ]
        return all(any(token.startswith(word) for token in tokens) for word in words)

    return matches


def _parse_sorts(raw: object) -> Sort | None:
    if raw is None or raw == []:
        return None
    if not isinstance(raw, list):
        raise validation_error("sorts must be a list with one sort rule.")
    if len(raw) > 1:
        raise validation_error(
            f"Too many sorts: {len(raw)}; search accepts one sort rule."
        )
    rule = raw[0]
    if isinstance(rule, str):
        # The older string form: a property name, descending when prefixed with "-".
        descending = rule.startswith("-")
        return Sort(rule.lstrip("-"), descending)
    if not isinstance(rule, dict) or not isinstance(rule.get("propertyName"), str):
        raise validation_error("A sort rule needs propertyName and direction.")
    direction = rule.get("direction", "ASCENDING")
    if direction not in ("ASCENDING", "DESCENDING"):
        raise validation_error(
            f"Invalid sort direction {direction!r}; expected ASCENDING or DESCENDING."
        )
    return Sort(rule["propertyName"], direction == "DESCENDING")


def _parse_properties(raw: object) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise validation_error("properties must be a list of property names.")
    return list(raw)


def _parse_limit(raw: object) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    limit = _parse_int(raw)
    # A limit above 200 is rejected, not capped: the guide gives 200 as the maximum and a
    # client asking for more has a bug worth surfacing.
    if limit is None or not 0 <= limit <= MAX_LIMIT:
        raise validation_error(
            f"Invalid limit {raw!r}: expected an integer from 0 to {MAX_LIMIT}."
        )
    return limit


def _parse_after(raw: object) -> int:
    if raw is None or raw == "":
        return 0
    after = _parse_int(raw)
    if after is None or after < 0:
        raise validation_error(
            f"Invalid after {raw!r}: expected a non-negative integer offset."
        )
    if after >= MAX_RESULT_WINDOW:
        raise validation_error(
            f"Paging to after={after} is not allowed: search returns at most the first "
            f"{MAX_RESULT_WINDOW} results of a query. Narrow the filters instead."
        )
    return after


def _parse_query(raw: object) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise validation_error("query must be a string.")
    return raw


def _parse_int(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    return None
