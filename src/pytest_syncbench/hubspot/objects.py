"""CRM object JSON as HubSpot's v3 object APIs return it.

An object is ``{"id", "properties", "createdAt", "updatedAt", "archived"}`` plus
``archivedAt`` when archived. Property values are strings, ``null`` where unset, and
``hs_object_id``, ``createdate`` and ``hs_lastmodifieddate`` are always included
(using-object-apis guide). ``updatedAt`` equals ``hs_lastmodifieddate``.

The builders read the store's property dicts in place: the dicts they return are handed
straight to orjson and never kept, so no copy of a company is made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pytest_syncbench.clock import iso_ms

# The v3 OpenAPI spec lists name and domain as the company properties returned when a
# request names none; HubSpot's prose docs do not confirm it.
DEFAULT_PROPERTIES: tuple[str, ...] = ("name", "domain")
ALWAYS_RETURNED: tuple[str, ...] = ("createdate", "hs_lastmodifieddate", "hs_object_id")


def property_names(requested: Iterable[str]) -> tuple[str, ...]:
    """Return the requested names, deduplicated in order, followed by the always-returned ones."""
    names = dict.fromkeys(name for name in requested if name)
    if not names:
        names = dict.fromkeys(DEFAULT_PROPERTIES)
    for name in ALWAYS_RETURNED:
        names[name] = None
    return tuple(names)


def split_property_params(values: Iterable[str]) -> list[str]:
    """Accept both repeated ``properties`` keys and comma-joined values."""
    names: list[str] = []
    for value in values:
        names.extend(part.strip() for part in value.split(","))
    return [name for name in names if name]


def company_object(
    properties: Mapping[str, str | None],
    names: tuple[str, ...],
    archived_ms: int | None = None,
) -> dict[str, Any]:
    """Build one object; ``archived_ms`` is the archive time of an archived company."""
    get = properties.get
    obj: dict[str, Any] = {
        "id": properties["hs_object_id"],
        "properties": {name: get(name) for name in names},
        "createdAt": properties["createdate"],
        "updatedAt": properties["hs_lastmodifieddate"],
        "archived": archived_ms is not None,
    }
    if archived_ms is not None:
        obj["archivedAt"] = iso_ms(archived_ms)
    return obj
