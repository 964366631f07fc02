"""Properties with unique values (``hasUniqueValue``) and HubSpot's 409 CONFLICT on them.

HubSpot lets an account mark custom properties as unique: a create, update or upsert that
would give a second record a value another record already has fails with 409 CONFLICT,
and batch upsert and batch read may name such a property as ``idProperty``. The mock takes
the unique property names from ``HubSpotConfig.unique_properties``; the default is none, so
default runs never see a 409.

Only live companies hold values: an archived company's value is free again. HubSpot does not
document whether archived records keep their unique values reserved; freeing them is the
reading under which restoring one can itself conflict, which the mock does not model.
Values compare exactly (case-sensitively), which is also unconfirmed.

The error body follows the 409 that HubSpot sends for a duplicate contact email (seen in
public issues, 2023-2025): ``{"status": "error", "message": "Contact already exists.
Existing ID: 123", "category": "CONFLICT", ...}``, with the newer ``errors`` entry that
names the property in ``in``. HubSpot publishes no body for custom unique properties, so
the message is adapted from that one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pytest_syncbench.hubspot.errors import ApiError
from pytest_syncbench.hubspot.store import Store

CONFLICT = "CONFLICT"
OBJECT_ID = "hs_object_id"


def conflict(name: str, value: str, existing_id: int | None) -> ApiError:
    """Build the 409 for a value already taken by ``existing_id`` (None: by another input)."""
    if existing_id is None:
        message = f"Duplicate value for unique property {name} in the batch input."
        detail = f"More than one input sets {name} to {value!r}."
    else:
        message = f"Company already exists. Existing ID: {existing_id}"
        detail = f"A company with {name} {value!r} already exists. Existing ID: {existing_id}"
    return ApiError(409, CONFLICT, message, errors=[{"message": detail, "in": name}])


class UniqueValues:
    """Owner of every value of the unique properties among live companies.

    The map is rebuilt from the store when the store has changed since the last build
    (one scan per write request, and none at all while no property is unique).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._names: tuple[str, ...] = ()
        self._built_at: tuple[int, int] | None = None
        self._owners: dict[tuple[str, str], int] = {}

    def owners(self, names: Iterable[str]) -> dict[tuple[str, str], int]:
        names = tuple(names)
        stamp = (len(self.store.changes), len(self.store.companies))
        if names != self._names or stamp != self._built_at:
            owners: dict[tuple[str, str], int] = {}
            if names:
                for company_id, company in self.store.companies.items():
                    if company.archived:
                        continue
                    for name in names:
                        value = company.properties.get(name)
                        if value not in (None, ""):
                            owners.setdefault((name, value), company_id)
            self._names, self._built_at, self._owners = names, stamp, owners
        return self._owners

    def find(self, names: Iterable[str], name: str, value: str) -> int | None:
        """Return the id of the live company whose unique property ``name`` is ``value``."""
        return self.owners(names).get((name, value))

    def check(
        self,
        names: Iterable[str],
        writes: Iterable[tuple[int | None, Mapping[str, str | None]]],
    ) -> None:
        """Raise 409 if any write would share a unique value with another company.

        ``writes`` are ``(company_id, values)`` pairs, with None as the id of a company to
        create; they are checked together, so two inputs of one batch that claim the same
        value conflict with each other as well.
        """
        names = tuple(names)
        if not names:
            return
        owners = self.owners(names)
        claimed: dict[tuple[str, str], int | None] = {}
        for index, (company_id, values) in enumerate(writes):
            # A company to create gets a placeholder identity of its own in the batch.
            me = company_id if company_id is not None else -1 - index
            for name in names:
                value = values.get(name)
                if value in (None, ""):
                    continue
                assert value is not None
                key = (name, value)
                owner = owners.get(key)
                if owner is not None and owner != company_id:
                    raise conflict(name, value, owner)
                other = claimed.setdefault(key, me)
                if other != me:
                    raise conflict(name, value, other if other > 0 else None)
