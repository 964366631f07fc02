"""Push API of the mock Databox, over HTTP against the real server."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pytest_syncbench.clock import DEFAULT_EPOCH_MS, parse_iso_ms
from pytest_syncbench.databox.server import DataboxMock

Serve = Callable[..., Any]  # the conftest fixture
TOKEN = "push-token-0001"  # DataboxConfig's default push token
JSON_TYPE = {"Content-Type": "application/json"}


def _auth(token: str = TOKEN, password: str = "") -> dict[str, str]:
    raw = base64.b64encode(f"{token}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


async def _push(client: httpx.AsyncClient, items: Any) -> httpx.Response:
    return await client.post("/data", json=items, headers=_auth())


def test_accepted_push_is_recorded_with_its_arrival_time(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        await asyncio.sleep(12.5)
        answer = await _push(client, [{"key": "companies", "value": 42}])
        return answer, mock

    answer, mock = serve(scenario)
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert len(mock.writes) == 1
    write = mock.writes[0]
    assert write.kind == "push"
    assert write.arrival_s == pytest.approx(12.5)
    assert write.arrival_ms == DEFAULT_EPOCH_MS + 12_500
    assert write.dataset_id is None
    assert write.items[0].value == 42
    assert write.write_id == answer.json()["id"]


def test_item_without_date_is_dated_at_arrival(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        await asyncio.sleep(3)
        await _push(client, [{"key": "companies", "value": 1}])
        return mock

    mock = serve(scenario)
    assert mock.data_points["companies"][0].date_ms == DEFAULT_EPOCH_MS + 3_000


def test_item_fields_are_stored(serve: Serve) -> None:
    item = {
        "key": "deals_value",
        "value": 12.5,
        "date": "2026-01-04T10:00:00Z",
        "unit": "USD",
        "attributes": [{"key": "industry", "value": "software"}],
    }

    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        await _push(client, [item])
        return mock.data_points["deals_value"][0]

    point = serve(scenario)
    assert point.date_ms == parse_iso_ms("2026-01-04T10:00:00Z")
    assert point.unit == "USD"
    assert point.attributes == {"industry": "software"}


def test_repeated_push_adds_a_second_data_point(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        item = {"key": "companies", "value": 10, "date": "2026-01-05T09:00:00Z"}
        await _push(client, [item])
        await _push(client, [item])
        return mock

    mock = serve(scenario)
    points = mock.data_points["companies"]
    assert len(points) == 2
    assert sum(point.value for point in points) == 20
    assert len(mock.writes) == 2


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Unauthorized - Token not provided!"),
        (_auth(token="wrong-token"), "Invalid token"),
        (_auth(password="secret"), "Invalid token"),
        ({"Authorization": "Bearer push-token-0001"}, "Invalid token"),
    ],
    ids=["missing", "wrong-token", "non-empty-password", "not-basic"],
)
def test_bad_credentials_get_401_and_store_nothing(
    serve: Serve, headers: dict[str, str], message: str
) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        answer = await client.post(
            "/data", json=[{"key": "companies", "value": 1}], headers=headers
        )
        return answer, mock

    answer, mock = serve(scenario)
    assert answer.status_code == 401
    assert answer.json() == {"status": "Unauthorized", "message": message}
    assert mock.writes == []


def test_eleventh_push_in_one_second_gets_429(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        item = [{"key": "companies", "value": 1}]
        answers = await asyncio.gather(*(_push(client, item) for _ in range(11)))
        return answers, mock

    answers, mock = serve(scenario)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] * 10 + [429]
    rejected = next(answer for answer in answers if answer.status_code == 429)
    assert rejected.json() == {
        "status": "Too Many Requests",
        "message": "Too many requests. 10/sec is allowed",
    }
    assert len(mock.writes) == 10
    assert len(mock.data_points["companies"]) == 10


def test_push_admitted_after_one_second(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        item = [{"key": "companies", "value": 1}]
        await asyncio.gather(*(_push(client, item) for _ in range(11)))
        await asyncio.sleep(1.0)
        return await _push(client, item)

    assert serve(scenario).status_code == 200


def test_payload_over_the_limit_gets_413(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        items = [{"key": "companies", "value": i, "unit": "x" * 100} for i in range(20)]
        answer = await _push(client, items)
        return answer, mock

    answer, mock = serve(scenario, payload_limit_bytes=2_000)
    assert answer.status_code == 413
    body = answer.json()
    assert body["status"] == "REQUEST_ENTITY_TOO_LARGE"
    assert "maximum size restriction (2kB)" in body["message"]
    assert body["id"] is None
    assert mock.writes == []


@pytest.mark.parametrize("limit", [500_000, 1_000_000], ids=["older", "newer"])
def test_payload_limit_knob_sets_threshold(serve: Serve, limit: int) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        frame = b'[{"key":"companies","value":1,"unit":"%s"}]'
        fits = frame % (b"x" * (limit - len(frame) + 2))
        answers = []
        for body in (fits, fits[:-3] + b'x"}]'):
            answers.append(
                await client.post(
                    "/data", content=body, headers={**_auth(), **JSON_TYPE}
                )
            )
            await asyncio.sleep(1)
        return answers

    at_limit, over_limit = serve(scenario, payload_limit_bytes=limit)
    assert at_limit.status_code == 200
    assert over_limit.status_code == 413


def test_chunked_payload_over_the_limit_gets_413(serve: Serve) -> None:
    async def chunks() -> Any:
        yield b'[{"key":"companies","value":1,"unit":"'
        for _ in range(3):
            yield b"x" * 1_000
        yield b'"}]'

    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        answer = await client.post("/data", content=chunks(), headers=_auth())
        return answer, mock

    answer, mock = serve(scenario, payload_limit_bytes=2_000)
    assert answer.status_code == 413
    assert mock.writes == []


def test_payload_at_the_limit_is_accepted(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        frame = b'[{"key":"companies","value":1,"unit":"%s"}]'
        body = frame % (b"x" * (2_048 - len(frame) + 2))
        assert len(body) == 2_048
        return await client.post(
            "/data", content=body, headers={**_auth(), **JSON_TYPE}
        )

    assert serve(scenario, payload_limit_bytes=2_048).status_code == 200


def test_partial_failure_stores_the_good_items_and_warns(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        items = [
            {"key": "companies", "value": 1},
            {"key": "bad-key", "value": 1},
            {"key": "companies", "value": "many"},
        ]
        answer = await _push(client, items)
        return answer, mock

    answer, mock = serve(scenario)
    assert answer.status_code == 200
    status = answer.json()["status"]
    assert status == "Warning: some items not inserted (OK: 1, FAILED: 2)"
    assert len(mock.data_points["companies"]) == 1


@pytest.mark.parametrize(
    "item",
    [
        {"key": "has space", "value": 1},
        {"key": "companies", "value": "1"},
        {"key": "companies", "value": True},
        {"key": "companies", "value": 10**16},
        {"key": "companies", "value": 1, "date": "yesterday"},
        {"key": "companies", "value": 1, "attributes": {"industry": "x"}},
        {"key": "companies"},
        {
            "key": "companies",
            "value": 1,
            "periodFrom": "2026-01-02T00:00:00Z",
            "periodTo": "2026-01-01T00:00:00Z",
        },
    ],
    ids=[
        "key",
        "string-value",
        "bool-value",
        "17-digits",
        "date",
        "attributes",
        "no-value",
        "period-reversed",
    ],
)
def test_invalid_item_alone_is_not_inserted(serve: Serve, item: dict[str, Any]) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        answer = await _push(client, [item])
        return answer, mock

    answer, mock = serve(scenario)
    assert answer.status_code == 200
    status = answer.json()["status"]
    assert status == "Warning: some items not inserted (OK: 0, FAILED: 1)"
    assert mock.writes == []
    assert mock.data_points == {}


def test_period_is_stored_with_the_point(serve: Serve) -> None:
    item = {
        "key": "mrr",
        "value": 7,
        "periodFrom": "2026-01-01T00:00:00Z",
        "periodTo": "2026-01-31T23:59:59Z",
    }

    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        await _push(client, [item])
        return mock.data_points["mrr"][0]

    point = serve(scenario)
    assert point.period_from_ms == parse_iso_ms("2026-01-01T00:00:00Z")
    assert point.period_to_ms == parse_iso_ms("2026-01-31T23:59:59Z")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/vnd.databox.v2+json",
        "application/json; charset=utf-8",
    ],
)
def test_json_content_types_are_accepted(serve: Serve, content_type: str) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        headers = {**_auth(), "Content-Type": content_type}
        body = b'[{"key":"companies","value":1}]'
        return await client.post("/data", content=body, headers=headers)

    assert serve(scenario).status_code == 200


def test_other_content_type_gets_400(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        headers = {**_auth(), "Content-Type": "text/plain"}
        body = b'[{"key":"companies","value":1}]'
        answer = await client.post("/data", content=body, headers=headers)
        return answer, mock

    answer, mock = serve(scenario)
    assert answer.status_code == 400
    assert answer.json() == {
        "status": "Bad Request",
        "message": "Bad request - Content-Type should be application/json!",
    }
    assert mock.writes == []


def test_sixteen_whole_digits_are_accepted(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        return await _push(client, [{"key": "companies", "value": 10**16 - 1}])

    assert serve(scenario).status_code == 200


def test_decimals_beyond_six_are_rounded(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        await _push(client, [{"key": "ratio", "value": 0.1 + 0.2}])
        return mock.data_points["ratio"][0].value

    assert serve(scenario) == 0.3


def test_body_that_is_not_an_array_gets_400(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        return await _push(client, {"key": "companies", "value": 1})

    assert serve(scenario).status_code == 400


def test_invalid_json_gets_400(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        return await client.post(
            "/data", content=b"[{", headers={**_auth(), **JSON_TYPE}
        )

    answer = serve(scenario)
    assert answer.status_code == 400
    assert answer.json() == {
        "status": "Bad Request",
        "message": "Bad request - Invalid JSON",
    }


def test_legacy_shape_stores_metric_and_dimensions(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        body = {
            "data": [
                {"$companies": 5, "date": "2026-01-05", "industry": "software"},
            ]
        }
        answer = await client.post("/", json=body, headers=_auth())
        return answer, mock

    answer, mock = serve(scenario)
    assert answer.status_code == 200
    point = mock.data_points["companies"][0]
    assert point.value == 5
    assert point.attributes == {"industry": "software"}
    assert point.date_ms == parse_iso_ms("2026-01-05T00:00:00Z")


def test_legacy_body_not_wrapped_in_data_gets_400(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        return await client.post("/", json=[{"$companies": 5}], headers=_auth())

    answer = serve(scenario)
    assert answer.status_code == 400
    assert answer.json() == {
        "status": "Bad Request",
        "message": "Validation error - Metric data should be wrapped into 'data' item",
    }


def test_ping_answers_ok_to_the_push_token(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        return await client.get("/ping", headers=_auth())

    assert serve(scenario).json() == {"status": "ok"}


def test_metric_keys_lists_pushed_keys(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        await _push(client, [{"key": "b_metric", "value": 1}])
        await _push(client, [{"key": "a_metric", "value": 1}])
        return await client.get("/metrickeys", headers=_auth())

    assert serve(scenario).json() == [{"key": "a_metric"}, {"key": "b_metric"}]


def test_delete_metric_removes_its_points(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        await _push(client, [{"key": "companies", "value": 1}])
        await client.delete("/data/companies", headers=_auth())
        return mock

    assert "companies" not in serve(scenario).data_points


def test_call_log_records_accepted_and_rejected_calls(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        await _push(client, [{"key": "companies", "value": 1}])
        await client.post("/data", json=[{"key": "companies", "value": 1}])
        return mock

    calls = serve(scenario).calls
    assert [(call.endpoint, call.status) for call in calls] == [
        ("POST /data", 200),
        ("POST /data", 401),
    ]
    assert calls[0].request_bytes == len(b'[{"key":"companies","value":1}]')
    assert calls[1].t_s == pytest.approx(0.05)


def test_answer_takes_the_configured_latency(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        await _push(client, [{"key": "companies", "value": 1}])
        return mock.clock.now()

    assert serve(scenario, response_latency_s=0.25) == pytest.approx(0.25)


def test_unhandled_failure_gets_500(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        def fail() -> str:
            raise RuntimeError("push id generator failed")

        mock.new_push_id = fail  # type: ignore[method-assign]
        return await _push(client, [{"key": "companies", "value": 1}])

    answer = serve(scenario)
    assert answer.status_code == 500
    assert answer.json() == {
        "status": "Internal Server Error",
        "message": "An unhandled exception occurred while processing your request!",
    }
