"""A real Redis server as ``context.redis``, in place of the in-process fakeredis.

Clock: a reply of a real ``redis-server`` arrives from another process, possibly after
looptime has polled the sockets :data:`~pytest_syncbench.loop.NOOP_CYCLES` times and moved
the simulated clock to its next timer. :class:`ClockHoldingConnection` prevents that: while
one of its commands is being connected, sent or awaited, a callback that reschedules itself
with ``call_soon`` keeps the loop's ready queue non-empty. asyncio then polls the selector
with timeout 0, and looptime moves the clock only when nothing is ready, so the clock does
not move until the reply is read. A Redis command costs zero simulated time, as with
fakeredis. The loop spins for the round trip, and that CPU time is charged to the
:data:`WAIT_ACTOR` actor.

Ownership: :func:`open_case_client` empties the URL's database before each case, but only
a database that is empty or contains :data:`OWNER_KEY`, which it writes after emptying.
Any other database raises :class:`DatabaseNotOwnedError`, so a user's data is never deleted.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import looptime
import redis
import redis.asyncio
import redis.exceptions

from pytest_syncbench.loop import ACTOR

# Written into the database after the harness emptied it; a database holding it may be
# emptied again by the next case.
OWNER_KEY = "syncbench:owner"
OWNER_VALUE = "pytest-syncbench"
# Actor charged with the CPU time the loop spins while a Redis reply is awaited.
WAIT_ACTOR = "redis-wait"
# Wall seconds the configure-time check waits for the server to connect and reply to PING.
CHECK_TIMEOUT_S = 5.0
# The database number suggested to a user whose database contains foreign keys.
SPARE_DB = 15
URL_FORM = "redis://HOST:PORT/DB"


class RedisUrlError(ValueError):
    """An invalid ``--syncbench-redis-url``, or a server that cannot be reached there."""


class DatabaseNotOwnedError(RuntimeError):
    """The Redis database contains keys the benchmark did not write."""


@dataclass(frozen=True, slots=True)
class RedisTarget:
    """The host, port and database number of a ``redis://`` URL."""

    host: str
    port: int
    db: int

    def url(self, db: int | None = None) -> str:
        """Return the URL without credentials, with ``db`` in place of the database."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"redis://{host}:{self.port}/{self.db if db is None else db}"


def parse_redis_url(url: str) -> RedisTarget:
    """Parse ``redis://[USER:PASSWORD@]HOST[:PORT][/DB]``, or raise RedisUrlError if invalid.

    The port defaults to 6379 and the database to 0. A path that is not a database
    number is rejected, where redis-py would fall back to database 0.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != "redis":
        raise RedisUrlError(
            f"invalid Redis URL {_redact(url)!r}: the scheme must be redis://, as in "
            f"{URL_FORM} (for example redis://127.0.0.1:6379/15)"
        )
    if not parts.hostname:
        raise RedisUrlError(
            f"invalid Redis URL {_redact(url)!r}: no host; expected {URL_FORM}"
        )
    try:
        port = parts.port or 6379
    except ValueError:
        raise RedisUrlError(
            f"invalid Redis URL {_redact(url)!r}: the port must be a number from 1 to "
            f"65535; expected {URL_FORM}"
        ) from None
    path = parts.path.strip("/")
    if path and not path.isdigit():
        raise RedisUrlError(
            f"invalid Redis URL {_redact(url)!r}: the path {parts.path!r} is not a "
            f"database number; expected {URL_FORM}"
        )
    return RedisTarget(parts.hostname, port, int(path) if path else 0)


def validate_redis_url(url: str, timeout_s: float = CHECK_TIMEOUT_S) -> RedisTarget:
    """Parse ``url`` and check that its server replies to PING on its database.

    Raises RedisUrlError naming the URL and the fix when the URL is invalid or the server
    cannot be reached, rejects the credentials, or has no such database.
    """
    target = parse_redis_url(url)
    client = redis.Redis.from_url(
        url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s
    )
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        raise RedisUrlError(
            f"PING to the Redis server at {target.url()} failed: "
            f"{str(exc).rstrip('.')}. Start a Redis server "
            f"there (for example `redis-server --port {target.port} --save ''`), or "
            "correct --syncbench-redis-url"
        ) from None
    finally:
        client.close()
    return target


