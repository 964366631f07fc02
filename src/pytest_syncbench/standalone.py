"""The ``syncbench mock`` command: run the mock HubSpot or Databox as a standalone server.

The mocks are the ones the scenarios use, served on an ordinary real-time event loop so
that any HTTP client (curl, the official HubSpot client, a solution under development) can
talk to them. Simulated response latencies are therefore real sleeps here. Everything is
held in memory and lost on stop.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import ipaddress
import logging
import math
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from pytest_syncbench.clock import Clock
from pytest_syncbench.databox.config import DataboxConfig
from pytest_syncbench.databox.server import DataboxMock
from pytest_syncbench.generator import generate_companies
from pytest_syncbench.hubspot.config import HubSpotConfig, Tier
from pytest_syncbench.hubspot.server import HubSpotMock
from pytest_syncbench.hubspot.store import Store

logger = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"
DEFAULT_HOST = "127.0.0.1"
HUBSPOT_PORT = 8080
DATABOX_PORT = 8081
DEFAULT_COMPANIES = 10_000
EXIT_OK = 0
# The exit status argparse uses for bad command-line values.
EXIT_USAGE = 2
DATASET_NAME = "companies"
DATASET_PRIMARY_KEY = "id"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class UsageError(Exception):
    """A command-line value the server cannot run with. The message names it and the fix."""


class MockServer(Protocol):
    async def start(self, host: str = DEFAULT_HOST, port: int = 0) -> str: ...

    async def stop(self) -> None: ...


# -- command line ------------------------------------------------------------------------


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``mock`` command and its ``hubspot`` and ``databox`` subcommands."""
    parser = commands.add_parser(
        "mock",
        help="run a mock HubSpot or Databox as a standalone HTTP server",
        description=(
            "Run one of the benchmark's mocks as a standalone HTTP server until Ctrl-C "
            "or SIGTERM. State is kept in memory only and lost on stop."
        ),
    )
    services = parser.add_subparsers(dest="service", required=True, metavar="SERVICE")
    _add_hubspot_parser(services)
    _add_databox_parser(services)


