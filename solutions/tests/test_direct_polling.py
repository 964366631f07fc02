"""Unit tests of direct-polling's diff and cycle logic, with in-memory API fakes."""

import pytest

from solutions.common.hubspot_client import HubSpotUnavailable
from solutions.common.rows import archived_row, content_hash, to_row
from solutions.direct_polling import Listing, Poller, Settings, Snapshot
from solutions.tests.support import LOG, run

PROPERTIES = ("name", "hs_lastmodifieddate")


def company(
    cid: int, name: str = "Acme", modified: str = "2026-01-01T00:00:00.000Z"
) -> dict:
    return {
        "id": str(cid),
        "properties": {"name": name, "hs_lastmodifieddate": modified},
    }


def row(cid: int, **kwargs: str) -> dict:
    return to_row(company(cid, **kwargs), PROPERTIES)


class FakeHubSpot:
    """Serves a list of companies in pages; can fail after some pages."""

    def __init__(self, companies: list[dict]) -> None:
        self.companies = companies
        self.fail_after_pages: int | None = None
        self.alive_ids: set[str] = set()
        self.limits: list[int] = []

    async def iter_pages(self, properties, *, limit):
        self.limits.append(limit)
        for n, start in enumerate(range(0, len(self.companies), limit)):
            if self.fail_after_pages is not None and n >= self.fail_after_pages:
                raise HubSpotUnavailable("GET /crm/v3/objects/companies failed")
            yield self.companies[start : start + limit]

    async def batch_read(self, ids, properties):
        return [{"id": i} for i in ids if i in self.alive_ids]


class FakeDatabox:
    def __init__(self) -> None:
        self.calls: list[list[dict]] = []

    async def upsert_rows(self, rows):
        self.calls.append(list(rows))

    @property
    def rows(self) -> list[dict]:
        return [r for call in self.calls for r in call]


def poller(
    companies: list[dict], **settings
) -> tuple[Poller, FakeHubSpot, FakeDatabox]:
    hubspot, databox = FakeHubSpot(companies), FakeDatabox()
    settings.setdefault("page_size", 2)
    return (
        Poller(hubspot, databox, PROPERTIES, Settings(**settings), LOG),
        hubspot,
        databox,
    )


# -- Listing: the diff against the last snapshot


def test_new_rows_are_changed():
    listing = Listing({})
    assert listing.changed([row(1)]) == [row(1)]


def test_unchanged_rows_are_skipped():
    listing = Listing({"1": content_hash(row(1))})
    assert listing.changed([row(1)]) == []


def test_rows_with_a_new_value_are_changed():
    listing = Listing({"1": content_hash(row(1))})
    assert listing.changed([row(1, name="Acme Inc")]) == [row(1, name="Acme Inc")]


def test_ids_missing_from_the_listing_have_vanished():
    previous = {"1": content_hash(row(1)), "2": content_hash(row(2))}
    listing = Listing(previous)
    listing.changed([row(2)])
    assert listing.vanished() == ["1"]


def test_vanished_ids_come_in_numeric_order():
    listing = Listing({cid: "h" for cid in ("10", "9", "100")})
    assert listing.vanished() == ["9", "10", "100"]


def test_commit_makes_the_listing_the_snapshot():
    snapshot = Snapshot()
    listing = snapshot.begin()
    listing.changed([row(1), row(2)])
    snapshot.commit(listing)
    assert snapshot.hashes == {"1": content_hash(row(1)), "2": content_hash(row(2))}


# -- Poller: one cycle against fake APIs


def test_first_cycle_writes_every_row():
    cycle, _, databox = poller([company(i) for i in range(1, 6)])
    assert run(cycle.run_cycle) is True
    assert [r["id"] for r in databox.rows] == ["1", "2", "3", "4", "5"]


def test_rows_written_in_chunks_of_100():
    cycle, _, databox = poller([company(i) for i in range(1, 251)])
    run(cycle.run_cycle)
    assert [len(call) for call in databox.calls] == [100, 100, 50]


def test_second_cycle_writes_only_the_changed_row():
    cycle, hubspot, databox = poller([company(i) for i in range(1, 6)])
    run(cycle.run_cycle)
    databox.calls.clear()
    hubspot.companies[2] = company(
        3, name="Renamed", modified="2026-01-02T00:00:00.000Z"
    )
    run(cycle.run_cycle)
    assert databox.rows == [row(3, name="Renamed", modified="2026-01-02T00:00:00.000Z")]


