"""Contract tests: the unmodified official ``databox`` SDK against the mock Databox.

The SDK (``databox`` 2.2.2) is synchronous, so the mock runs on a real-time loop in a
thread with no simulated latency. Every request goes to 127.0.0.1 through
``Configuration(host=...)``, never to the SDK's default host.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from databox import ApiException, PushData, PushDataAttribute
from databox_threaded import ThreadedMock, threaded_mock

from pytest_syncbench.clock import DEFAULT_EPOCH_MS, parse_iso_ms


def _points(threaded: ThreadedMock, key: str) -> list[Any]:
    return threaded.call(lambda: list(threaded.mock.data_points.get(key, [])))


def _body(exc: ApiException) -> dict[str, Any]:
    assert exc.body is not None
    body: dict[str, Any] = json.loads(exc.body)
    return body


def test_data_post_stores_the_data_points() -> None:
    items = [
        PushData(key="companies", value=120, date="2026-01-05T09:00:00Z", unit="count"),
        PushData(
            key="companies",
            value=30.5,
            date="2026-01-05T09:00:00Z",
            attributes=[PushDataAttribute(key="industry", value="software")],
        ),
    ]
    with threaded_mock() as threaded:
        response = threaded.sdk().data_post_with_http_info(push_data=items)
        points = _points(threaded, "companies")

    assert response.status_code == 200
    assert json.loads(response.raw_data)["status"] == "ok"
    assert [point.value for point in points] == [120, 30.5]
    assert points[0].date_ms == parse_iso_ms("2026-01-05T09:00:00Z")
    assert points[0].unit == "count"
    assert points[0].attributes == {}
    assert points[1].attributes == {"industry": "software"}


def test_data_post_without_date_uses_arrival() -> None:
    with threaded_mock() as threaded:
        threaded.sdk().data_post(push_data=[PushData(key="deals", value=1)])
        points = _points(threaded, "deals")

    assert len(points) == 1
    assert points[0].date_ms >= DEFAULT_EPOCH_MS


def test_repeated_data_post_doubles_day_sum() -> None:
    item = PushData(key="companies", value=40, date="2026-01-05T09:00:00Z")
    day = parse_iso_ms("2026-01-05T00:00:00Z")
    with threaded_mock() as threaded:
        api = threaded.sdk()
        api.data_post(push_data=[item])
        once = threaded.call(threaded.mock.daily_values, "companies")
        api.data_post(push_data=[item])
        twice = threaded.call(threaded.mock.daily_values, "companies")

    assert once == {day: 40}
    assert twice == {day: 80}


def test_wrong_token_raises_401() -> None:
    with threaded_mock() as threaded:
        with pytest.raises(ApiException) as raised:
            threaded.sdk(username="wrong-token").data_post(
                push_data=[PushData(key="companies", value=1)]
            )
        points = _points(threaded, "companies")

    assert raised.value.status == 401
    assert _body(raised.value) == {"status": "Unauthorized", "message": "Invalid token"}
    assert points == []


def test_none_password_raises_401() -> None:
    with threaded_mock() as threaded:
        with pytest.raises(ApiException) as raised:
            threaded.sdk(password=None).data_post(
                push_data=[PushData(key="companies", value=1)]
            )
        points = _points(threaded, "companies")

    assert raised.value.status == 401
    assert _body(raised.value)["message"] == "Unauthorized - Token not provided!"
    assert points == []


def test_push_over_the_rate_limit_raises_429() -> None:
    # At 0.01 requests per second the limiter admits one request per 100 s, so the
    # second push is over the limit however slowly this machine sends it.
    item = [PushData(key="companies", value=1)]
    with threaded_mock(push_rate_per_s=0.01) as threaded:
        api = threaded.sdk()
        api.data_post(push_data=item)
        with pytest.raises(ApiException) as raised:
            api.data_post(push_data=item)
        points = _points(threaded, "companies")

    assert raised.value.status == 429
    assert _body(raised.value)["status"] == "Too Many Requests"
    assert len(points) == 1


def test_oversized_payload_raises_413() -> None:
    items = [PushData(key="companies", value=i, unit="x" * 50) for i in range(40)]
    with threaded_mock(payload_limit_bytes=1_024) as threaded:
        with pytest.raises(ApiException) as raised:
            threaded.sdk().data_post(push_data=items)
        points = _points(threaded, "companies")

    assert raised.value.status == 413
    body = _body(raised.value)
    assert body["status"] == "REQUEST_ENTITY_TOO_LARGE"
    assert body["id"] is None
    assert points == []


def test_partial_failure_returns_200_warning() -> None:
    items = [PushData(key="companies", value=1), PushData(key="bad key", value=1)]
    with threaded_mock() as threaded:
        response = threaded.sdk().data_post_with_http_info(push_data=items)
        points = _points(threaded, "companies")

    assert response.status_code == 200
    status = json.loads(response.raw_data)["status"]
    assert status == "Warning: some items not inserted (OK: 1, FAILED: 1)"
    assert len(points) == 1


def test_ping_answers_ok() -> None:
    with threaded_mock() as threaded:
        response = threaded.sdk().ping_get_with_http_info()

    assert response.status_code == 200
    assert json.loads(response.raw_data) == {"status": "ok"}


def test_ping_with_wrong_token_raises_401() -> None:
    with threaded_mock() as threaded:
        with pytest.raises(ApiException) as raised:
            threaded.sdk(username="wrong-token").ping_get()

    assert raised.value.status == 401


def test_metric_keys_post_then_get() -> None:
    with threaded_mock() as threaded:
        api = threaded.sdk()
        api.metrickeys_post(body={"key": "new_metric"})
        api.data_post(push_data=[PushData(key="pushed_metric", value=1)])
        listed = api.metrickeys_get_with_http_info()

    assert listed.status_code == 200
    assert json.loads(listed.raw_data) == [
        {"key": "new_metric"},
        {"key": "pushed_metric"},
    ]


def test_invalid_metric_key_post_raises_400() -> None:
    with threaded_mock() as threaded:
        with pytest.raises(ApiException) as raised:
            threaded.sdk().metrickeys_post(body={"key": "not valid"})

    assert raised.value.status == 400


def test_delete_metric_key_removes_one_metric() -> None:
    with threaded_mock() as threaded:
        api = threaded.sdk()
        api.data_post(
            push_data=[PushData(key="kept", value=1), PushData(key="gone", value=2)]
        )
        api.data_metric_key_delete(metric_key="gone")
        kept_points = _points(threaded, "kept")
        deleted_points = _points(threaded, "gone")

    assert len(kept_points) == 1
    assert deleted_points == []


def test_delete_data_removes_every_metric() -> None:
    with threaded_mock() as threaded:
        api = threaded.sdk()
        api.data_post(
            push_data=[PushData(key="a", value=1), PushData(key="b", value=2)]
        )
        api.data_delete()
        remaining = threaded.call(lambda: dict(threaded.mock.data_points))

    assert remaining == {}
