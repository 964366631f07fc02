"""In-memory HubSpot company store with a full change history.

The store is the source of truth for a scenario: the workload writes to it as HubSpot users
would, the mock API serves it, and the metrics compare the destination against it. Every
write is a :class:`Change` appended to one log in commit order, and listeners (the webhook
dispatcher, the search index) receive each change as it is committed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from pytest_syncbench.clock import Clock, iso_ms

# HubSpot keeps archived (deleted) companies restorable for 90 days, then purges them
# (companies API docs and the recycle bin help article).
DEFAULT_ARCHIVE_RETENTION_MS = 90 * 86_400_000

# Properties whose values HubSpot maintains itself; a write never sets them directly.
READ_ONLY_PROPERTIES = frozenset(
    {"hs_object_id", "createdate", "hs_lastmodifieddate", "hs_merged_object_ids"}
)


class ChangeKind(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    ARCHIVE = "archive"
    RESTORE = "restore"
    # The company was merged into another and no longer exists on its own.
    MERGE = "merge"


@dataclass(slots=True)
class Change:
    """One committed write to one company.

    ``properties`` holds the values the write set (for a creation, every property the
    company started with). ``source`` is "CRM_UI" for user edits made by the workload and
    "INTEGRATION" for writes made through the API, as HubSpot's ``changeSource`` reports.
    """

    seq: int
    company_id: int
    kind: ChangeKind
    committed_ms: int
    properties: dict[str, str | None]
    source: str = "CRM_UI"
    # For a MERGE change: the id of the surviving company.
    merged_into: int | None = None


@dataclass(slots=True)
class Company:
    id: int
    properties: dict[str, str | None]
    created_ms: int
    updated_ms: int
    archived: bool = False
    archived_ms: int | None = None
    # Set when the company was merged away: the id of the company that absorbed it. A
    # merged-away company is also archived, but it cannot be restored.
    merged_into: int | None = None
    # Indexes into Store.changes, oldest first.
    change_seqs: list[int] = field(default_factory=list)


ChangeListener = Callable[[Change], None]


class CompanyNotFound(KeyError):
    """Raised when a company id is not in the store."""


class Store:
    """Companies keyed by numeric id, with every committed change kept in order."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.companies: dict[int, Company] = {}
        self.changes: list[Change] = []
        self._listeners: list[ChangeListener] = []
        self._next_id = 1
        # How long an archived company stays restorable; the mock HubSpot passes its
        # configured retention to the read paths, this one applies to restore().
        self.archive_retention_ms = DEFAULT_ARCHIVE_RETENTION_MS

    # -- reading ------------------------------------------------------------------------

    def get(self, company_id: int) -> Company:
        try:
            return self.companies[company_id]
        except KeyError:
            raise CompanyNotFound(company_id) from None

    def live_ids(self) -> Iterator[int]:
        """Yield the ids of companies that are not archived, in ascending order."""
        return (cid for cid, c in sorted(self.companies.items()) if not c.archived)

    def is_purged(
        self, company: Company, now_ms: int, retention_ms: int | None = None
    ) -> bool:
        """Return whether an archived company is gone for good at ``now_ms``.

        A merged-away company is never restorable, so it counts as purged at once. Any
        other archived company is purged once ``retention_ms`` has passed since it was
        archived. Purging is evaluated lazily, from ``archived_ms`` and the clock.
        """
        if not company.archived:
            return False
        if company.merged_into is not None:
            return True
        if retention_ms is None:
            retention_ms = self.archive_retention_ms
        assert company.archived_ms is not None
        return now_ms - company.archived_ms >= retention_ms

    def history(self, company_id: int) -> list[Change]:
        return [self.changes[seq] for seq in self.get(company_id).change_seqs]

    def add_listener(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: ChangeListener) -> None:
        self._listeners.remove(listener)

    # -- writing ------------------------------------------------------------------------

    def seed(self, companies: Iterable[tuple[dict[str, str | None], int, int]]) -> None:
        """Load companies that existed before the scenario started.

        Each item is ``(properties, created_ms, modified_ms)`` with both times in the past.
        Each company gets one CREATE change at its last modification, holding the state it
        has when the scenario starts. Listeners are not told, since these writes happened
        before any solution was watching.
        """
        for props, created, modified in companies:
            company_id = self._allocate_id()
            props["hs_object_id"] = str(company_id)
            props["createdate"] = iso_ms(created)
            props["hs_lastmodifieddate"] = iso_ms(modified)
            company = Company(company_id, props, created, modified)
            self.companies[company_id] = company
            self._append(company, ChangeKind.CREATE, modified, dict(props), "CRM_UI")

    def create(
        self, properties: dict[str, str | None], source: str = "CRM_UI"
    ) -> Company:
        now = self.clock.now_ms()
        company_id = self._allocate_id()
        props = {k: v for k, v in properties.items() if k not in READ_ONLY_PROPERTIES}
        props["hs_object_id"] = str(company_id)
        props["createdate"] = iso_ms(now)
        props["hs_lastmodifieddate"] = iso_ms(now)
        company = Company(company_id, props, now, now)
        self.companies[company_id] = company
        self._commit(company, ChangeKind.CREATE, now, dict(props), source)
        return company

    def update(
        self, company_id: int, properties: dict[str, str | None], source: str = "CRM_UI"
    ) -> Change | None:
        """Set properties on a live company; return the change, or None if nothing changed.

        HubSpot bumps ``hs_lastmodifieddate`` on every property write, so every returned
        change carries the new value of it.
        """
        company = self.get(company_id)
        if company.archived:
            raise CompanyNotFound(company_id)
        changed = {
            k: v
            for k, v in properties.items()
            if k not in READ_ONLY_PROPERTIES and company.properties.get(k) != v
        }
        if not changed:
            return None
        now = self.clock.now_ms()
        changed["hs_lastmodifieddate"] = iso_ms(now)
        company.properties.update(changed)
        company.updated_ms = now
        return self._commit(company, ChangeKind.UPDATE, now, changed, source)

    def update_many(
        self, updates: list[tuple[int, dict[str, str | None]]], source: str = "CRM_UI"
    ) -> list[Change]:
        """Apply a bulk update: every change shares one commit millisecond, as imports do."""
        return [c for cid, props in updates if (c := self.update(cid, props, source))]

    def archive(self, company_id: int, source: str = "CRM_UI") -> Change:
        """Archive (delete) a company.

        HubSpot does not bump ``hs_lastmodifieddate`` on archive: only ``archivedAt`` is set.
        """
        company = self.get(company_id)
        if company.archived:
            raise CompanyNotFound(company_id)
        now = self.clock.now_ms()
        company.archived = True
        company.archived_ms = now
        return self._commit(company, ChangeKind.ARCHIVE, now, {}, source)

    def restore(
        self,
        company_id: int,
        source: str = "CRM_UI",
        retention_ms: int | None = None,
    ) -> Change:
        """Restore an archived company within the retention period (default: 90 days)."""
        company = self.get(company_id)
        if not company.archived:
            raise ValueError(f"company {company_id} is not archived")
        if company.merged_into is not None:
            raise ValueError(
                f"company {company_id} was merged into {company.merged_into}"
                " and cannot be restored"
            )
        now = self.clock.now_ms()
        if self.is_purged(company, now, retention_ms):
            raise CompanyNotFound(company_id)
        company.archived = False
        company.archived_ms = None
        return self._commit(company, ChangeKind.RESTORE, now, {}, source)

    def merge(
        self, primary_id: int, merged_id: int, source: str = "CRM_UI"
    ) -> tuple[Change, Change]:
        """Merge company ``merged_id`` into ``primary_id``; return both changes.

        The merged-away company ends with a MERGE change: it is archived, cannot be
        restored, and its id resolves to the survivor from then on. The survivor keeps its
        own values, takes the merged company's value for every property it has no value
        for, and records the merged id (and any ids merged into that one before) in
        ``hs_merged_object_ids``, a ``;``-separated list. Its UPDATE change carries those
        properties and a new ``hs_lastmodifieddate``. Both changes share one millisecond,
        the MERGE change first.
        """
        if primary_id == merged_id:
            raise ValueError(f"cannot merge company {primary_id} into itself")
        primary = self.get(primary_id)
        merged = self.get(merged_id)
        for company in (primary, merged):
            if company.archived:
                raise CompanyNotFound(company.id)
        now = self.clock.now_ms()
        moved = {
            name: value
            for name, value in merged.properties.items()
            if name not in READ_ONLY_PROPERTIES
            and value not in (None, "")
            and primary.properties.get(name) in (None, "")
        }
        ids = [
            *_split_ids(primary.properties.get("hs_merged_object_ids")),
            str(merged_id),
            *_split_ids(merged.properties.get("hs_merged_object_ids")),
        ]
        moved["hs_merged_object_ids"] = ";".join(dict.fromkeys(ids))
        moved["hs_lastmodifieddate"] = iso_ms(now)
        merged.archived = True
        merged.archived_ms = now
        merged.merged_into = primary_id
        gone = self._append(merged, ChangeKind.MERGE, now, {}, source)
        gone.merged_into = primary_id
        primary.properties.update(moved)
        primary.updated_ms = now
        kept = self._append(primary, ChangeKind.UPDATE, now, moved, source)
        for listener in self._listeners:
            listener(gone)
            listener(kept)
        return gone, kept

    def resolve(self, company_id: int) -> Company:
        """Return the company that ``company_id`` resolves to, following merges."""
        company = self.get(company_id)
        while company.merged_into is not None:
            company = self.get(company.merged_into)
        return company

    # -- internals ----------------------------------------------------------------------

    def _allocate_id(self) -> int:
        company_id = self._next_id
        self._next_id += 1
        return company_id

    def _append(
        self,
        company: Company,
        kind: ChangeKind,
        now: int,
        props: dict[str, str | None],
        source: str,
    ) -> Change:
        change = Change(len(self.changes), company.id, kind, now, props, source)
        self.changes.append(change)
        company.change_seqs.append(change.seq)
        return change

    def _commit(
        self,
        company: Company,
        kind: ChangeKind,
        now: int,
        props: dict[str, str | None],
        source: str,
    ) -> Change:
        change = self._append(company, kind, now, props, source)
        for listener in self._listeners:
            listener(change)
        return change


def _split_ids(raw: str | None) -> list[str]:
    return [part for part in (raw or "").split(";") if part]
