"""Authentication and scope errors of the mock HubSpot: 401 invalid or expired, 403 scopes."""

from __future__ import annotations

import asyncio
import re

from hubspot_helpers import running_mock

from pytest_syncbench.loop import run_virtual

COMPANIES = "/crm/v3/objects/companies"
COMPANY = f"{COMPANIES}/1"
SEARCH = f"{COMPANIES}/search"
BATCH_READ = f"{COMPANIES}/batch/read"
UUID4 = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)
READ = "crm.objects.companies.read"
WRITE = "crm.objects.companies.write"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_missing_and_wrong_token_get_401() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            for headers in ({"Authorization": ""}, _bearer("pat-na1-wrong")):
                response = await run.client.get(COMPANY, headers=headers)
                assert response.status_code == 401
                body = response.json()
                assert body["status"] == "error"
                assert body["category"] == "INVALID_AUTHENTICATION"
                assert body["message"].startswith(
                    "Authentication credentials not found"
                )
                assert UUID4.match(body["correlationId"])

    run_virtual(scenario)


def test_expired_token_set_gets_401_expired() -> None:
    async def scenario() -> None:
        old = "pat-na1-expired"
        async with running_mock(2, expired_tokens=frozenset({old})) as run:
            await asyncio.sleep(2 * 3600 + 5)
            response = await run.client.get(COMPANY, headers=_bearer(old))
            assert response.status_code == 401
            body = response.json()
            assert body["category"] == "EXPIRED_AUTHENTICATION"
            assert body["message"] == (
                "The OAuth token used to make this call expired 2 hour(s) ago."
            )
            assert body["context"] == {"expire time": ["2026-01-05T09:00:00.000Z"]}
            assert UUID4.match(body["correlationId"])
            assert (await run.client.get(COMPANY)).status_code == 200

    run_virtual(scenario)


def test_access_token_expires_at_set_time() -> None:
    async def scenario() -> None:
        async with running_mock(2, access_token_expires_s=1800.0) as run:
            await asyncio.sleep(1799)
            assert (await run.client.get(COMPANY)).status_code == 200
            await asyncio.sleep(31)
            response = await run.client.get(COMPANY)
            assert response.status_code == 401
            body = response.json()
            assert body["category"] == "EXPIRED_AUTHENTICATION"
            assert body["message"] == (
                "The OAuth token used to make this call expired 30 second(s) ago."
            )
            assert body["context"] == {"expire time": ["2026-01-05T09:30:00.000Z"]}
            statuses = [call.status for call in run.mock.calls]
            assert statuses == [200, 401]

    run_virtual(scenario)


def test_missing_read_scope_gets_403() -> None:
    async def scenario() -> None:
        async with running_mock(2, scopes=frozenset({WRITE})) as run:
            requests = [
                run.client.get(COMPANY),
                run.client.get(COMPANIES),
                run.client.post(SEARCH, json={}),
                run.client.post(BATCH_READ, json={"inputs": [{"id": "1"}]}),
            ]
            for request in requests:
                response = await request
                assert response.status_code == 403
                body = response.json()
                correlation_id = body.pop("correlationId")
                assert UUID4.match(correlation_id)
                assert body == {
                    "status": "error",
                    "message": (
                        "This app hasn't been granted all required scopes to make this "
                        "call. Read more about required scopes here: "
                        "https://developers.hubspot.com/scopes."
                    ),
                    "category": "MISSING_SCOPES",
                    "errors": [
                        {
                            "message": "One or more of the following scopes are required.",
                            "context": {"requiredGranularScopes": [READ]},
                        }
                    ],
                    "links": {"scopes": "https://developers.hubspot.com/scopes"},
                }
            created = await run.client.post(
                COMPANIES, json={"properties": {"name": "Allowed"}}
            )
            assert created.status_code == 201

    run_virtual(scenario)


def test_missing_write_scope_gets_403() -> None:
    async def scenario() -> None:
        async with running_mock(2, scopes=frozenset({READ})) as run:
            assert (await run.client.get(COMPANY)).status_code == 200
            response = await run.client.post(
                COMPANIES, json={"properties": {"name": "Denied"}}
            )
            assert response.status_code == 403
            error = response.json()["errors"][0]
            assert error["context"] == {"requiredGranularScopes": [WRITE]}
            assert len(run.store.companies) == 2

    run_virtual(scenario)


def test_default_grants_every_scope() -> None:
    async def scenario() -> None:
        async with running_mock(2) as run:
            assert run.mock.config.scopes is None
            assert (await run.client.get(COMPANY)).status_code == 200
            created = await run.client.post(
                COMPANIES, json={"properties": {"name": "Fine"}}
            )
            assert created.status_code == 201

    run_virtual(scenario)


def test_auth_errors_skip_rate_limits() -> None:
    async def scenario() -> None:
        async with running_mock(2, burst_limit=1, scopes=frozenset()) as run:
            for _ in range(3):
                response = await run.client.get(COMPANY)
                assert response.status_code == 403
                assert "X-HubSpot-RateLimit-Remaining" not in response.headers
            assert run.mock.limiter.burst.count(run.clock.now_ms()) == 0

    run_virtual(scenario)


def test_scopes_do_not_apply_to_webhooks_api() -> None:
    async def scenario() -> None:
        async with running_mock(1, scopes=frozenset()) as run:
            config = run.mock.config
            path = (
                f"/webhooks/v3/{config.app_id}/subscriptions"
                f"?hapikey={config.developer_api_key}"
            )
            assert (await run.client.get(path)).status_code == 200

    run_virtual(scenario)


def test_unknown_route_is_html_404() -> None:
    async def scenario() -> None:
        async with running_mock(1) as run:
            response = await run.client.get("/crm/v3/objects/unicorns")
            assert response.status_code == 404
            assert response.headers["Content-Type"].startswith("text/html")
            assert "<title>404 Not Found</title>" in response.text

    run_virtual(scenario)
