"""The dataset row a HubSpot company becomes in Databox, and its content hash.

A row contains the company's id, every synced property as HubSpot's own string (or None
when unset) and ``archived``. Databox replaces a whole row on upsert, so rows are always
full; a deleted company becomes a row with only its id and ``archived`` set to
``"true"``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import orjson


def to_row(company: dict[str, Any], properties: Sequence[str]) -> dict[str, Any]:
    """Return the row of a company object as HubSpot's API returns it."""
    values = company.get("properties") or {}
    row: dict[str, Any] = {"id": str(company["id"])}
    for name in properties:
        row[name] = values.get(name)
    row["archived"] = "false"
    return row


def archived_row(company_id: str) -> dict[str, Any]:
    """Return the row that marks a deleted company."""
    return {"id": str(company_id), "archived": "true"}


def content_hash(row: dict[str, Any]) -> str:
    """Return a stable hash of the row's fields and values, independent of key order."""
    # SHA-1 serves as a change detector here, not as a security measure.
    encoded = orjson.dumps(row, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha1(encoded, usedforsecurity=False).hexdigest()