def _add_hubspot_parser(
    services: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    parser = services.add_parser(
        "hubspot",
        help="the CRM companies API and the webhooks API",
        description=(
            "Serve the mock HubSpot CRM companies API and webhooks API over generated "
            "companies. Prints the base URL and the credentials to use on stdout and "
            "logs every request on stderr."
        ),
    )
    _add_listen_options(parser, HUBSPOT_PORT)
    parser.add_argument(
        "--companies",
        type=int,
        default=DEFAULT_COMPANIES,
        help="number of companies to generate before serving (default: %(default)s)",
    )
    tiers = ", ".join(tier.value for tier in Tier)
    parser.add_argument(
        "--tier",
        default=Tier.PROFESSIONAL.value,
        help=f"rate-limit tier of the account: {tiers} (default: %(default)s)",
    )
    parser.add_argument(
        "--index-lag-s",
        type=float,
        default=HubSpotConfig.index_lag_s,
        help="seconds until a write shows in search results (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=1,
        help="seed of the generated companies and of response ids (default: %(default)s)",
    )
    parser.add_argument(
        "--no-latency",
        action="store_true",
        help=(
            "respond at once. By default each response waits the simulated server time "
            f"(read {HubSpotConfig.read_latency_s} s, write "
            f"{HubSpotConfig.write_latency_s} s, search "
            f"{HubSpotConfig.search_latency_s} s), slept for real on this real-time "
            "event loop"
        ),
    )
    parser.set_defaults(run=run_hubspot)


def _add_databox_parser(
    services: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    parser = services.add_parser(
        "databox",
        help="the push API and the ingestion API",
        description=(
            "Serve the mock Databox push API and ingestion API with one dataset keyed by "
            f'"{DATASET_PRIMARY_KEY}". Prints the base URL, the credentials and the '
            "dataset id on stdout and logs every request on stderr."
        ),
    )
    _add_listen_options(parser, DATABOX_PORT)
    parser.add_argument(
        "--seed",
        type=int,
        default=1,
        help="seed of the dataset, push and ingestion ids (default: %(default)s)",
    )
    parser.add_argument(
        "--no-latency",
        action="store_true",
        help=(
            "respond at once. By default each response waits the simulated server time "
            f"({DataboxConfig.response_latency_s} s), slept for real on this real-time "
            "event loop"
        ),
    )
    parser.set_defaults(run=run_databox)


def _add_listen_options(parser: argparse.ArgumentParser, default_port: int) -> None:
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="address to listen on (default: %(default)s, reachable from this machine only)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=default_port,
        help="TCP port to listen on, 0 for a free one (default: %(default)s)",
    )


# -- checks of the values ----------------------------------------------------------------


def check_port(port: int) -> int:
    if not 0 <= port <= 65_535:
        raise UsageError(
            f"invalid --port {port}: use 1 to 65535, or 0 to pick a free port"
        )
    return port


def check_companies(count: int) -> int:
    if count < 0:
        raise UsageError(f"invalid --companies {count}: use 0 or more")
    return count


def parse_tier(value: str) -> Tier:
    try:
        return Tier(value.lower())
    except ValueError:
        tiers = ", ".join(tier.value for tier in Tier)
        raise UsageError(f"unknown --tier {value!r}: use one of {tiers}") from None


def check_index_lag(seconds: float) -> float:
    if not math.isfinite(seconds) or seconds < 0:
        raise UsageError(f"invalid --index-lag-s {seconds}: use 0 or more seconds")
    return seconds


def hubspot_config(args: argparse.Namespace) -> HubSpotConfig:
    """Build the account settings from the parsed options, raising UsageError on invalid ones."""
    config = HubSpotConfig(
        tier=parse_tier(args.tier),
        index_lag_s=check_index_lag(args.index_lag_s),
        seed=args.seed,
    )
    if args.no_latency:
        config.read_latency_s = 0.0
        config.write_latency_s = 0.0
        config.search_latency_s = 0.0
    return config


def databox_config(args: argparse.Namespace) -> DataboxConfig:
    config = DataboxConfig(seed=args.seed)
    if args.no_latency:
        config.response_latency_s = 0.0
    return config


# -- request log ---------------------------------------------------------------------------


def log_request(request: web.Request, status: int, started: float) -> None:
    """Log one served request at INFO: method, path and query, status, time taken."""
    url = request.rel_url
    # The webhooks API takes the developer API key in the query string, which the log omits.
    if "hapikey" in url.query:
        url = url.update_query(hapikey="REDACTED")
    elapsed_ms = (time.perf_counter() - started) * 1000
    logger.info("%s %s %d %.1f ms", request.method, url, status, elapsed_ms)


# NOTE: the two subclasses below override private methods of the mocks, because neither
# mock offers a way to add a middleware. The request log tests fail if those change.
class LoggedHubSpotMock(HubSpotMock):
    """The mock HubSpot with a request log in place of the in-memory call record."""

    def _add_routes(self, app: web.Application) -> None:
        app.middlewares.append(self._log_requests)
        super()._add_routes(app)

    # Without the marker, aiohttp calls a middleware in the old (app, handler) style.
    @web.middleware
    async def _log_requests(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
        except web.HTTPException as error:
            status = error.status
            raise
        finally:
            log_request(request, status, started)
            # Nothing reads the call record here and it would grow for as long as the
            # server runs.
            self.calls.clear()
        return response


class LoggedDataboxMock(DataboxMock):
    """The mock Databox with a request log in place of the in-memory call record."""

    async def _middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        started = time.perf_counter()
        response = await super()._middleware(request, handler)
        log_request(request, response.status, started)
        # Nothing reads the call record here and it would grow for as long as the server runs.
        self.calls.clear()
        return response


# -- running -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListenAddress:
    """Host and TCP port to listen on, where port 0 picks a free one."""

    host: str
    port: int


def run_hubspot(args: argparse.Namespace) -> int:
    """Run the mock HubSpot until SIGINT or SIGTERM and return the exit status."""
    try:
        listen = ListenAddress(args.host, check_port(args.port))
        count = check_companies(args.companies)
        config = hubspot_config(args)
    except UsageError as error:
        return report_usage_error(args.service, error)
    configure_logging()
    clock = Clock(epoch_ms=wall_clock_ms())
    store = Store(clock)
    mock = LoggedHubSpotMock(store, clock, config)

    def banner(url: str) -> list[str]:
        return hubspot_banner(url, config, count, args.seed)

    main = serve("HubSpot", mock, clock, listen, banner)
    # Seeding runs before the event loop starts, where Ctrl-C interrupts it at once.
    return run_until_stopped(
        args.service, "HubSpot", lambda: seed_store(store, count, args.seed), main
    )


def run_databox(args: argparse.Namespace) -> int:
    """Run the mock Databox until SIGINT or SIGTERM and return the exit status."""
    try:
        listen = ListenAddress(args.host, check_port(args.port))
        config = databox_config(args)
    except UsageError as error:
        return report_usage_error(args.service, error)
    configure_logging()
    clock = Clock(epoch_ms=wall_clock_ms())
    mock = LoggedDataboxMock(clock, config)
    dataset = mock.create_dataset(DATASET_NAME, [DATASET_PRIMARY_KEY])

    def banner(url: str) -> list[str]:
        return databox_banner(url, config, dataset.id)

    main = serve("Databox", mock, clock, listen, banner)
    return run_until_stopped(args.service, "Databox", None, main)


def seed_store(store: Store, count: int, seed: int) -> None:
    """Fill ``store`` with ``count`` generated companies, all modified before now."""
    started = time.perf_counter()
    store.seed(generate_companies(count, seed, store.clock.epoch_ms))
    elapsed = time.perf_counter() - started
    logger.info("generated %d companies with seed %d in %.2f s", count, seed, elapsed)


def run_until_stopped(
    service: str,
    name: str,
    prepare: Callable[[], None] | None,
    main: Coroutine[Any, Any, None],
) -> int:
    """Run ``prepare``, then ``main`` on a new event loop, and return the exit status."""
    try:
        if prepare is not None:
            prepare()
        asyncio.run(main)
    except UsageError as error:
        return report_usage_error(service, error)
    except KeyboardInterrupt:
        # Reached when Ctrl-C comes before the signal handlers are in place.
        print(f"mock {name} stopped", flush=True)
    finally:
        # Closes the coroutine when prepare() raised before asyncio.run could take it.
        main.close()
    return EXIT_OK


async def serve(
    name: str,
    mock: MockServer,
    clock: Clock,
    listen: ListenAddress,
    banner: Callable[[str], list[str]],
) -> None:
    """Start ``mock``, print ``banner``, wait for SIGINT or SIGTERM, then stop it."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    handled = add_stop_handlers(loop, stopping.set)
    # Calendar time starts at the wall clock, so that timestamps and webhook signatures
    # match what clients expect of a live service.
    clock.epoch_ms = wall_clock_ms()
    clock.start()
    try:
        url = await mock.start(listen.host, listen.port)
    except OSError as error:
        await mock.stop()
        raise UsageError(listen_error(listen, error)) from error
    try:
        warn_if_exposed(listen.host)
        print("\n".join(banner(display_url(listen.host, url))), flush=True)
        await stopping.wait()
    finally:
        # A second Ctrl-C now interrupts a slow shutdown instead of being ignored.
        for signum in handled:
            loop.remove_signal_handler(signum)
        logger.info("stopping mock %s", name)
        await mock.stop()
    print(f"mock {name} stopped", flush=True)


def add_stop_handlers(
    loop: asyncio.AbstractEventLoop, stop: Callable[[], None]
) -> list[signal.Signals]:
    """Register ``stop`` for SIGINT and SIGTERM and return the signals it now handles."""
    handled: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop)
        except NotImplementedError:
            # NOTE: Windows event loops have no signal handlers and this path is untested.
            # Ctrl-C then reaches asyncio.run as KeyboardInterrupt, which still stops the
            # mock, but SIGTERM ends the process without the stop line.
            break
        handled.append(signum)
    return handled


def listen_error(listen: ListenAddress, error: OSError) -> str:
    """Describe a failure to listen, with the option that fixes it."""
    where = f"{listen.host}:{listen.port}"
    if error.errno == errno.EADDRINUSE:
        return (
            f"failed to listen on {where} because the port is already in use. "
            "Stop the program that uses it, or pick another --port (0 picks a free one)"
        )
    if error.errno == errno.EACCES:
        return (
            f"failed to listen on {where}: permission denied. "
            "Use a --port above 1023, or 0 to pick a free one"
        )
    reason = error.strerror or str(error)
    if isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
        return (
            f"failed to listen on {where}: {reason}. "
            f"Use a --host address of this machine, such as {DEFAULT_HOST}"
        )
    return f"failed to listen on {where}: {reason}. Check --host and --port"


def warn_if_exposed(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        logger.warning(
            "listening on %s, which other machines may reach: the mock's credentials "
            "are fixed and printed below, so anyone who reaches it can use it",
            host,
        )


def display_url(host: str, base_url: str) -> str:
    """Return the base URL with an IPv6 host in brackets, as URLs require."""
    port = base_url.rsplit(":", 1)[1]
    if ":" in host:
        return f"http://[{host}]:{port}"
    return f"http://{host}:{port}"


def report_usage_error(service: str, error: UsageError) -> int:
    print(f"syncbench mock {service}: error: {error}", file=sys.stderr, flush=True)
    return EXIT_USAGE


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


# -- what the server prints ------------------------------------------------------------------


def hubspot_banner(
    url: str, config: HubSpotConfig, companies: int, seed: int
) -> list[str]:
    limits = config.limits
    daily = "no daily limit" if limits.daily is None else f"{limits.daily} per day"
    token = config.access_token
    return [
        f"mock HubSpot listening on {url}",
        f"  companies:         {companies} (seed {seed})",
        f"  tier:              {config.tier} "
        f"({limits.burst_per_10s} requests per 10 s, {daily})",
        f"  access token:      {token}  (header Authorization: Bearer TOKEN)",
        f"  developer API key: {config.developer_api_key}  "
        f"(query parameter hapikey of /webhooks/v3/{config.app_id})",
        f"  client secret:     {config.client_secret}  (key of webhook signatures)",
        f"  portal id:         {config.portal_id}",
        f"  app id:            {config.app_id}",
        f"  latency:           read {config.read_latency_s} s, "
        f"write {config.write_latency_s} s, search {config.search_latency_s} s",
        f"  search index lag:  {config.index_lag_s} s",
        "try:",
        f'  curl -H "Authorization: Bearer {token}" '
        f'"{url}/crm/v3/objects/companies?limit=2"',
        f'  HubSpot(access_token="{token}", host="{url}")',
        "press Ctrl-C to stop",
    ]


def databox_banner(url: str, config: DataboxConfig, dataset_id: str) -> list[str]:
    push = '[{"key": "companies", "value": 1}]'
    records = '{"records": [{"id": "1", "name": "Acme"}]}'
    return [
        f"mock Databox listening on {url}",
        f"  push token:        {config.push_token}  "
        "(Basic auth user name, empty password)",
        f"  ingestion API key: {config.api_key}  (header x-api-key)",
        f'  dataset id:        {dataset_id}  (primary key "{DATASET_PRIMARY_KEY}")',
        f"  latency:           {config.response_latency_s} s",
        "try:",
        f"  curl -u {config.push_token}: -H 'Content-Type: application/json' "
        f"-d '{push}' {url}/data",
        f"  curl -H 'x-api-key: {config.api_key}' -H 'Content-Type: application/json' "
        f"-d '{records}' {url}/v1/datasets/{dataset_id}/data",
        "press Ctrl-C to stop",
    ]
