"""CRM object JSON as HubSpot's v3 object APIs return it.

An object is ``{"id", "properties", "createdAt", "updatedAt", "archived"}`` plus
``archivedAt`` when archived. Property values are strings, ``null`` where unset, and
``hs_object_id``, ``createdate`` and ``hs_lastmodifieddate`` are always included
(using-object-apis guide). ``updatedAt`` equals ``hs_lastmodifieddate``.

The builders read the store's property dicts in place: the dicts they return are handed
straight to orjson and never kept, so no copy of a company is made.

``propertiesWithHistory`` maps each asked-for property to its versions, newest first, each
``{"value", "timestamp", "sourceType", "sourceId"?}`` as the official client's
``ValueWithTimestamp`` model names them, built from the store's change history. Unconfirmed
details, chosen here: a cleared value is ``""`` (the client model requires a value), a
property never set has an empty list, ``hs_lastmodifieddate`` and ``hs_object_id`` versions
have source type ``CALCULATED``, API writes carry the app id as ``sourceId`` and UI writes
by the workload carry no ``sourceId`` or ``updatedByUserId``, since the workload has no
users.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pytest_syncbench.clock import iso_ms
from pytest_syncbench.hubspot.store import Change

# The v3 OpenAPI spec lists name and domain as the company properties returned when a
# request names none; HubSpot's prose docs do not confirm it.
DEFAULT_PROPERTIES: tuple[str, ...] = ("name", "domain")
ALWAYS_RETURNED: tuple[str, ...] = ("createdate", "hs_lastmodifieddate", "hs_object_id")
# Properties HubSpot computes itself; their history reports this source type.
CALCULATED_PROPERTIES = frozenset({"hs_lastmodifieddate", "hs_object_id"})


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


def history_names(requested: Iterable[str]) -> tuple[str, ...]:
    """Return the ``propertiesWithHistory`` names, deduplicated in order (none by default)."""
    return tuple(dict.fromkeys(name for name in requested if name))


def property_history(
    changes: Iterable[Change], names: tuple[str, ...], app_id: int
) -> dict[str, list[dict[str, Any]]]:
    """Return every version of each of ``names``, newest first, from a company's changes."""
    history: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for change in reversed(list(changes)):
        stamp = iso_ms(change.committed_ms)
        for name in names:
            if name not in change.properties:
                continue
            value = change.properties[name]
            version: dict[str, Any] = {
                "value": "" if value is None else value,
                "timestamp": stamp,
                "sourceType": (
                    "CALCULATED" if name in CALCULATED_PROPERTIES else change.source
                ),
            }
            if change.source == "INTEGRATION":
                version["sourceId"] = str(app_id)
            history[name].append(version)
    return history


def company_object(
    properties: Mapping[str, str | None],
    names: tuple[str, ...],
    archived_ms: int | None = None,
    history: dict[str, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Build one object; ``archived_ms`` is the archive time of an archived company.

    ``history`` is the ``propertiesWithHistory`` map, included only when given.
    """
    get = properties.get
    obj: dict[str, Any] = {
        "id": properties["hs_object_id"],
        "properties": {name: get(name) for name in names},
    }
    if history is not None:
        obj["propertiesWithHistory"] = history
    obj["createdAt"] = properties["createdate"]
    obj["updatedAt"] = properties["hs_lastmodifieddate"]
    obj["archived"] = archived_ms is not None
    if archived_ms is not None:
        obj["archivedAt"] = iso_ms(archived_ms)
    return obj
