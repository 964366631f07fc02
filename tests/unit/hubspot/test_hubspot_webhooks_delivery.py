"""Webhook events and delivery rules: merges, settings delay, late creations, retries."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from aiohttp import web
from hubspot_helpers import Running, running_mock
from test_hubspot_webhooks import hooks_url, received_events, receiver, settle

from pytest_syncbench.loop import run_virtual

COMPANIES = "/crm/v3/objects/companies"


async def _configure(run: Running, target: str, *subscriptions: dict[str, Any]) -> None:
    settings = {"targetUrl": target}
    response = await run.client.put(hooks_url(run, "settings"), json=settings)
    assert response.status_code == 200
    for body in subscriptions:
        created = await run.client.post(
            hooks_url(run, "subscriptions"), json={**body, "active": True}
        )
        assert created.status_code == 201


def _property(name: str) -> dict[str, Any]:
    return {"eventType": "company.propertyChange", "propertyName": name}


def test_merge_event_fields() -> None:
    async def scenario() -> None:
        async with running_mock(3) as run, receiver(run) as state:
            await _configure(
                run,
                state.url,
                {"eventType": "company.merge"},
                {"eventType": "company.deletion"},
            )
            run.store.update(1, {"city": None, "industry": None})
            run.store.update(2, {"city": "Porto", "industry": "RETAIL"})
            await settle(run)
            merged_change, survivor_change = run.store.merge(1, 2)
            await settle(run)
            events = received_events(state)
            assert len(events) == 1
            event = events[0]
            moved = set(survivor_change.properties) - {
                "hs_merged_object_ids",
                "hs_lastmodifieddate",
            }
            assert {"city", "industry"} <= moved
            assert event["subscriptionType"] == "company.merge"
            assert event["objectId"] == 1
            assert event["primaryObjectId"] == 1
            assert event["mergedObjectIds"] == [2]
            assert event["newObjectId"] == 1
            assert event["numberOfPropertiesMoved"] == len(moved)
            assert event["occurredAt"] == merged_change.committed_ms
            assert event["changeSource"] == "CRM_UI"

    run_virtual(scenario)


def test_merge_moving_nothing_counts_zero() -> None:
    async def scenario() -> None:
        async with running_mock(3) as run, receiver(run) as state:
            await _configure(run, state.url, {"eventType": "company.merge"})
            for name in list(run.store.companies[2].properties):
                if name not in ("hs_object_id", "createdate", "hs_lastmodifieddate"):
                    run.store.companies[2].properties[name] = None
            run.store.merge(3, 2)
            await settle(run)
            [event] = received_events(state)
            assert event["objectId"] == 3
            assert event["mergedObjectIds"] == [2]
            assert event["numberOfPropertiesMoved"] == 0

    run_virtual(scenario)


def test_merge_survivor_update_fires_property_events() -> None:
    async def scenario() -> None:
        async with running_mock(3) as run, receiver(run) as state:
            await _configure(run, state.url, _property("city"))
            run.store.update(1, {"city": None})
            run.store.update(2, {"city": "Lyon"})
            await settle(run)
            state.deliveries.clear()
            run.store.merge(1, 2)
            await settle(run)
            events = received_events(state)
            assert [(e["objectId"], e["propertyValue"]) for e in events] == [
                (1, "Lyon")
            ]

    run_virtual(scenario)


def test_settings_delay_applies_later() -> None:
    async def scenario() -> None:
        async with (
            running_mock(2, webhook_settings_delay_s=300.0) as run,
            receiver(run) as state,
        ):
            await _configure(run, state.url, _property("city"))
            listed = (await run.client.get(hooks_url(run, "subscriptions"))).json()
            assert [s["active"] for s in listed["results"]] == [True]
            await asyncio.sleep(10)
            run.store.update(1, {"city": "Too early"})
            await asyncio.sleep(291)
            run.store.update(1, {"city": "Live"})
            await settle(run)
            assert [e["propertyValue"] for e in received_events(state)] == ["Live"]

            subscription_id = listed["results"][0]["id"]
            path = hooks_url(run, f"subscriptions/{subscription_id}")
            assert (await run.client.patch(path, json={"active": False})).is_success
            run.store.update(1, {"city": "Still delivered"})
            await settle(run)
            await asyncio.sleep(300)
            run.store.update(1, {"city": "Paused"})
            await settle(run)
            values = [e["propertyValue"] for e in received_events(state)]
            assert values == ["Live", "Still delivered"]

    run_virtual(scenario)


def test_late_creation_follows_property_change() -> None:
    async def scenario() -> None:
        async with (
            running_mock(1, late_creation_rate=1.0) as run,
            receiver(run) as state,
        ):
            await _configure(
                run, state.url, {"eventType": "company.creation"}, _property("name")
            )
            created = await run.client.post(
                COMPANIES, json={"properties": {"name": "Early Bird"}}
            )
            new_id = int(created.json()["id"])
            await settle(run)
            batches = [
                [(e["subscriptionType"], e["objectId"]) for e in delivery.events]
                for delivery in state.deliveries
            ]
            assert batches == [
                [("company.propertyChange", new_id)],
                [("company.creation", new_id)],
            ]
            assert run.mock.webhooks.late_creations == 1

    run_virtual(scenario)


def test_late_creation_off_by_default() -> None:
    async def scenario() -> None:
        async with running_mock(1) as run, receiver(run) as state:
            await _configure(
                run, state.url, {"eventType": "company.creation"}, _property("name")
            )
            await run.client.post(COMPANIES, json={"properties": {"name": "Together"}})
            await settle(run)
            assert len(state.deliveries) == 1
            assert run.mock.webhooks.late_creations == 0

    run_virtual(scenario)


def _attempts_after_first_reply(status: int, headers: dict[str, str]) -> list[int]:
    """Reply ``status`` to the first delivery and 200 after; return each attemptNumber."""

    async def scenario() -> list[int]:
        def reply(number: int) -> web.Response | None:
            if number == 0:
                return web.Response(status=status, headers=headers)
            return None

        async with (
            running_mock(2, max_retries=3, retry_span_s=70.0) as run,
            receiver(run, reply) as state,
        ):
            await _configure(run, state.url, _property("city"))
            run.store.update(1, {"city": "Once"})
            await settle(run)
            attempts = [d.events[0]["attemptNumber"] for d in state.deliveries]
            assert run.mock.webhooks.delivered_events == 1
            assert run.mock.webhooks.retries == len(attempts) - 1
        return attempts

    return run_virtual(scenario)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 429, 500, 502, 503, 504])
def test_error_statuses_are_retried(status: int) -> None:
    assert _attempts_after_first_reply(status, {}) == [0, 1]


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_success_statuses_are_not_retried(status: int) -> None:
    assert _attempts_after_first_reply(status, {}) == [0]


def test_redirect_is_a_failure_not_followed() -> None:
    # The redirect points back at the receiver: a followed redirect would resend attempt 0
    # at once, while a retry sends attempt 1 after the retry delay.
    assert _attempts_after_first_reply(307, {"Location": "/hooks"}) == [0, 1]


def test_connection_refused_is_retried_then_dropped() -> None:
    async def scenario() -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        async with running_mock(2, max_retries=2, retry_span_s=30.0) as run:
            await _configure(run, f"http://127.0.0.1:{port}/hooks", _property("city"))
            run.store.update(1, {"city": "Nobody home"})
            await settle(run)
            hooks = run.mock.webhooks
            assert hooks.failed_attempts == 3
            assert hooks.retries == 2
            assert hooks.dropped_events == 1
            assert hooks.delivered_events == 0

    run_virtual(scenario)
