"""Outage modes of the mock HubSpot: refused connections and 503 responses."""

from __future__ import annotations

import httpx
from hubspot_helpers import running_mock

from pytest_syncbench.hubspot.faults import FaultRule
from pytest_syncbench.loop import run_virtual

COMPANY = "/crm/v3/objects/companies/1"


def test_refused_mode_and_recovery() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            assert (await run.client.get(COMPANY)).status_code == 200
            await run.mock.set_outage("refused")
            refused = False
            try:
                await run.client.get(COMPANY)
            except httpx.ConnectError:
                refused = True
            assert refused
            await run.mock.set_outage(None)
            assert (await run.client.get(COMPANY)).status_code == 200

    run_virtual(scenario)


def test_503_mode_answers_everything() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            await run.mock.set_outage("503")
            for path in (COMPANY, "/crm/v3/objects/companies", "/no/such/route"):
                response = await run.client.get(path)
                assert response.status_code == 503, path
                assert response.json()["status"] == "error", path
            unauthenticated = await run.client.get(
                COMPANY, headers={"Authorization": ""}
            )
            assert unauthenticated.status_code == 503
            await run.mock.set_outage(None)
            assert (await run.client.get(COMPANY)).status_code == 200
            statuses = [call.status for call in run.mock.calls]
            assert statuses == [503, 503, 503, 503, 200]

    run_virtual(scenario)


def test_unavailability_mode_is_validated() -> None:
    async def scenario() -> None:
        async with running_mock(0) as run:
            rejected = False
            try:
                await run.mock.set_outage("timeout")  # type: ignore[arg-type]
            except ValueError:
                rejected = True
            assert rejected

    run_virtual(scenario)


def test_503_outage_precedes_fault_rules() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            rule = run.mock.faults.add(FaultRule(423))
            await run.mock.set_outage("503")
            assert (await run.client.get(COMPANY)).status_code == 503
            assert run.mock.faults.hits(rule) == 0
            await run.mock.set_outage(None)
            assert (await run.client.get(COMPANY)).status_code == 423
            assert run.mock.faults.hits(rule) == 1

    run_virtual(scenario)