async def open_case_client(url: str) -> redis.asyncio.Redis:
    """Connect to ``url`` for one case and empty its database, if the benchmark owns it.

    Raises DatabaseNotOwnedError, without deleting anything, when the database contains
    keys but not :data:`OWNER_KEY`.
    """
    target = parse_redis_url(url)
    client: redis.asyncio.Redis = redis.asyncio.Redis.from_url(
        url, connection_class=ClockHoldingConnection
    )
    try:
        await claim_database(client, target)
    except BaseException:
        await client.aclose()
        raise
    return client


async def claim_database(client: redis.asyncio.Redis, target: RedisTarget) -> None:
    """Empty the client's database and mark it as the benchmark's own.

    Raises DatabaseNotOwnedError when the database contains keys but no :data:`OWNER_KEY`.
    """
    keys = int(await client.dbsize())
    if keys and not await client.exists(OWNER_KEY):
        spare = SPARE_DB if target.db != SPARE_DB else SPARE_DB - 1
        raise DatabaseNotOwnedError(
            f"Redis database {target.db} at {target.url()} contains {keys} key(s) and no "
            f"{OWNER_KEY!r} key, so it was not written by pytest-syncbench, which empties "
            "its database before each case. Point --syncbench-redis-url at an unused "
            f"database number, for example {target.url(spare)}"
        )
    await client.flushdb()
    await client.set(OWNER_KEY, OWNER_VALUE)


class ClockHoldingConnection(redis.asyncio.Connection):
    """A Redis TCP connection that keeps looptime's clock still while a command runs."""

    async def connect(self) -> None:
        with _ClockHold.on_running_loop():
            await super().connect()

    async def send_packed_command(self, *args: Any, **kwargs: Any) -> None:
        with _ClockHold.on_running_loop():
            await super().send_packed_command(*args, **kwargs)

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        # NOTE: a blocking command (BLPOP, XREAD BLOCK, a pub/sub read) holds the clock
        # for as long as the server waits, and so does a server that stops replying.
        # redis-py's socket timeouts run on the loop's clock and never fire then, but the
        # harness's stall watchdog fails the case after STALL_LIMIT_S wall seconds and
        # names the "redis-wait" actor. No built-in solution sends a blocking command.
        with _ClockHold.on_running_loop():
            return await super().read_response(*args, **kwargs)


class _ClockHold:
    """Counts the Redis commands in flight on one loop and keeps a callback ready meanwhile.

    This relies on looptime (0.9, pinned below 1) moving its clock only inside a selector
    poll that asyncio makes with a timeout other than 0. asyncio's ``_run_once`` polls with
    timeout 0 whenever a callback is ready, and looptime's select then returns without
    moving the clock.
    """

    _by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _ClockHold] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # A weak reference, so that the map's value does not keep its key, the loop and
        # everything the loop's callbacks reach, alive after the case.
        self._loop = weakref.ref(loop)
        self._holders = 0
        self._scheduled = False
        self._context = contextvars.copy_context()
        self._context.run(ACTOR.set, WAIT_ACTOR)

    @classmethod
    def on_running_loop(cls) -> _ClockHold | _NoHold:
        """Return the hold of the running loop, or a no-op on a loop without looptime."""
        loop = asyncio.get_running_loop()
        if not isinstance(loop, looptime.LoopTimeEventLoop) or not loop.looptime_on:
            return _NO_HOLD
        hold = cls._by_loop.get(loop)
        if hold is None:
            hold = cls._by_loop[loop] = cls(loop)
        return hold

    def __enter__(self) -> None:
        self._holders += 1
        if not self._scheduled:
            self._schedule()

    def __exit__(self, *exc_info: object) -> None:
        self._holders -= 1

    def _schedule(self) -> None:
        loop = self._loop()
        if loop is None or loop.is_closed():
            return
        self._scheduled = True
        loop.call_soon(self._tick, context=self._context)

    def _tick(self) -> None:
        self._scheduled = False
        if self._holders > 0:
            self._schedule()


class _NoHold:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


_NO_HOLD = _NoHold()


def _redact(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


__all__ = [
    "OWNER_KEY",
    "ClockHoldingConnection",
    "DatabaseNotOwnedError",
    "RedisTarget",
    "RedisUrlError",
    "open_case_client",
    "parse_redis_url",
    "validate_redis_url",
]
