"""The interface every sync solution implements, built-in or a user's own.

A solution is started once per scenario run with a :class:`SolutionContext` that tells it
where the mock HubSpot and mock Databox listen and which credentials to use. It then runs
its own background tasks on the scenario's event loop until :meth:`Solution.stop` is awaited.
It must talk to the mocks only over HTTP, read time only from ``context.clock`` and sleep
only with ``asyncio.sleep`` (the loop's clock is virtual), and keep any durable state in
``context.redis``.

``context.tracer`` records OpenTelemetry spans when the run has
``--syncbench-otlp-endpoint`` and does nothing otherwise: ``with
context.tracer.cycle("nightly copy"):`` starts a trace for one unit of work, and
``with context.tracer.span("databox write", **{"syncbench.rows": n}):`` adds a child to
the current one. Span times follow ``context.clock``. See :mod:`pytest_syncbench.tracing`.

A minimal solution::

    class NightlyCopy(Solution):
        name = "nightly-copy"
        delivers = Delivery.RECORDS

        async def start(self, context):
            self._task = asyncio.create_task(self._run(context))

        async def stop(self):
            self._task.cancel()
"""

from __future__ import annotations

import abc
import enum
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_syncbench.tracing import NULL_TRACER, SyncTracer

if TYPE_CHECKING:
    import redis.asyncio

    from pytest_syncbench.clock import Clock


class Delivery(enum.Enum):
    """What a solution writes to Databox, which decides how its latency is measured."""

    # Full company rows into a dataset, upserted by the primary key "id". A deleted company
    # is written as a row whose "archived" field is "true".
    RECORDS = "records"
    # Aggregated metrics through the push API, each item dated with the time of the source
    # reading it was computed from.
    AGGREGATES = "aggregates"


@dataclass(slots=True)
class HubSpotAccess:
    """Address and credentials of the mock HubSpot account."""

    base_url: str  # for example "http://127.0.0.1:41234", no trailing slash
    access_token: str  # private app token, sent as "Authorization: Bearer <token>"
    portal_id: int
    app_id: int
    developer_api_key: str  # "hapikey" query parameter of the webhooks management API
    client_secret: str  # key of the v1 and v3 webhook signatures
    tier: str  # rate-limit tier name, for example "professional"


@dataclass(slots=True)
class DataboxAccess:
    """Address and credentials of the mock Databox account."""

    base_url: str
    push_token: str  # push API user name for HTTP Basic auth, with an empty password
    api_key: str  # ingestion API key, sent as "x-api-key"
    dataset_id: str  # dataset created for the run with primary key "id"


@dataclass(slots=True)
class SolutionContext:
    hubspot: HubSpotAccess
    databox: DataboxAccess
    clock: Clock
    redis: redis.asyncio.Redis
    # Company properties to copy, in the order they should be requested.
    properties: tuple[str, ...]
    logger: logging.Logger
    # Scenario-specific overrides of the solution's own settings, by field name.
    settings: dict[str, Any] = field(default_factory=dict)
    # Spans of the solution's work; the default records nothing.
    tracer: SyncTracer = NULL_TRACER


class Solution(abc.ABC):
    """A HubSpot-to-Databox sync under test."""

    name: ClassVar[str]
    delivers: ClassVar[Delivery] = Delivery.RECORDS

    @abc.abstractmethod
    async def start(self, context: SolutionContext) -> None:
        """Begin syncing; return once background work is scheduled."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop all background work and release connections and servers."""

    async def crash(self) -> None:
        """Stop at once, as a killed process would, without writing pending work.

        A crash fault calls this, then later starts a fresh instance of the class with the
        same context: state kept in ``context.redis`` survives and state kept in memory is
        lost. The default calls :meth:`stop`, the mildest crash, since a graceful stop may
        still write what is pending. Override it to cancel work without flushing.
        """
        await self.stop()

    def backlog(self) -> int:
        """Return how many known changes wait to be written; 0 when not tracked."""
        return 0
