"""Bulk initial sync: every existing company copied into an empty destination."""

import math

from pytest_syncbench.solution import Delivery


def test_bulk(syncbench_case):
    outcome = syncbench_case.run("bulk")

    assert outcome.delivered_changes + outcome.data_loss == outcome.tracked_changes
    assert outcome.measured_changes == outcome.spec.companies
    if outcome.delivers is Delivery.RECORDS:
        # The list endpoint serves at most 100 companies a page, so reading every company
        # takes at least this many list calls, whichever way a solution pages.
        list_calls = sum(
            1
            for call in outcome.hubspot_calls
            if call.endpoint.endswith("/objects/companies")
        )
        assert list_calls >= math.ceil(outcome.spec.companies / 100)
