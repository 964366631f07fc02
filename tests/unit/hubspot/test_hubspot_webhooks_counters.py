"""Calculated properties send no events, and events delivered twice are counted."""

from __future__ import annotations

import pytest
from hubspot_helpers import running_mock
from test_hubspot_webhooks import received_events, receiver, settle, subscribe

from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.loop import run_virtual


def test_unwebhooked_property_sends_no_event() -> None:
    async def scenario() -> list[tuple[int, str]]:
        async with (
            running_mock(5, unwebhooked_properties=frozenset({"city"})) as run,
            receiver(run) as state,
        ):
            await subscribe(run, state.url, properties=("city", "industry"))
            run.store.update(1, {"city": "Ljubljana"})
            run.store.update(2, {"industry": "RETAIL"})
            run.store.update(3, {"city": "Maribor", "industry": "BANKING"})
            await settle(run)
            # The value changed all the same; only the event is missing.
            assert run.store.companies[1].properties["city"] == "Ljubljana"
            return [(e["objectId"], e["propertyName"]) for e in received_events(state)]

    assert sorted(run_virtual(scenario)) == [(2, "industry"), (3, "industry")]


def test_unwebhooked_properties_rejects_one_string() -> None:
    with pytest.raises(ValueError, match="unwebhooked_properties 'city'"):
        HubSpotConfig(unwebhooked_properties="city")  # type: ignore[arg-type]


def test_redelivered_events_counted_once_each() -> None:
    async def scenario() -> tuple[int, int, int]:
        async with running_mock(5, duplicate_rate=1.0) as run, receiver(run) as state:
            await subscribe(run, state.url)
            for company_id in (1, 2, 3):
                run.store.update(company_id, {"city": f"City {company_id}"})
            await settle(run)
            dispatcher = run.mock.webhooks
            received = len(received_events(state))
            return received, dispatcher.delivered_events, dispatcher.redelivered_events

    received, delivered, redelivered = run_virtual(scenario)

    assert received == 6
    assert delivered == 6
    assert redelivered == 3


def test_no_duplicates_no_redelivery() -> None:
    async def scenario() -> int:
        async with running_mock(5) as run, receiver(run) as state:
            await subscribe(run, state.url)
            run.store.update(1, {"city": "Celje"})
            await settle(run)
            return run.mock.webhooks.redelivered_events

    assert run_virtual(scenario) == 0
