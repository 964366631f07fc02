"""Request parsing and response helpers shared by the companies read and write handlers."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from pytest_syncbench.clock import iso_ms
from pytest_syncbench.hubspot.errors import JSON, OBJECT_NOT_FOUND, validation_error
from pytest_syncbench.hubspot.properties import check_defined

# Batch endpoints take at most 100 inputs (HubSpot objects API docs), and 50 when property
# histories are asked for.
BATCH_MAX_INPUTS = 100
HISTORY_MAX_INPUTS = 50
INTEGRATION = "INTEGRATION"
OBJECT_ID = "hs_object_id"


def json_response(payload: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(payload), content_type=JSON)


def no_content() -> web.Response:
    return web.Response(status=204)


def parse_bool(raw: str | None, name: str) -> bool:
    # The official Python client sends True/False and other clients true/false.
    if raw is None:
        return False
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise validation_error(f"Invalid {name} {raw!r}: expected true or false.")


def parse_company_id(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


def json_body(body: bytes, what: str) -> dict[str, Any]:
    payload = orjson.loads(body) if body else None
    if not isinstance(payload, dict):
        raise validation_error(f"The {what} body must be a JSON object.")
    return payload


def string_properties(
    raw: object, defined: frozenset[str] | None = None
) -> dict[str, str | None]:
    """Validate a ``properties`` object of a write; HubSpot stores every value as a string.

    With ``defined``, a property outside it gets HubSpot's 400 PROPERTY_DOESNT_EXIST.
    """
    if not isinstance(raw, dict):
        raise validation_error(
            "properties must be an object of property names to values."
        )
    if defined is not None:
        check_defined(raw, defined)
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


def name_list(raw: object, field: str) -> list[str]:
    """Validate a list of property names from a JSON body (None or missing: empty)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise validation_error(f"{field} must be a list of property names.")
    return [str(name) for name in raw]


def inputs(body: dict[str, Any], limit: int = BATCH_MAX_INPUTS) -> list[Any]:
    items = body.get("inputs")
    if not isinstance(items, list):
        raise validation_error("The request needs an inputs list.")
    if len(items) > BATCH_MAX_INPUTS:
        raise validation_error(
            f"Too many inputs: {len(items)}; a batch accepts at most {BATCH_MAX_INPUTS}.",
        )
    if len(items) > limit:
        # HubSpot's message for a property-history batch over 50 (reported in public
        # issues, 2023).
        raise validation_error(
            f"The maximum number of inputs supported in a batch request for property "
            f"histories is {limit}. Please reduce the number of items and try again"
        )
    return items


def input_id(item: object) -> str:
    if not isinstance(item, dict) or "id" not in item:
        raise validation_error("Each input needs an id.")
    return str(item["id"])


def batch_response(
    results: list[dict[str, Any]],
    missing: list[str],
    started_ms: int,
    message: str,
    status: int = 200,
) -> web.Response:
    """Build a batch response: ``status`` when every input succeeded, else 207 with the errors."""
    stamp = iso_ms(started_ms)
    payload: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": stamp,
        "completedAt": stamp,
    }
    if not missing:
        return json_response(payload, status)
    payload["numErrors"] = 1
    payload["errors"] = [
        {
            "status": "error",
            "category": OBJECT_NOT_FOUND,
            "message": message,
            "context": {"ids": missing},
        }
    ]
    return json_response(payload, status=207)
