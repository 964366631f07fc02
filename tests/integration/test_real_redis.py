"""hybrid-cdc against a real redis-server: the same numbers as fakeredis, state kept there.

The fixtures of conftest.py start the servers, and the harness empties database 15 before
every case. The tests also check the URL option's errors and that a server killed during a
case fails the case.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from typing import Any, Protocol

import pytest
import redis
import redis.exceptions

from pytest_syncbench.generator import StreamSpec
from pytest_syncbench.harness import CaseSetup, run_case
from pytest_syncbench.loop import run_virtual
from pytest_syncbench.observe import CaseView
from pytest_syncbench.redis_backend import (
    OWNER_KEY,
    DatabaseNotOwnedError,
    RedisUrlError,
    open_case_client,
    parse_redis_url,
    validate_redis_url,
)
from pytest_syncbench.registry import discover
from pytest_syncbench.results import extra_info, without_machine_fields
from pytest_syncbench.scenarios import Fault, FaultKind, Scale, ScenarioSpec, scenario
from pytest_syncbench.solution import Solution, SolutionContext

SOLUTION = "hybrid-cdc"
STATE_PREFIX = "syncbench:hybrid-cdc:"

# A crash of the solution in the middle of an update stream. The restarted instance finds
# its watermark only if the first instance's state survived in Redis.
CRASH = ScenarioSpec(
    name="redis-crash",
    description="a short stream with a crash and restart of the solution",
    companies=500,
    streams=(StreamSpec(150, 1200.0, 300.0),),
    faults=(Fault(800.0, 200.0, FaultKind.SOLUTION_CRASH),),
    settle_s=1800.0,
)

SCENARIO_TEST = """
def test_realtime(syncbench_case):
    outcome = syncbench_case.run("realtime")
    assert outcome.status == "converged"
    assert outcome.data_loss == 0
"""


def _run(spec: ScenarioSpec, redis_url: str | None) -> dict[str, Any]:
    setup = CaseSetup(
        spec=spec, solution_cls=discover()[SOLUTION], seed=1, redis_url=redis_url
    )
    return extra_info(run_case(setup), "smoke", setup.tier)


def _measurements(info: dict[str, Any]) -> dict[str, Any]:
    return without_machine_fields(info)


def _client(url: str, db: int | None = None) -> redis.Redis:
    """Return a client of the URL's server, on database ``db`` instead if given."""
    kwargs = parse_redis_url(url).connection_kwargs()
    if db is not None:
        kwargs["db"] = db
    return redis.Redis(**kwargs)


def test_commands_take_no_simulated_time(redis_url: str) -> None:
    async def ping_while_timer_pending() -> float:
        client = await open_case_client(redis_url)
        loop = asyncio.get_running_loop()
        # The clock would jump 300 s to this timer if it moved during a round trip.
        timer = asyncio.create_task(asyncio.sleep(300.0))
        start = loop.time()
        for number in range(200):
            await client.set("ping", number)
            await client.get("ping")
        elapsed = loop.time() - start
        timer.cancel()
        await client.aclose()
        return elapsed

    assert run_virtual(ping_while_timer_pending) == 0.0


@pytest.mark.parametrize("name", ["bulk", "realtime", "burst", "outage", "scale"])
def test_scenario_same_as_fakeredis(redis_url: str, name: str) -> None:
    spec = scenario(name, Scale.SMOKE)

    real = _run(spec, redis_url)
    fake = _run(spec, None)

    assert real["status"] == "converged", real["error"]
    assert real["data_loss"] == 0
    assert real["consistency"]["ghost"] == 0
    assert real["api_calls"] == fake["api_calls"]
    assert real["latency_s"] == fake["latency_s"]
    assert real["simulated_s"] == fake["simulated_s"]
    assert _measurements(real) == _measurements(fake)
    assert "redis-wait" in real["cpu_by_actor_s"]


