"""The mock Databox: push API and ingestion API on a real aiohttp server.

Every request passes one middleware that stamps its arrival time from the
:class:`Clock`, enforces the outage mode and the payload limit, sleeps the simulated
server time and adds a line to :attr:`DataboxMock.calls`. Handlers apply accepted writes
at arrival, before that sleep, except that ingested rows wait for
``DataboxConfig.ingest_processing_s`` when it is above 0. A client that loses the
connection while waiting for the response has still written, so a retry writes twice,
as against the real service.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from aiohttp import web

from pytest_syncbench.clock import Clock
from pytest_syncbench.databox import aggregate
from pytest_syncbench.databox.arrival import ARRIVAL_MS, ARRIVAL_S
from pytest_syncbench.databox.config import DataboxConfig
from pytest_syncbench.databox.ingest_api import IngestApi
from pytest_syncbench.databox.push_api import PushApi
from pytest_syncbench.databox.ratelimit import RollingWindowLimiter
from pytest_syncbench.databox.records import (
    Call,
    DataPoint,
    Dataset,
    Ingestion,
    Row,
    Write,
)
from pytest_syncbench.databox.responses import (
    ingest_error,
    push_error,
    push_too_large,
)
from pytest_syncbench.solution import DataboxAccess

logger = logging.getLogger(__name__)

OutageMode = Literal["refused", "503", "429"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_INGEST_PREFIX = "/v1/"
# The push API's text for an unhandled failure, from developers.databox.com/responses-errors.
_INTERNAL_ERROR = "An unhandled exception occurred while processing your request!"


class DataboxMock:
    """One Databox account: its datasets, its pushed metrics and a log of every call."""

    def __init__(self, clock: Clock, config: DataboxConfig) -> None:
        self.clock = clock
        self.config = config
        self.datasets: dict[str, Dataset] = {}
        # Accepted writes in arrival order; rejected ones never appear.
        self.writes: list[Write] = []
        # Push data points per metric key; repeated pushes add points, never replace.
        self.data_points: dict[str, list[DataPoint]] = {}
        self.ingestions: dict[str, Ingestion] = {}
        # Every request with its response status, accepted or not, in response order.
        self.calls: list[Call] = []
        self.push_limiter = RollingWindowLimiter(config.push_rate_per_s)
        self.ingest_limiter = RollingWindowLimiter(config.ingest_rate_per_s)
        self._rng = random.Random(config.seed)
        # Request ids come from a generator of their own, so that issuing them leaves
        # the dataset, push and ingestion ids of a seed unchanged.
        self._request_rng = random.Random(f"request-id:{config.seed}")
        self._outage: OutageMode | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._host = "127.0.0.1"
        self._port = 0

    # -- harness-facing API ----------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._runner is None:
            raise RuntimeError("DataboxMock.start() has not been awaited")
        return f"http://{self._host}:{self._port}"

    @property
    def outage(self) -> OutageMode | None:
        return self._outage

    def create_dataset(self, name: str, primary_keys: list[str]) -> Dataset:
        """Create a dataset directly, without an HTTP call, and return it."""
        dataset = Dataset(
            id=self.new_uuid(),
            name=name,
            primary_keys=list(primary_keys),
            upsert=self.config.upsert,
        )
        self.datasets[dataset.id] = dataset
        logger.info(
            "dataset %s (%s) created, primary keys %s", dataset.id, name, primary_keys
        )
        return dataset

    def accept_ingestion(
        self,
        dataset: Dataset,
        rows: list[Row],
        arrival_s: float,
        arrival_ms: int,
        request_bytes: int,
    ) -> Ingestion:
        """Register an accepted ingestion and apply its rows after the processing time.

        With ``ingest_processing_s`` at 0 the rows are applied before the response is
        sent. Otherwise a timer on the loop applies them, and the ingestion reports
        ``processing`` until then.
        """
        ingestion = Ingestion(
            ingestion_id=self.new_uuid(),
            dataset_id=dataset.id,
            arrival_ms=arrival_ms,
            record_count=len(rows),
        )
        self.ingestions[ingestion.ingestion_id] = ingestion
        write = Write(
            arrival_s=arrival_s,
            arrival_ms=arrival_ms,
            kind="ingest",
            dataset_id=dataset.id,
            request_bytes=request_bytes,
            write_id=ingestion.ingestion_id,
            rows=rows,
        )
        delay = self.config.ingest_processing_s
        if delay == 0:
            self._complete_ingestion(dataset, ingestion, write)
        else:
            asyncio.get_running_loop().call_later(
                delay, self._complete_ingestion, dataset, ingestion, write
            )
        return ingestion

    def _complete_ingestion(
        self, dataset: Dataset, ingestion: Ingestion, write: Write
    ) -> None:
        ingestion.overwritten = dataset.apply(write.rows)
        ingestion.appended = ingestion.record_count - ingestion.overwritten
        ingestion.status = "completed"
        write.visible_s = self.clock.now()
        self.writes.append(write)

    # -- read-side view of pushed metrics --------------------------------------

    def aggregation_of(self, key: str) -> aggregate.Aggregation:
        """Return how the metric ``key`` is aggregated per day: "sum" or "latest"."""
        return "latest" if key in self.config.latest_value_metrics else "sum"

    def daily_values(
        self, key: str, attributes: Mapping[str, str] | None = None
    ) -> dict[int, float | int]:
        """Return the metric's value per UTC day, as a Databox day view shows it.

        Keys are the day's start in epoch ms. See :mod:`pytest_syncbench.databox.aggregate`
        for how ``attributes`` selects points.
        """
        points = self.data_points.get(key, [])
        return aggregate.daily_values(points, self.aggregation_of(key), attributes)

    def values_by_date(
        self, key: str, attributes: Mapping[str, str] | None = None
    ) -> dict[int, float | int]:
        """Return the sum of the metric's points per exact date, keyed by epoch ms."""
        return aggregate.values_by_date(self.data_points.get(key, []), attributes)

    def repeated_points(self, key: str | None = None) -> int:
        """Count points that repeat the date and attributes of an earlier point.

        ``key`` None counts over every metric.
        """
        keys = list(self.data_points) if key is None else [key]
        return sum(
            aggregate.repeated_points(self.data_points.get(name, [])) for name in keys
        )

    def access(self, dataset_id: str) -> DataboxAccess:
        """Return what a solution needs to reach this account and ``dataset_id``."""
        if dataset_id not in self.datasets:
            raise KeyError(f"dataset_id={dataset_id!r}: no such dataset")
        return DataboxAccess(
            base_url=self.base_url,
            push_token=self.config.push_token,
            api_key=self.config.api_key,
            dataset_id=dataset_id,
        )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 picks a free port) and return the base URL."""
        if self._runner is not None:
            raise RuntimeError("DataboxMock is already started")

        @web.middleware
        async def middleware(
            request: web.Request, handler: Handler
        ) -> web.StreamResponse:
            return await self._middleware(request, handler)

        # aiohttp's own body limit is set well above the mock's so that the mock, not
        # aiohttp, rejects oversize bodies, with a response in Databox's shape.
        app = web.Application(
            client_max_size=2 * self.config.payload_limit_bytes + 1,
            middlewares=[middleware],
        )
        PushApi(self).add_routes(app)
        IngestApi(self).add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self._host, self._port = host, port
        if self._outage != "refused":
            await self._open_listener()
        logger.info("mock Databox listening on %s", self.base_url)
        return self.base_url

    async def stop(self) -> None:
        """Close the listener and every connection; state stays readable."""
        if self._runner is None:
            return
        await self._runner.cleanup()
        self._runner = None
        self._site = None
        logger.info("mock Databox stopped")

    async def set_outage(self, mode: OutageMode | None) -> None:
        """Start or end an outage.

        ``"refused"`` closes the listening socket and drops open connections, so new
        connections are refused. ``"503"`` keeps listening but responds to every request
        with 503 and stores nothing. ``"429"`` answers every request with the API's 429
        "Too many requests" rejection, as a rate limit storm would, and stores nothing.
        ``None`` ends any of them, reopening the same port after ``"refused"``.
        """
        if mode not in ("refused", "503", "429", None):
            raise ValueError(f"mode={mode!r}: must be 'refused', '503', '429' or None")
        previous, self._outage = self._outage, mode
        if previous == mode or self._runner is None:
            return
        logger.info("outage %s -> %s", previous, mode)
        if mode == "refused":
            await self._close_listener()
        elif previous == "refused":
            await self._open_listener()

    # -- ids -------------------------------------------------------------------

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def new_push_id(self) -> str:
        return f"{self._rng.getrandbits(128):032x}"

    def new_request_id(self) -> str:
        return str(uuid.UUID(int=self._request_rng.getrandbits(128), version=4))

    # -- server internals ------------------------------------------------------

    async def _open_listener(self) -> None:
        assert self._runner is not None
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self._site = site
        self._port = site.port

    async def _close_listener(self) -> None:
        assert self._runner is not None
        if self._site is not None:
            await self._site.stop()
            self._site = None
        server = self._runner.server
        if server is not None:
            for connection in server.connections:
                connection.force_close()

    async def _middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        resource = request.match_info.route.resource
        endpoint = (
            f"{request.method} {resource.canonical if resource else '(unrouted)'}"
        )
        limit = self.config.payload_limit_bytes
        request_bytes = request.content_length or 0
        body: bytes | None = None
        # A declared oversize body is refused unread, like a front proxy would.
        if self._outage != "503" and request_bytes <= limit:
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                body = None
            else:
                request_bytes = len(body)

        # Stamped once the whole body is in, so that the write log, appended during
        # dispatch without a further await, stays in arrival order.
        arrival_s = self.clock.now()
        request[ARRIVAL_S] = arrival_s
        request[ARRIVAL_MS] = self.clock.epoch_ms + round(arrival_s * 1000)
        response: web.StreamResponse
        if self._outage == "503":
            response = self._error(
                request, 503, "service_unavailable", "Service Unavailable"
            )
        elif body is None or len(body) > limit:
            response = self._too_large(request)
        elif self._outage == "429":
            response = self._too_many_requests(request)
        else:
            response = await self._dispatch(request, handler)

        if response.status >= 400:
            logger.debug(
                "%s at %.3fs rejected with %d", endpoint, arrival_s, response.status
            )
        if self.config.response_latency_s > 0:
            await asyncio.sleep(self.config.response_latency_s)
        self.calls.append(
            Call(
                arrival_s,
                endpoint,
                response.status,
                request_bytes,
                response.content_length or 0,
            )
        )
        return response

    async def _dispatch(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            code = exc.reason.lower().replace(" ", "_")
            return self._error(request, exc.status, code, exc.reason)
        except Exception:
            logger.exception(
                "mock Databox failed on %s %s", request.method, request.path
            )
            message = (
                "Internal Server Error"
                if request.path.startswith(_INGEST_PREFIX)
                else _INTERNAL_ERROR
            )
            return self._error(request, 500, "internal_error", message)

    def _error(
        self, request: web.Request, status: int, code: str, message: str
    ) -> web.Response:
        """Build an error response in the shape of the API that the path belongs to."""
        if request.path.startswith(_INGEST_PREFIX):
            error_type = "server" if status >= 500 else "request"
            return ingest_error(
                self.new_request_id(), status, code, message, error_type
            )
        return push_error(status, message)

    def _too_many_requests(self, request: web.Request) -> web.Response:
        """Build the rejection each API sends when its rate limit is exceeded."""
        if request.path.startswith(_INGEST_PREFIX):
            return ingest_error(
                self.new_request_id(),
                429,
                "too_many_requests",
                "Too many requests",
                "rate_limit",
            )
        rate = self.config.push_rate_per_s
        return push_error(429, f"Too many requests. {rate:g}/sec is allowed")

    def _too_large(self, request: web.Request) -> web.Response:
        if request.path.startswith(_INGEST_PREFIX):
            return self._error(
                request, 413, "REQUEST_ENTITY_TOO_LARGE", "REQUEST_ENTITY_TOO_LARGE"
            )
        return push_too_large(self.config.payload_limit_bytes)
