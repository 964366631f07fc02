import asyncio

import pytest
from aiohttp import web

from pytest_syncbench.databox.config import DataboxConfig
from pytest_syncbench.databox.server import DataboxMock
from solutions.common.databox_client import DataboxClient, DataboxError
from solutions.tests.support import (
    LOG,
    databox_access,
    refused_url,
    run,
    serve,
    started_clock,
)


def rows(count: int) -> list[dict]:
    return [
        {"id": str(i), "name": f"company {i}", "archived": "false"}
        for i in range(count)
    ]


async def with_mock(action):
    """Run ``action(client, mock, dataset)`` against a started mock Databox."""
    clock = started_clock()
    mock = DataboxMock(clock, DataboxConfig())
    await mock.start()
    dataset = mock.create_dataset("companies", ["id"])
    client = DataboxClient(mock.access(dataset.id), clock, LOG, seed="test")
    try:
        await action(client, mock, dataset)
    finally:
        await client.aclose()
        await mock.stop()
    return mock, dataset


def test_upsert_rows_chunks_by_100():
    mock, _ = run(lambda: with_mock(lambda client, *_: client.upsert_rows(rows(250))))
    assert [len(write.rows) for write in mock.writes] == [100, 100, 50]


def test_upserted_rows_are_stored_by_id():
    _, dataset = run(
        lambda: with_mock(lambda client, *_: client.upsert_rows(rows(250)))
    )
    assert dataset.row_count == 250
    assert dataset.rows[("7",)]["name"] == "company 7"


def test_upsert_of_no_rows_makes_no_call():
    mock, _ = run(lambda: with_mock(lambda client, *_: client.upsert_rows([])))
    assert mock.calls == []


def test_upsert_stays_under_ten_calls_per_second():
    mock, _ = run(lambda: with_mock(lambda client, *_: client.upsert_rows(rows(3_000))))
    arrivals = [call.t_s for call in mock.calls]
    assert len(arrivals) == 30
    assert all(b - a >= 1.0 for a, b in zip(arrivals, arrivals[10:], strict=False))
    assert all(call.status == 200 for call in mock.calls)


def test_push_sends_auth_and_accept():
    seen: list[web.Request] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request)
        return web.json_response({"status": "ok"})

    run(lambda: push_against(handle, [{"key": "k", "value": 1}]))
    assert seen[0].headers["Accept"] == "application/vnd.databox.v2+json"
    # base64 of "push:" (the token and an empty password)
    assert seen[0].headers["Authorization"] == "Basic cHVzaDo="


def test_push_retried_after_503():
    answers = [503, 503, 200]
    arrivals: list[float] = []

    async def handle(request: web.Request) -> web.Response:
        arrivals.append(asyncio.get_running_loop().time())
        return web.json_response({"status": "x"}, status=answers.pop(0))

    run(lambda: push_against(handle, [{"key": "k", "value": 1}]))
    assert len(arrivals) == 3
    assert 1.0 <= arrivals[1] - arrivals[0] <= 1.1


def test_push_that_timed_out_is_not_retried():
    arrivals: list[float] = []

    async def handle(request: web.Request) -> web.Response:
        arrivals.append(asyncio.get_running_loop().time())
        await asyncio.sleep(120)  # longer than the client's 30 s timeout
        return web.json_response({"status": "ok"})

    async def scenario():
        with pytest.raises(DataboxError, match="counts twice"):
            await push_against(handle, [{"key": "k", "value": 1}])

    run(scenario)
    assert len(arrivals) == 1


def test_row_upsert_that_timed_out_is_retried():
    arrivals: list[float] = []

    async def handle(request: web.Request) -> web.Response:
        arrivals.append(asyncio.get_running_loop().time())
        if len(arrivals) == 1:
            await asyncio.sleep(120)
        return web.json_response({"status": "ok", "ingestionId": "x"})

    async def scenario():
        runner, url = await serve([web.post("/v1/datasets/ds-1/data", handle)])
        client = DataboxClient(databox_access(url), started_clock(), LOG, seed="t")
        try:
            await client.upsert_rows(rows(1))
        finally:
            await client.aclose()
            await runner.cleanup()

    run(scenario)
    assert len(arrivals) == 2


def test_refused_connection_raises_after_max_attempts():
    async def scenario():
        client = DataboxClient(
            databox_access(refused_url()),
            started_clock(),
            LOG,
            seed="t",
            max_attempts=3,
        )
        try:
            with pytest.raises(DataboxError, match="after 3 attempts"):
                await client.push([{"key": "k", "value": 1}])
        finally:
            await client.aclose()
        return client

    client = run(scenario)
    assert client.calls["POST /data", "ConnectError"] == 3


def test_rejected_rows_raise_without_retry():
    async def action(client, mock, dataset):
        with pytest.raises(DataboxError, match="primary key"):
            await client.upsert_rows([{"name": "no id"}])

    mock, _ = run(lambda: with_mock(action))
    assert len(mock.calls) == 1


async def push_against(handle, items):
    runner, url = await serve([web.post("/data", handle)])
    client = DataboxClient(databox_access(url), started_clock(), LOG, seed="t")
    try:
        await client.push(items)
    finally:
        await client.aclose()
        await runner.cleanup()


def test_partially_accepted_push_logs_the_warning(caplog):
    items = [{"key": "good", "value": 1}, {"key": "bad key!", "value": 2}]
    with caplog.at_level("WARNING", logger=LOG.name):
        mock, _ = run(lambda: with_mock(lambda client, *_: client.push(items)))
    assert [point.key for write in mock.writes for point in write.items] == ["good"]
    assert "some items not inserted (OK: 1, FAILED: 1)" in caplog.text