def test_crash_restart_resumes_from_server(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=f"syncbench.solution.{SOLUTION}"):
        real = _run(CRASH, redis_url)
    resumed = [r for r in caplog.records if "resumes from watermark" in r.getMessage()]

    assert real["status"] == "converged", real["error"]
    assert real["restarts"] == 1
    assert real["data_loss"] == 0
    assert real["consistency"]["ghost"] == 0
    assert len(resumed) == 1
    client = _client(redis_url)
    try:
        watermark = client.get(STATE_PREFIX + "watermark")
        row_hashes = client.hlen(STATE_PREFIX + "hashes")
        owner = client.get(OWNER_KEY)
    finally:
        client.close()
    assert watermark is not None
    assert row_hashes >= CRASH.companies
    assert owner is not None
    assert _measurements(real) == _measurements(_run(CRASH, None))


def test_foreign_database_is_rejected(redis_url: str) -> None:
    foreign_db = 14
    client = _client(redis_url, foreign_db)
    client.flushdb()
    client.set("customer:1", "keep me")
    try:
        url = parse_redis_url(redis_url).url(foreign_db)
        outcome = run_case(
            CaseSetup(
                spec=scenario("bulk", Scale.SMOKE),
                solution_cls=discover()[SOLUTION],
                seed=1,
                redis_url=url,
            )
        )
        customer_value = client.get("customer:1")
        keys = client.dbsize()
    finally:
        client.flushdb()
        client.close()

    assert outcome.status == "failed"
    assert outcome.error is not None
    assert "DatabaseNotOwnedError" in outcome.error
    assert url in outcome.error
    assert "database 14" in outcome.error
    assert "1 key(s)" in outcome.error
    assert parse_redis_url(redis_url).url(15) in outcome.error
    assert customer_value == b"keep me"
    assert keys == 1


def test_owned_database_is_emptied(redis_url: str) -> None:
    client = _client(redis_url)
    client.set(OWNER_KEY, "pytest-syncbench")
    client.set("left:over", "from an earlier case")
    client.close()

    outcome = run_case(
        CaseSetup(
            spec=scenario("bulk", Scale.SMOKE),
            solution_cls=discover()["direct-polling"],
            seed=1,
            redis_url=redis_url,
        )
    )
    client = _client(redis_url)
    try:
        left_over = client.exists("left:over")
        owner = client.get(OWNER_KEY)
    finally:
        client.close()

    assert outcome.status == "converged", outcome.error
    assert left_over == 0
    assert owner == b"pytest-syncbench"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:6379/15", "the scheme must be redis://"),
        ("redis:///15", "no host"),
        ("redis://127.0.0.1:99999/15", "the port must be a number from 1 to 65535"),
        ("redis://127.0.0.1:0/15", "the port must be a number from 1 to 65535"),
        ("redis://127.0.0.1:6379/cache", "is not a database number"),
        ("redis://127.0.0.1:6379/15/2", "is not a database number"),
        ("redis://127.0.0.1:6379/15?db=7", "a query string or fragment"),
        ("redis://127.0.0.1:6379/15?", "a query string or fragment"),
        ("redis://127.0.0.1:6379/15#7", "a query string or fragment"),
    ],
)
def test_invalid_url_is_rejected(url: str, message: str) -> None:
    with pytest.raises(RedisUrlError, match=re.escape(message)):
        parse_redis_url(url)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "http://user:s3cret-1@127.0.0.1:6379/15",
            "'http://user:***@127.0.0.1:6379/15'",
        ),
        ("redis://user:s3cret-1@127.0.0.1:0/15", "'redis://user:***@127.0.0.1:0/15'"),
        ("redis://:s3cret-1@127.0.0.1:6379/x", "'redis://:***@127.0.0.1:6379/x'"),
        (
            "redis://user:s3cret/1@127.0.0.1:6379/15",
            "'redis://user:***@127.0.0.1:6379/15'",
        ),
        (
            "redis://user:s3cret-1@127.0.0.1:6379/15?password=s3cret-2",
            "'redis://user:***@127.0.0.1:6379/15'",
        ),
        ("redis://user:s3cret#1@127.0.0.1:6379/15", "invalid Redis URL: a query"),
    ],
)
def test_password_is_masked(url: str, masked: str) -> None:
    with pytest.raises(RedisUrlError) as raised:
        parse_redis_url(url)
    message = str(raised.value)

    assert "s3cret" not in message
    assert masked in message


