"""Ascending-id paging over the store for the list endpoint.

HubSpot's list endpoint returns companies in ascending id order and pages with an opaque
``after`` cursor. The cursor here is the URL-safe base64 of the next id to return, without
padding, so that clients that treat it as a number fail as they would against HubSpot.

``archived=true`` lists companies that were archived and can still be restored: a company
merged into another is archived too, but it can never be restored, so it is not listed, and
an archived company is no longer listed once the retention period has passed (purged).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import contextlib

from sortedcontainers import SortedList

from pytest_syncbench.hubspot.errors import validation_error
from pytest_syncbench.hubspot.store import Change, ChangeKind, Company, Store


def encode_cursor(next_id: int) -> str:
    return base64.urlsafe_b64encode(str(next_id).encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> int:
    """Return the id a cursor points at; raise a 400 error for a cursor this mock never made."""
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        text = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.isdigit():
        raise validation_error(
            f"Invalid after cursor {cursor!r}: pass paging.next.after as given."
        )
    return int(text)


class CompanyListing:
    """Sorted ids of all companies and of the archived ones, kept current by a store listener.

    Merged-away companies are archived but never enter the archived list.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._ids: list[int] = []
        self._archived: SortedList = SortedList()
        store.add_listener(self._on_change)

    def close(self) -> None:
        # Closing twice is harmless: the listener is already gone.
        with contextlib.suppress(ValueError):
            self.store.remove_listener(self._on_change)

    def _on_change(self, change: Change) -> None:
        company_id = change.company_id
        if change.kind is ChangeKind.CREATE:
            if not self._ids or self._ids[-1] < company_id:
                self._ids.append(company_id)
            else:
                bisect.insort(self._ids, company_id)
        elif change.kind is ChangeKind.ARCHIVE:
            self._archived.add(company_id)
        elif change.kind is ChangeKind.RESTORE:
            self._archived.discard(company_id)
        # A MERGE enters neither list: the merged-away company is archived, so the live
        # listing skips it, and it can never be restored, so archived=true hides it too.

    def _sync(self) -> None:
        # Store.seed notifies no listener, so a size mismatch means companies were seeded.
        companies = self.store.companies
        if len(companies) != len(self._ids):
            self._ids = sorted(companies)
            self._archived = SortedList(
                cid
                for cid, c in companies.items()
                if c.archived and c.merged_into is None
            )

    def page(
        self,
        first_id: int,
        limit: int,
        archived: bool,
        now_ms: int | None = None,
        retention_ms: int | None = None,
    ) -> tuple[list[Company], int | None]:
        """Return up to ``limit`` companies with id >= ``first_id`` and the next page's first id.

        With ``archived``, companies purged at ``now_ms`` (archived ``retention_ms`` or
        longer ago) are skipped; without ``now_ms`` none are.
        """
        self._sync()
        companies = self.store.companies
        found: list[Company] = []
        if archived:
            start = self._archived.bisect_left(first_id)
            for company_id in self._archived.islice(start):
                company = companies[company_id]
                if now_ms is not None and self.store.is_purged(
                    company, now_ms, retention_ms
                ):
                    continue
                found.append(company)
                if len(found) > limit:
                    break
        else:
            ids = self._ids
            for index in range(bisect.bisect_left(ids, first_id), len(ids)):
                company = companies[ids[index]]
                if company.archived:
                    continue
                found.append(company)
                if len(found) > limit:
                    break
        if len(found) > limit:
            return found[:limit], found[limit].id
        return found, None
