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

Failures: :class:`ClockHoldingConnection` counts the commands that failed on the
connection itself (refused, reset or closed connections, timeouts) in the case's
:class:`ConnectionFailures`. The harness fails a case with any such failure, since its
results then measure the server, not the solution.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

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
DEFAULT_PORT = 6379
URL_FORM = "redis://HOST:PORT/DB"
# An empty path, "/", or "/" and a database number in ASCII digits.
_DB_PATH = re.compile(r"(?:/([0-9]+)?)?", re.ASCII)
# Errors of the connection to the server, as opposed to error replies to a command.
# redis-py raises AuthenticationError, BusyLoadingError and MaxClientsReachedError as
# subclasses of its ConnectionError.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,
)


class RedisUrlError(ValueError):
    """An invalid ``--syncbench-redis-url``, or a server that cannot be reached there."""


class DatabaseNotOwnedError(RuntimeError):
    """The Redis database contains keys the benchmark did not write."""


@dataclass(frozen=True, slots=True)
class RedisTarget:
    """The server, database and credentials of a ``redis://`` URL."""

    host: str
    port: int
    db: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def url(self, db: int | None = None) -> str:
        """Return the URL with ``db`` in place of the database and the password as ``***``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = quote(self.username or "", safe="")
        if self.password is not None:
            credentials = f"{user}:***@"
        else:
            credentials = f"{user}@" if user else ""
        return (
            f"redis://{credentials}{host}:{self.port}/{self.db if db is None else db}"
        )

    def connection_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments of a redis-py connection pool for this target."""
        return {
            "host": self.host,
            "port": self.port,
            "db": self.db,
            "username": self.username,
            "password": self.password,
        }


