"""hybrid-cdc against a real redis-server: the same numbers as fakeredis, state kept there.

The ``redis_url`` fixture (conftest.py) starts the server; its database 15 is emptied by
the harness before every case.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import pytest
import redis

from pytest_syncbench.generator import StreamSpec
from pytest_syncbench.harness import CaseSetup, run_case
from pytest_syncbench.loop import run_virtual
from pytest_syncbench.redis_backend import (
    OWNER_KEY,
    RedisUrlError,
    open_case_client,
    parse_redis_url,
    validate_redis_url,
)
from pytest_syncbench.registry import discover
from pytest_syncbench.results import extra_info
from pytest_syncbench.scenarios import Fault, FaultKind, Scale, ScenarioSpec, scenario

# Real measurements of the process vary between runs; everything else must not.
MACHINE_FIELDS = {
    "cpu_s",
    "cpu_mock_s",
    "cpu_by_actor_s",
    "peak_rss_bytes",
    "rss_growth_bytes",
    "wall_s",
}
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
    return {k: v for k, v in info.items() if k not in MACHINE_FIELDS}


def _client(url: str, db: int | None = None) -> redis.Redis:
    return redis.Redis.from_url(url if db is None else parse_redis_url(url).url(db))


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
        ("redis://127.0.0.1:99999/15", "the port must be a number"),
        ("redis://127.0.0.1:6379/cache", "is not a database number"),
    ],
)
def test_invalid_url_is_rejected(url: str, message: str) -> None:
    with pytest.raises(RedisUrlError, match=message):
        parse_redis_url(url)


def test_password_is_not_shown() -> None:
    with pytest.raises(RedisUrlError) as raised:
        parse_redis_url("http://user:secret@127.0.0.1:6379/15")

    assert "secret" not in str(raised.value)


def test_unreachable_server_is_rejected() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        # Bound but not listening: a connection to the port is refused.
        with pytest.raises(RedisUrlError, match="Start a Redis server there"):
            validate_redis_url(f"redis://127.0.0.1:{port}/15", timeout_s=2.0)


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