def test_unchanged_listing_writes_nothing():
    cycle, _, databox = poller([company(i) for i in range(1, 6)])
    run(cycle.run_cycle)
    databox.calls.clear()
    run(cycle.run_cycle)
    assert databox.calls == []


def test_vanished_company_is_written_as_archived():
    cycle, hubspot, databox = poller([company(i) for i in range(1, 6)])
    run(cycle.run_cycle)
    databox.calls.clear()
    del hubspot.companies[1]
    run(cycle.run_cycle)
    assert databox.rows == [archived_row("2")]
    assert "2" not in cycle.snapshot.hashes


def test_failed_cycle_keeps_the_snapshot():
    cycle, hubspot, _ = poller([company(i) for i in range(1, 6)])
    run(cycle.run_cycle)
    before = dict(cycle.snapshot.hashes)
    hubspot.companies[0] = company(1, name="Changed")
    hubspot.fail_after_pages = 1
    assert run(cycle.run_cycle) is False
    assert cycle.snapshot.hashes == before


def test_failed_cycle_writes_no_deletions():
    cycle, hubspot, databox = poller([company(i) for i in range(1, 6)])
    run(cycle.run_cycle)
    databox.calls.clear()
    hubspot.fail_after_pages = 1
    run(cycle.run_cycle)
    assert not any(r["archived"] == "true" for r in databox.rows)


def test_failed_cycle_is_counted():
    cycle, hubspot, _ = poller([company(1)])
    hubspot.fail_after_pages = 0
    run(cycle.run_cycle)
    assert cycle.stats["failed_cycles"] == 1


def test_next_cycle_rewrites_failed_changes():
    cycle, hubspot, databox = poller([company(i) for i in range(1, 6)])
    run(cycle.run_cycle)
    hubspot.companies[0] = company(1, name="Changed")
    hubspot.fail_after_pages = 1
    run(cycle.run_cycle)
    hubspot.fail_after_pages = None
    databox.calls.clear()
    run(cycle.run_cycle)
    assert databox.rows == [row(1, name="Changed")]


def test_listing_that_ended_early_writes_no_deletions():
    cycle, hubspot, databox = poller([company(i) for i in range(1, 6)])
    run(cycle.run_cycle)
    databox.calls.clear()
    # The listing stops after two companies, but the others still exist.
    hubspot.alive_ids = {"3", "4", "5"}
    hubspot.companies = hubspot.companies[:2]
    assert run(cycle.run_cycle) is False
    assert databox.rows == []
    assert cycle.stats["incomplete_listings"] == 1


def test_deletions_are_written_without_confirmation_when_disabled():
    cycle, hubspot, databox = poller([company(1), company(2)], confirm_deletions=False)
    run(cycle.run_cycle)
    databox.calls.clear()
    hubspot.alive_ids = {"2"}
    hubspot.companies = hubspot.companies[:1]
    run(cycle.run_cycle)
    assert databox.rows == [archived_row("2")]


def test_listing_is_read_with_the_page_size_setting():
    cycle, hubspot, _ = poller([company(1)], page_size=37)
    run(cycle.run_cycle)
    assert hubspot.limits == [37]


def test_backlog_is_zero_after_a_cycle():
    cycle, _, _ = poller([company(i) for i in range(1, 6)])
    run(cycle.run_cycle)
    assert cycle.pending == 0


def test_backlog_counts_rows_waiting_to_be_written():
    cycle, _, databox = poller([company(i) for i in range(1, 4)])
    seen: list[int] = []

    async def upsert_rows(rows):
        seen.append(cycle.pending)

    databox.upsert_rows = upsert_rows
    run(cycle.run_cycle)
    assert seen == [3]


# -- Settings


def test_unknown_setting_is_rejected_with_its_name():
    from solutions.common.settings import load_settings

    with pytest.raises(ValueError, match="'poll_intervall_s'"):
        load_settings(Settings, {"poll_intervall_s": 60})


def test_page_size_above_100_is_rejected():
    with pytest.raises(ValueError, match="page_size=500"):
        Settings(page_size=500)