def parse_redis_url(url: str) -> RedisTarget:
    """Parse ``redis://[USER:PASSWORD@]HOST[:PORT][/DB]``, or raise RedisUrlError if invalid.

    The port defaults to 6379 and the database to 0. A path that is not a database
    number is rejected, where redis-py would fall back to database 0. A query string or
    fragment is rejected, since redis-py would take options such as ``?db=7`` from it.
    """
    masked_url = _redact(url)
    if "?" in url or "#" in url:
        head, tail = re.split(r"[?#]", url, maxsplit=1)
        # The query may contain a password (?password=...), so it is not quoted. An "@"
        # after the "?" or "#" means that they are part of a password that was not
        # percent-encoded, and then no part of the URL is quoted.
        quoted = "" if "@" in tail else f" {_redact(head)!r}"
        raise RedisUrlError(
            f"invalid Redis URL{quoted}: a query string or fragment (from ? or #) is "
            "not supported, so options such as ?db=7 cannot be given. Give the database "
            f"as the path, as in {URL_FORM}, and percent-encode ? and # in a password "
            "as %3F and %23"
        )
    parts = urlsplit(url)
    if parts.scheme.lower() != "redis":
        raise RedisUrlError(
            f"invalid Redis URL {masked_url!r}: the scheme must be redis://, as in "
            f"{URL_FORM} (for example redis://127.0.0.1:6379/15)"
        )
    if not parts.hostname:
        raise RedisUrlError(
            f"invalid Redis URL {masked_url!r}: no host; expected {URL_FORM}"
        )
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port is None:
        port = DEFAULT_PORT
    if not 1 <= port <= 65535:
        raise RedisUrlError(
            f"invalid Redis URL {masked_url!r}: the port must be a number from 1 to "
            f"65535; expected {URL_FORM}"
        )
    path = _DB_PATH.fullmatch(parts.path)
    if path is None:
        raise RedisUrlError(
            f"invalid Redis URL {masked_url!r}: the path {parts.path!r} is not a "
            f"database number; expected {URL_FORM}"
        )
    return RedisTarget(
        host=parts.hostname,
        port=port,
        db=int(path.group(1) or 0),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def validate_redis_url(url: str, timeout_s: float = CHECK_TIMEOUT_S) -> RedisTarget:
    """Parse ``url`` and check that its server replies to PING on its database.

    Raises RedisUrlError naming the URL and the fix when the URL is invalid or the server
    cannot be reached, rejects the credentials, or has no such database.
    """
    target = parse_redis_url(url)
    pool = redis.ConnectionPool(
        socket_connect_timeout=timeout_s,
        socket_timeout=timeout_s,
        **target.connection_kwargs(),
    )
    client = redis.Redis.from_pool(pool)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        reason = str(exc).rstrip(".")
        raise RedisUrlError(
            f"PING to database {target.db} of the Redis server at {_redact(url)} "
            f"failed: {reason}. {_ping_fix(exc, target)}"
        ) from None
    finally:
        client.close()
    return target


def _ping_fix(exc: redis.exceptions.RedisError, target: RedisTarget) -> str:
    """Return what to do about the error ``exc`` of a PING to ``target``."""
    message = str(exc)
    if "DB index is out of range" in message or "invalid DB index" in message:
        return (
            f"The server has no database {target.db}: its `databases` setting, 16 by "
            "default, allows the numbers 0 to databases - 1. Choose a lower database "
            "number in --syncbench-redis-url, or raise `databases` in the server's "
            "configuration"
        )
    if isinstance(exc, redis.exceptions.AuthenticationError) and not target.password:
        # The server's NOAUTH reply: "Authentication required", or "HELLO must be
        # called with the client already authenticated" to the HELLO that redis-py 8.2
        # sends on connect.
        return (
            "The server requires a password: add it to --syncbench-redis-url, as in "
            "redis://:PASSWORD@HOST:PORT/DB, or redis://USER:PASSWORD@HOST:PORT/DB for "
            "an ACL user"
        )
    if isinstance(exc, redis.exceptions.AuthenticationError):
        return (
            "Correct the user name and password in --syncbench-redis-url "
            "(redis://USER:PASSWORD@HOST:PORT/DB, or redis://:PASSWORD@HOST:PORT/DB for "
            "the default user), and percent-encode the characters / ? # % in them"
        )
    if isinstance(exc, redis.exceptions.NoPermissionError):
        user = target.username or "default"
        return (
            f"The server's ACL denies the user {user!r} a command. The harness and the "
            "solutions need every command on every key of the database: grant them "
            f"with `ACL SETUSER {user} +@all ~*`, or give --syncbench-redis-url "
            "another user"
        )
    return (
        "Start a Redis server there (for example `redis-server --port "
        f"{target.port} --save ''`), or correct --syncbench-redis-url"
    )


class ConnectionFailures:
    """The commands of one case that failed on its connection to the real Redis server.

    A pipeline counts once. A command that redis-py retries counts once per attempt,
    although the clients made here do not retry.
    """

    def __init__(self) -> None:
        self.count = 0
        # The type and first line of the first failure, as "ConnectionError: ...".
        self.first: str | None = None

    def record(self, exc: BaseException) -> None:
        self.count += 1
        if self.first is None:
            lines = str(exc).splitlines()
            name = type(exc).__name__
            self.first = f"{name}: {lines[0].rstrip('.')}" if lines else name

    def case_error(self, url: str) -> str:
        """Return the error of a case whose connection to ``url`` failed."""
        return (
            f"the Redis server at {_redact(url)} failed during the case: "
            f"{self.count} Redis command(s) failed on the connection, the first with "
            f"{self.first}. The results measure a broken Redis server, not the "
            "solution: keep the server running and reachable for the whole run, and "
            "run the case again"
        )


async def open_case_client(
    url: str, failures: ConnectionFailures | None = None
) -> redis.asyncio.Redis:
    """Connect to ``url`` for one case and empty its database, if the benchmark owns it.

    Connection failures of the client, including those while the database is emptied,
    are counted in ``failures``. Raises DatabaseNotOwnedError, without deleting
    anything, when the database contains keys but not :data:`OWNER_KEY`.
    """
    target = parse_redis_url(url)
    pool = redis.asyncio.ConnectionPool(
        connection_class=ClockHoldingConnection,
        failures=failures,
        **target.connection_kwargs(),
    )
    client: redis.asyncio.Redis = redis.asyncio.Redis.from_pool(pool)
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
    """A Redis TCP connection that keeps looptime's clock still while a command runs.

    It also counts the connects, sends and reads that fail with one of
    :data:`CONNECTION_ERRORS` in ``failures``, once per failed command.
    """

    def __init__(
        self, *, failures: ConnectionFailures | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._failures = failures
        # Nesting of the methods below: send_packed_command() connects through
        # connect() in some redis-py versions, and a failure counts only at depth 1.
        self._io_depth = 0

    async def connect(self) -> None:
        with self._command_io():
            await super().connect()

    async def send_packed_command(self, *args: Any, **kwargs: Any) -> None:
        with self._command_io():
            await super().send_packed_command(*args, **kwargs)

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        # NOTE: a blocking command (BLPOP, XREAD BLOCK, a pub/sub read) holds the clock
        # for as long as the server waits, and so does a server that stops replying.
        # redis-py's socket timeouts run on the loop's clock and never fire then, but the
        # harness's stall watchdog fails the case after STALL_LIMIT_S wall seconds and
        # names the "redis-wait" actor. No built-in solution sends a blocking command.
        with self._command_io():
            return await super().read_response(*args, **kwargs)

    @contextlib.contextmanager
    def _command_io(self) -> Iterator[None]:
        """Hold the clock and count a connection failure of the enclosed step."""
        self._io_depth += 1
        try:
            with _ClockHold.on_running_loop():
                yield
        except CONNECTION_ERRORS as exc:
            if self._io_depth == 1 and self._failures is not None:
                self._failures.record(exc)
            raise
        finally:
            self._io_depth -= 1


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
    """Return ``url`` with any password replaced by ``***``.

    The credentials end at the last "@", so a password that contains "/", "?" or "#"
    without percent-encoding is masked too.
    """
    scheme, slashes, rest = url.partition("//")
    if not slashes or "@" not in rest:
        return url
    credentials, _, address = rest.rpartition("@")
    user, colon, _ = credentials.partition(":")
    if not colon:
        return url
    return f"{scheme}//{user}:***@{address}"


__all__ = [
    "CONNECTION_ERRORS",
    "OWNER_KEY",
    "ClockHoldingConnection",
    "ConnectionFailures",
    "DatabaseNotOwnedError",
    "RedisTarget",
    "RedisUrlError",
    "open_case_client",
    "parse_redis_url",
    "validate_redis_url",
]
