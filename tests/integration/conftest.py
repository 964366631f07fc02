"""Real ``redis-server`` processes for the integration tests.

Each server is Debian's ``redis-server`` binary, started on a free port of 127.0.0.1 with
no persistence and a temporary working directory, and killed when its fixture ends.
Without the binary the tests skip, unless the environment variable CI is set, where they
fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

# Wall seconds redis-server may take to reply to its first PING.
START_TIMEOUT_S = 10.0
# The password of the ``password_redis_url`` server.
SERVER_PASSWORD = "syncbench-test-password"


@dataclass(slots=True)
class RedisServer:
    """A running redis-server process and the URL of its database 15."""

    url: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """Kill the server with SIGKILL and wait until it has exited."""
        self.process.kill()
        self.process.wait(timeout=10)


def _redis_server_or_skip() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        reason = "no redis-server binary on PATH (apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but the Redis tests cannot run: {reason}")
        pytest.skip(reason)
    return binary


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_ping(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0)
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if server.poll() is not None:
                pytest.fail(
                    f"redis-server exited with status {server.returncode}: "
                    f"{log.read_text(errors='replace')[-2000:]}"
                )
            try:
                if client.ping():
                    return
            except redis.exceptions.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"redis-server did not answer PING within {START_TIMEOUT_S} s"
                )
            time.sleep(0.05)
    finally:
        client.close()


@contextmanager
def _start_server(
    factory: pytest.TempPathFactory, password: str | None = None
) -> Iterator[RedisServer]:
    """Start redis-server on 127.0.0.1 and kill it when the context exits."""
    binary = _redis_server_or_skip()
    folder = factory.mktemp("redis-server")
    log = folder / "redis.log"
    port = _free_port()
    command = [
        binary,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(folder),
        "--logfile",
        str(log),
    ]
    credentials = ""
    if password is not None:
        command += ["--requirepass", password]
        credentials = f":{password}@"
    server = subprocess.Popen(command, cwd=folder)
    try:
        url = f"redis://{credentials}127.0.0.1:{port}/15"
        _wait_for_ping(url, server, log)
        yield RedisServer(url, server)
    finally:
        server.kill()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start redis-server on 127.0.0.1 and yield ``redis://127.0.0.1:PORT/15``."""
    with _start_server(tmp_path_factory) as server:
        yield server.url


@pytest.fixture(scope="module")
def password_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start redis-server with :data:`SERVER_PASSWORD` and yield its URL with the password.

    The URL is ``redis://:PASSWORD@127.0.0.1:PORT/15``.
    """
    with _start_server(tmp_path_factory, SERVER_PASSWORD) as server:
        yield server.url


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """Start a redis-server for one test, which may kill it."""
    with _start_server(tmp_path_factory) as server:
        yield server
