"""The mock HubSpot CRM API: an aiohttp server on 127.0.0.1 over a company :class:`Store`.

Routes: list, get, update (PATCH), archive (DELETE), search, create, merge, and batch read,
create, update, upsert and archive of companies under ``/crm/v3/objects/companies`` (Bearer
token auth), and the webhooks management API under ``/webhooks/v3/{appId}`` (``hapikey``
auth). Every request waits the configured response latency on the loop's clock and is
recorded in :attr:`HubSpotMock.calls`. Requests other than webhook management count against
the rate limits. Unknown routes get HubSpot's HTML 404.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Literal, NamedTuple

import orjson
from aiohttp import web

from pytest_syncbench.clock import Clock
from pytest_syncbench.hubspot import companies_api, webhooks_api
from pytest_syncbench.hubspot.config import (
    COMPANIES_READ_SCOPE,
    COMPANIES_WRITE_SCOPE,
    HubSpotConfig,
)
from pytest_syncbench.hubspot.errors import (
    JSON,
    ApiError,
    CorrelationIds,
    expired,
    html_not_found,
    json_error,
    missing_scopes,
    service_unavailable,
    unauthorized,
)
from pytest_syncbench.hubspot.faults import FaultInjector, FaultRule, fault_response
from pytest_syncbench.hubspot.listing import CompanyListing
from pytest_syncbench.hubspot.ratelimit import RateLimiter
from pytest_syncbench.hubspot.search import SearchIndex
from pytest_syncbench.hubspot.store import Store
from pytest_syncbench.hubspot.webhooks import WebhookDispatcher
from pytest_syncbench.solution import HubSpotAccess

logger = logging.getLogger(__name__)

OutageMode = Literal["refused", "503"]
Latency = Literal["read", "write", "search"]
Limit = Literal["api", "search", "none"]
Handler = Callable[[web.Request, bytes], Awaitable[web.Response]]

COMPANIES = "/crm/v3/objects/companies"
WEBHOOKS = "/webhooks/v3/{app_id}"


class Call(NamedTuple):
    """One request served, as the harness counts API usage."""

    t_s: float  # arrival, in simulated seconds since the clock started
    endpoint: (
        str  # method and route template, for example "GET /crm/v3/objects/companies"
    )
    status: int
    request_bytes: int  # HTTP body sizes; headers are not counted
    response_bytes: int


class HubSpotMock:
    """One mock HubSpot account with one private app, serving ``store`` over HTTP."""

    def __init__(self, store: Store, clock: Clock, config: HubSpotConfig) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.correlation_ids = CorrelationIds(config.seed)
        self.limiter = RateLimiter(config, self.correlation_ids)
        self.search_index = SearchIndex(store, clock, config)
        self.listing = CompanyListing(store)
        self.webhooks = WebhookDispatcher(store, clock, config)
        self.calls: list[Call] = []
        self.outage: OutageMode | None = None
        # Rules consulted before auth on every routed request; see hubspot.faults.
        self.faults = FaultInjector()
        self._bearer = f"Bearer {config.access_token}"
        self._host = "127.0.0.1"
        self._port = 0
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._companies = companies_api.CompaniesApi(self)
        self._webhooks_api = webhooks_api.WebhooksApi(self.webhooks, config)

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving and the webhook dispatcher; return the base URL."""
        app = web.Application(client_max_size=16 * 1024 * 1024)
        self._add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, host, port)
        await self._site.start()
        self._host = host
        self._port = self._runner.addresses[0][1]
        await self.webhooks.start()
        logger.info("mock HubSpot listening on %s", self.base_url)
        return self.base_url

    async def stop(self) -> None:
        await self.webhooks.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._site = None
        self.search_index.close()
        self.listing.close()
        logger.info("mock HubSpot stopped")

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._port}"

    def access(self) -> HubSpotAccess:
        """Return the credentials and address a solution needs."""
        return HubSpotAccess(
            base_url=self.base_url,
            access_token=self.config.access_token,
            portal_id=self.config.portal_id,
            app_id=self.config.app_id,
            developer_api_key=self.config.developer_api_key,
            client_secret=self.config.client_secret,
            tier=str(self.config.tier),
        )

    async def set_outage(self, mode: OutageMode | None) -> None:
        """Start or end an outage.

        "refused" closes the listening socket and every open connection, so new connections
        fail with ECONNREFUSED until the outage ends and the same port listens again. "503"
        keeps serving but responds to every request with a 503 error.
        """
        if mode not in (None, "refused", "503"):
            raise ValueError(
                f"invalid outage mode {mode!r}: expected 'refused', '503' or None"
            )
        previous, self.outage = self.outage, mode
        if previous == mode:
            return
        logger.info("mock HubSpot outage: %s -> %s", previous, mode)
        if mode == "refused":
            await self._close_listener()
        elif previous == "refused":
            await self._reopen_listener()

    async def _close_listener(self) -> None:
        if self._site is not None:
            await self._site.stop()
            self._site = None
        if self._runner is not None and self._runner.server is not None:
            for connection in self._runner.server.connections:
                connection.force_close()
        # Transports close their sockets in a callback; let it run so that clients see the
        # connections closed before their next request.
        await asyncio.sleep(0)

    async def _reopen_listener(self) -> None:
        if self._runner is None:
            return
        self._site = web.TCPSite(self._runner, self._host, self._port)
        await self._site.start()

    # -- routing ------------------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        api = self._companies
        hooks = self._webhooks_api
        route = self._route
        app.router.add_get(COMPANIES, route("GET", COMPANIES, api.list, "read"))
        app.router.add_post(COMPANIES, route("POST", COMPANIES, api.create, "write"))
        search = f"{COMPANIES}/search"
        app.router.add_post(
            search, route("POST", search, api.search, "search", "search")
        )
        batch_read = f"{COMPANIES}/batch/read"
        app.router.add_post(
            batch_read, route("POST", batch_read, api.batch_read, "read")
        )
        batch_update = f"{COMPANIES}/batch/update"
        app.router.add_post(
            batch_update, route("POST", batch_update, api.batch_update, "write")
        )
        writes = api.writes
        for action, handler in (
            ("create", writes.batch_create),
            ("upsert", writes.batch_upsert),
            ("archive", writes.batch_archive),
        ):
            path = f"{COMPANIES}/batch/{action}"
            app.router.add_post(path, route("POST", path, handler, "write"))
        merge = f"{COMPANIES}/merge"
        app.router.add_post(merge, route("POST", merge, writes.merge, "write"))
        one = f"{COMPANIES}/{{company_id}}"
        app.router.add_get(one, route("GET", one, api.get, "read"))
        app.router.add_patch(one, route("PATCH", one, writes.update, "write"))
        app.router.add_delete(one, route("DELETE", one, writes.archive, "write"))

        settings = f"{WEBHOOKS}/settings"
        subscriptions = f"{WEBHOOKS}/subscriptions"
        subscription = f"{subscriptions}/{{subscription_id}}"
        table: list[tuple[str, str, Handler, Latency]] = [
            ("GET", settings, hooks.get_settings, "read"),
            ("PUT", settings, hooks.put_settings, "write"),
            ("DELETE", settings, hooks.delete_settings, "write"),
            ("GET", subscriptions, hooks.list_subscriptions, "read"),
            ("POST", subscriptions, hooks.create_subscription, "write"),
            ("GET", subscription, hooks.get_subscription, "read"),
            ("PATCH", subscription, hooks.update_subscription, "write"),
            ("DELETE", subscription, hooks.delete_subscription, "write"),
        ]
        for method, path, handler, latency in table:
            wrapped = self._route(
                method, path, handler, latency, "none", auth=hooks.authorize
            )
            app.router.add_route(method, path, wrapped)
        app.router.add_route("*", "/{tail:.*}", self._unknown_route)

    def _route(
        self,
        method: str,
        path: str,
        handler: Handler,
        latency: Latency,
        limit: Limit = "api",
        auth: Callable[[web.Request], bool] | None = None,
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        """Wrap a handler with outage, auth, rate limit, latency and the call record."""
        label = f"{method} {path.replace('{app_id}', '{appId}')}"
        authorize = auth or self._has_bearer

        async def serve(request: web.Request) -> web.Response:
            arrived = self.clock.now()
            body = await request.read()
            response = await self._respond(
                request, body, handler, latency, limit, authorize
            )
            self.calls.append(
                Call(
                    arrived,
                    label,
                    response.status,
                    len(body),
                    len(response.body or b""),
                )
            )
            return response

        return serve

    async def _respond(
        self,
        request: web.Request,
        body: bytes,
        handler: Handler,
        latency: Latency,
        limit: Limit,
        authorize: Callable[[web.Request], bool],
    ) -> web.Response:
        delay = self._latency(latency)
        if self.outage == "503":
            await _sleep(delay)
            return service_unavailable(self.correlation_ids.next())
        fault = self._fault_for(request)
        if fault is not None:
            # A timeout rule waits hold_s in place of the usual latency.
            await _sleep(fault.hold_s if fault.is_timeout else delay + fault.latency_s)
            return fault_response(
                fault,
                self.limiter,
                self.correlation_ids,
                self.clock.now_ms(),
                limit == "search",
            )
        denied = self._denial(request, authorize, latency)
        if denied is not None:
            await _sleep(delay)
            return denied
        headers: dict[str, str] = {}
        if limit != "none":
            now_ms = self.clock.now_ms()
            check = (
                self.limiter.check_search
                if limit == "search"
                else self.limiter.check_api
            )
            decision = check(now_ms)
            headers = decision.headers
            if decision.rejected_body is not None:
                await _sleep(delay)
                return web.Response(
                    status=429,
                    body=decision.rejected_body,
                    content_type=JSON,
                    headers=headers,
                )
        await _sleep(delay)
        try:
            response = await handler(request, body)
        except ApiError as error:
            response = json_error(error, self.correlation_ids.next())
        except orjson.JSONDecodeError as error:
            message = f"Invalid input JSON on line 1, column {error.colno}: {error.msg}"
            response = json_error(
                ApiError(400, "VALIDATION_ERROR", message), self.correlation_ids.next()
            )
        response.headers.update(headers)
        return response

    def _latency(self, kind: Latency) -> float:
        if kind == "search":
            return self.config.search_latency_s
        if kind == "write":
            return self.config.write_latency_s
        return self.config.read_latency_s

    def _has_bearer(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == self._bearer

    def _denial(
        self,
        request: web.Request,
        authorize: Callable[[web.Request], bool],
        latency: Latency,
    ) -> web.Response | None:
        """Return the 401 or 403 for a request its credentials do not allow, else None."""
        if authorize != self._has_bearer:
            if authorize(request):
                return None
            return unauthorized(self.correlation_ids.next())
        config = self.config
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""
        if token in config.expired_tokens:
            return expired(
                self.correlation_ids.next(), self.clock.epoch_ms, self.clock.now_ms()
            )
        if token != config.access_token:
            return unauthorized(self.correlation_ids.next())
        expires_s = config.access_token_expires_s
        if expires_s is not None and self.clock.now() >= expires_s:
            expired_ms = self.clock.epoch_ms + round(expires_s * 1000)
            return expired(self.correlation_ids.next(), expired_ms, self.clock.now_ms())
        if config.scopes is not None:
            # Search and batch read are reads, although they are POST requests.
            scope = (
                COMPANIES_WRITE_SCOPE if latency == "write" else COMPANIES_READ_SCOPE
            )
            if scope not in config.scopes:
                return missing_scopes(self.correlation_ids.next(), [scope])
        return None

    def _fault_for(self, request: web.Request) -> FaultRule | None:
        if not self.faults.rules:
            return None
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else request.path
        template = template.replace("{app_id}", "{appId}")
        labels = (
            f"{request.method} {template}",
            f"{request.method} {request.path}",
        )
        return self.faults.match(labels, round(self.clock.now() * 1000))

    async def _unknown_route(self, request: web.Request) -> web.Response:
        arrived = self.clock.now()
        body = await request.read()
        if self.outage == "503":
            response = service_unavailable(self.correlation_ids.next())
        else:
            response = html_not_found()
        label = f"{request.method} (unknown route)"
        self.calls.append(
            Call(arrived, label, response.status, len(body), len(response.body))
        )
        return response


async def _sleep(delay: float) -> None:
    if delay > 0:
        await asyncio.sleep(delay)