def test_unreachable_server_is_rejected() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        # Bound but not listening: a connection to the port is refused.
        with pytest.raises(RedisUrlError) as raised:
            validate_redis_url(f"redis://127.0.0.1:{port}", timeout_s=2.0)
    message = str(raised.value)

    assert (
        f"database 0 of the Redis server at redis://127.0.0.1:{port} failed" in message
    )
    assert "Start a Redis server there" in message
    assert f"redis-server --port {port} " in message


@pytest.mark.parametrize(
    ("server", "credentials", "db", "reply", "fix"),
    [
        (
            "password_redis_url",
            ":wrong-password@",
            15,
            "invalid username-password pair",
            "Correct the user name and password",
        ),
        (
            "password_redis_url",
            "nobody:wrong-password@",
            15,
            "invalid username-password pair",
            "Correct the user name and password",
        ),
        (
            "password_redis_url",
            "",
            15,
            # "Authentication required", or "... already authenticated" to HELLO.
            "authenticat",
            "The server requires a password: add it",
        ),
        ("redis_url", "", 16, "DB index is out of range", "has no database 16"),
    ],
)
def test_ping_failure_names_fix(
    request: pytest.FixtureRequest,
    server: str,
    credentials: str,
    db: int,
    reply: str,
    fix: str,
) -> None:
    port = parse_redis_url(request.getfixturevalue(server)).port
    url = f"redis://{credentials}127.0.0.1:{port}/{db}"
    masked = url.replace("wrong-password", "***")

    with pytest.raises(RedisUrlError) as raised:
        validate_redis_url(url, timeout_s=2.0)
    message = str(raised.value)

    assert f"database {db} of the Redis server at {masked} failed" in message
    assert reply.lower() in message.lower()
    assert fix in message
    assert "Start a Redis server" not in message
    assert "wrong-password" not in message


def test_acl_denial_names_fix(redis_url: str) -> None:
    port = parse_redis_url(redis_url).port
    admin = _client(redis_url)
    admin.acl_setuser("limited", enabled=True, passwords=["+limited-pw"])
    try:
        with pytest.raises(RedisUrlError) as raised:
            validate_redis_url(f"redis://limited:limited-pw@127.0.0.1:{port}/15")
    finally:
        admin.acl_deluser("limited")
        admin.close()
    message = str(raised.value)

    assert "no permissions" in message
    assert "denies the user 'limited' a command" in message
    assert "ACL SETUSER limited +@all ~*" in message
    assert "limited-pw" not in message


def test_password_url_connects(password_redis_url: str) -> None:
    async def round_trip() -> bytes | None:
        client = await open_case_client(password_redis_url)
        try:
            await client.set("greeting", "hello")
            return await client.get("greeting")
        finally:
            await client.aclose()

    target = validate_redis_url(password_redis_url)

    assert run_virtual(round_trip) == b"hello"
    assert target.url() == f"redis://:***@127.0.0.1:{target.port}/15"
    assert target.password is not None
    assert target.password not in repr(target)


def test_foreign_database_error_masks_password(password_redis_url: str) -> None:
    target = parse_redis_url(password_redis_url)
    assert target.password is not None
    foreign_url = password_redis_url.rsplit("/", 1)[0] + "/14"
    client = _client(password_redis_url, 14)
    client.flushdb()
    client.set("customer:1", "keep me")
    try:
        with pytest.raises(DatabaseNotOwnedError) as raised:
            run_virtual(lambda: open_case_client(foreign_url))
    finally:
        client.flushdb()
        client.close()
    message = str(raised.value)

    assert f"at redis://:***@127.0.0.1:{target.port}/14 contains 1 key(s)" in message
    assert f"for example redis://:***@127.0.0.1:{target.port}/15" in message
    assert target.password not in message


