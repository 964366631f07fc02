"""Bulk initial sync: every existing company copied into an empty destination."""

import math

from pytest_syncbench.solution import Delivery

# The built-in record solutions page through the list endpoint. Other solutions may read
# by search or batch read, so only what they delivered is checked.
LISTING_SOLUTIONS = ("direct-polling", "webhook-sync", "hybrid-cdc")


def test_bulk(syncbench_case):
    outcome = syncbench_case.run("bulk")

    assert outcome.delivered_changes + outcome.data_loss == outcome.tracked_changes
    assert outcome.measured_changes == outcome.spec.companies
    if outcome.delivers is Delivery.RECORDS and outcome.solution in LISTING_SOLUTIONS:
        # The list endpoint serves at most 100 companies a page, so reading every company
        # takes at least this many list calls, whichever way a solution pages.
        list_calls = sum(
            1
            for call in outcome.hubspot_calls
            if call.endpoint.endswith("/objects/companies")
        )
        assert list_calls >= math.ceil(outcome.spec.companies / 100)
