"""Outage modes of the mock Databox: 503 responses and refused connections."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pytest_syncbench.databox.server import DataboxMock

Serve = Callable[..., Any]  # the conftest fixture
KEY = {"x-api-key": "ingest-key-0001"}


async def _ingest(client: httpx.AsyncClient, dataset_id: str) -> httpx.Response:
    return await client.post(
        f"/v1/datasets/{dataset_id}/data", json={"records": [{"id": "1"}]}, headers=KEY
    )


def test_503_mode_answers_503_and_stores_nothing(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        await mock.set_outage("503")
        answer = await _ingest(client, dataset.id)
        return answer, mock

    answer, mock = serve(scenario)
    assert answer.status_code == 503
    assert mock.writes == []
    assert mock.calls[0].status == 503


def test_503_mode_ends_when_cleared(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        await mock.set_outage("503")
        await mock.set_outage(None)
        return await _ingest(client, dataset.id)

    assert serve(scenario).status_code == 200


def test_refused_mode_refuses_new_connections(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        await mock.set_outage("refused")
        async with httpx.AsyncClient(base_url=mock.base_url) as fresh:
            try:
                await _ingest(fresh, dataset.id)
            except httpx.ConnectError:
                return "refused"
        return "answered"

    assert serve(scenario) == "refused"


def test_refused_mode_drops_open_connections(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        await _ingest(client, dataset.id)  # leaves a keep-alive connection open
        await mock.set_outage("refused")
        try:
            await _ingest(client, dataset.id)
        except httpx.TransportError:
            return "dropped"
        return "answered"

    assert serve(scenario) == "dropped"


def test_refused_mode_reopens_on_the_same_port(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        before = mock.base_url
        await mock.set_outage("refused")
        await mock.set_outage(None)
        async with httpx.AsyncClient(base_url=before) as fresh:
            answer = await _ingest(fresh, dataset.id)
        return answer, before, mock.base_url

    answer, before, after = serve(scenario)
    assert answer.status_code == 200
    assert after == before


def test_write_in_flight_when_connections_drop_has_landed(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        dataset = mock.create_dataset("hubspot_companies", ["id"])
        request = asyncio.create_task(_ingest(client, dataset.id))
        # The server responds after response_latency_s, so cut it off halfway.
        await asyncio.sleep(mock.config.response_latency_s / 2)
        await mock.set_outage("refused")
        try:
            await request
        except httpx.TransportError:
            outcome = "client saw an error"
        else:
            outcome = "client got an answer"
        return outcome, mock

    outcome, mock = serve(scenario)
    assert outcome == "client saw an error"
    assert len(mock.writes) == 1


def test_unknown_unavailability_mode_is_rejected(serve: Serve) -> None:
    async def scenario(mock: DataboxMock, client: httpx.AsyncClient) -> Any:
        with pytest.raises(ValueError, match="mode='down'"):
            await mock.set_outage("down")  # type: ignore[arg-type]

    serve(scenario)