class KillableServer(Protocol):
    url: str

    def kill(self) -> None: ...


class _ServerKiller:
    """Kills the Redis server at the first watch tick at or after ``at_s`` simulated seconds."""

    def __init__(self, server: KillableServer, at_s: float) -> None:
        self.server = server
        self.at_s = at_s
        self.killed_at_s: float | None = None

    def case_started(self, view: CaseView) -> None:
        return None

    def tick(self, view: CaseView) -> None:
        if self.killed_at_s is None and view.clock.now() >= self.at_s:
            self.server.kill()
            self.killed_at_s = view.clock.now()

    def case_ended(self, view: CaseView) -> None:
        return None


def test_killed_server_fails_case(redis_server: KillableServer) -> None:
    # Halfway through the 20 simulated minutes of the smoke realtime stream.
    killer = _ServerKiller(redis_server, 600.0)
    setup = CaseSetup(
        spec=scenario("realtime", Scale.SMOKE),
        solution_cls=discover()[SOLUTION],
        seed=1,
        redis_url=redis_server.url,
        observers=(killer,),
    )

    outcome = run_case(setup)
    info = extra_info(outcome, "smoke", setup.tier)
    error = outcome.error or ""
    failed = re.search(r"(\d+) Redis command\(s\) failed on the connection", error)

    assert killer.killed_at_s is not None
    assert outcome.status == "failed"
    assert error.startswith(
        f"the Redis server at {redis_server.url} failed during the case"
    )
    assert failed is not None, error
    assert int(failed.group(1)) >= 1
    assert "the first with ConnectionError" in error
    assert "The results measure a broken Redis server, not the solution" in error
    assert info["status"] == "failed"
    assert info["error"] == error
    assert info["data_loss"] == outcome.data_loss


class _RaisingSolution(Solution):
    """Sends an unknown command in start(), then raises redis's ConnectionError itself."""

    name = "raises-redis-error"

    async def start(self, context: SolutionContext) -> None:
        try:
            await context.redis.execute_command("NO-SUCH-COMMAND")
        except redis.exceptions.ResponseError as exc:
            raise redis.exceptions.ConnectionError(
                "raised by the solution after an error reply"
            ) from exc

    async def stop(self) -> None:
        return None


@pytest.mark.parametrize("backend", ["fakeredis", "real"])
def test_solution_redis_error_is_its_own(
    request: pytest.FixtureRequest, backend: str
) -> None:
    url = request.getfixturevalue("redis_url") if backend == "real" else None
    outcome = run_case(
        CaseSetup(
            spec=scenario("bulk", Scale.SMOKE),
            solution_cls=_RaisingSolution,
            seed=1,
            redis_url=url,
        )
    )
    error = outcome.error or ""

    assert outcome.status == "failed"
    assert "ConnectionError: raised by the solution" in error
    assert "broken Redis server" not in error
    assert [e.where for e in outcome.solution_errors] == ["start"]


def test_option_rejects_bad_url(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SCENARIO_TEST)

    result = pytester.runpytest("--syncbench-redis-url=http://127.0.0.1:6379/15")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--syncbench-redis-url: invalid Redis URL*scheme must be redis://*"]
    )


def test_syncbench_run_on_real_redis(pytester: pytest.Pytester, redis_url: str) -> None:
    pytester.makepyfile(SCENARIO_TEST)
    client = _client(redis_url)
    client.flushdb()
    client.close()

    result = pytester.runpytest_subprocess(
        "--syncbench",
        "--syncbench-scale=smoke",
        "--syncbench-solutions=hybrid-cdc",
        f"--syncbench-redis-url={redis_url}",
        "-k",
        "test_realtime",
        "-p",
        "no:cacheprovider",
    )
    client = _client(redis_url)
    try:
        watermark = client.get(STATE_PREFIX + "watermark")
    finally:
        client.close()

    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)
    assert watermark is not None
