"""The ``syncbench mock`` command, run as a real process and reached over HTTP."""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from hubspot import HubSpot
from hubspot.crm.companies import (
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectId,
)

# Generous, because a loaded CI machine may take seconds to import and seed.
STARTUP_TIMEOUT_S = 60.0
EXIT_TIMEOUT_S = 30.0
LAST_BANNER_LINE = "press Ctrl-C to stop"
COMPANIES = 300


@dataclass
class MockProcess:
    """One ``syncbench mock`` process, with its stdout read line by line on a thread."""

    process: subprocess.Popen[str]
    stderr_path: Path
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    reader: threading.Thread | None = None
    url: str = ""
    banner: dict[str, str] = field(default_factory=dict)

    def read_line(self, timeout_s: float) -> str | None:
        """Return the next stdout line, or None at end of output."""
        return self.lines.get(timeout=timeout_s)

    def read_banner(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            line = self.read_line(max(0.1, deadline - time.monotonic()))
            if line is None:
                raise AssertionError(f"mock exited before serving: {self.stderr()}")
            if found := re.match(r"mock \w+ listening on (\S+)$", line):
                self.url = found.group(1)
            elif found := re.match(r"\s+([a-zA-Z ]+?):\s+(\S+)", line):
                self.banner[found.group(1)] = found.group(2)
            elif line == LAST_BANNER_LINE:
                return

    def stop(self, signum: int) -> tuple[int, list[str]]:
        """Send ``signum``; return the exit status and the stdout lines printed after it."""
        self.process.send_signal(signum)
        status = self.process.wait(timeout=EXIT_TIMEOUT_S)
        rest: list[str] = []
        while (line := self.read_line(EXIT_TIMEOUT_S)) is not None:
            rest.append(line)
        return status, rest

    def stderr(self) -> str:
        return self.stderr_path.read_text()


def _pump(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line.rstrip("\n"))
    lines.put(None)


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[type[MockProcess]]:
    """Start ``syncbench mock ARGS`` processes; kill any still running at teardown."""
    started: list[MockProcess] = []

    class Launcher(MockProcess):
        def __init__(self, *args: str) -> None:
            stderr_path = tmp_path / f"stderr-{len(started)}.log"
            with stderr_path.open("w") as stderr:
                process = subprocess.Popen(
                    [sys.executable, "-m", "pytest_syncbench.cli", "mock", *args],
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    text=True,
                )
            super().__init__(process, stderr_path)
            self.reader = threading.Thread(
                target=_pump, args=(process, self.lines), daemon=True
            )
            self.reader.start()
            started.append(self)

    yield Launcher
    for mock in started:
        if mock.process.poll() is None:
            mock.process.kill()
            mock.process.wait(timeout=EXIT_TIMEOUT_S)
        if mock.reader is not None:
            mock.reader.join(timeout=EXIT_TIMEOUT_S)
        if mock.process.stdout is not None:
            mock.process.stdout.close()


def _run_to_exit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_syncbench.cli", "mock", *args],
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT_S,
    )


def _start_hubspot(launch: type[MockProcess], *extra: str) -> MockProcess:
    mock = launch("hubspot", "--port", "0", "--companies", str(COMPANIES), *extra)
    mock.read_banner()
    return mock


def test_hubspot_mock_serves_official_client(launch: type[MockProcess]) -> None:
    mock = _start_hubspot(launch, "--no-latency")
    client = HubSpot(access_token=mock.banner["access token"], host=mock.url)

    companies = client.crm.companies.get_all(properties=["industry"])
    assert len(companies) == COMPANIES
    assert {company.id for company in companies} == {
        str(i) for i in range(1, COMPANIES + 1)
    }

    software = {
        company.id
        for company in companies
        if company.properties["industry"] == "COMPUTER_SOFTWARE"
    }
    search = PublicObjectSearchRequest(
        filter_groups=[
            FilterGroup(
                filters=[
                    Filter(
                        property_name="industry",
                        operator="EQ",
                        value="COMPUTER_SOFTWARE",
                    )
                ]
            )
        ],
        properties=["industry"],
        limit=100,
    )
    found = client.crm.companies.search_api.do_search(
        public_object_search_request=search
    )
    assert software
    assert found.total == len(software)
    assert {company.id for company in found.results} == software

    batch = BatchReadInputSimplePublicObjectId(
        inputs=[SimplePublicObjectId(id=i) for i in ("1", "2", "999999")],
        properties=["name"],
    )
    read = client.crm.companies.batch_api.read(batch)
    assert {company.id for company in read.results} == {"1", "2"}
    assert read.num_errors == 1
    assert read.errors[0].context["ids"] == ["999999"]

    status, rest = mock.stop(signal.SIGINT)
    assert status == 0
    assert "mock HubSpot stopped" in rest


def test_hubspot_mock_prints_credentials(launch: type[MockProcess]) -> None:
    mock = _start_hubspot(launch, "--no-latency")
    mock.stop(signal.SIGINT)
    assert mock.url.startswith("http://127.0.0.1:")
    assert mock.banner["access token"].startswith("pat-")
    assert mock.banner["developer API key"].startswith("dev-")
    assert mock.banner["client secret"].startswith("secret-")
    assert mock.banner["portal id"].isdigit()
    assert mock.banner["app id"].isdigit()


def test_hubspot_mock_logs_requests(launch: type[MockProcess]) -> None:
    mock = _start_hubspot(launch, "--no-latency")
    key = mock.banner["developer API key"]
    app_id = mock.banner["app id"]
    listed = httpx.get(
        f"{mock.url}/crm/v3/objects/companies",
        params={"limit": 2},
        headers={"Authorization": f"Bearer {mock.banner['access token']}"},
    )
    settings = httpx.get(
        f"{mock.url}/webhooks/v3/{app_id}/settings", params={"hapikey": key}
    )
    mock.stop(signal.SIGINT)
    log = mock.stderr()
    assert listed.status_code == 200
    assert settings.status_code == 404
    assert re.search(r" INFO GET /crm/v3/objects/companies\?limit=2 200 ", log)
    assert "hapikey=REDACTED" in log
    assert key not in log


def test_hubspot_mock_sleeps_latency_by_default(launch: type[MockProcess]) -> None:
    mock = _start_hubspot(launch)
    headers = {"Authorization": f"Bearer {mock.banner['access token']}"}
    started = time.perf_counter()
    answer = httpx.get(f"{mock.url}/crm/v3/objects/companies/1", headers=headers)
    elapsed = time.perf_counter() - started
    mock.stop(signal.SIGINT)
    assert answer.status_code == 200
    # HubSpotConfig's default read latency is 0.08 s.
    assert elapsed >= 0.08


def test_hubspot_mock_stops_on_sigterm(launch: type[MockProcess]) -> None:
    mock = _start_hubspot(launch, "--no-latency")
    status, rest = mock.stop(signal.SIGTERM)
    assert status == 0
    assert "mock HubSpot stopped" in rest


def test_databox_mock_push_and_ingest(launch: type[MockProcess]) -> None:
    mock = launch("databox", "--port", "0", "--no-latency")
    mock.read_banner()
    token = mock.banner["push token"]
    key = {"x-api-key": mock.banner["ingestion API key"]}
    dataset = mock.banner["dataset id"]

    pushed = httpx.post(
        f"{mock.url}/data",
        auth=(token, ""),
        json=[{"key": "companies", "value": 300}],
    )
    assert pushed.status_code == 200
    assert pushed.json()["status"] == "ok"

    ingested = httpx.post(
        f"{mock.url}/v1/datasets/{dataset}/data",
        headers=key,
        json={"records": [{"id": "1", "name": "Acme"}, {"id": "2", "name": "Beta"}]},
    )
    assert ingested.status_code == 200
    ingestion = ingested.json()["ingestionId"]
    checked = httpx.get(
        f"{mock.url}/v1/datasets/{dataset}/ingestions/{ingestion}", headers=key
    )
    assert checked.status_code == 200
    assert checked.json()["recordsReceived"] == 2

    described = httpx.get(f"{mock.url}/v1/datasets/{dataset}", headers=key)
    assert described.json()["primaryKeys"] == ["id"]

    status, rest = mock.stop(signal.SIGINT)
    assert status == 0
    assert "mock Databox stopped" in rest


def test_databox_mock_rejects_wrong_token(launch: type[MockProcess]) -> None:
    mock = launch("databox", "--port", "0", "--no-latency")
    mock.read_banner()
    pushed = httpx.post(
        f"{mock.url}/data", auth=("wrong", ""), json=[{"key": "k", "value": 1}]
    )
    mock.stop(signal.SIGINT)
    assert pushed.status_code == 401


@pytest.mark.parametrize("service", ["hubspot", "databox"])
def test_port_in_use_exits_2(service: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run_to_exit(service, "--port", str(port))
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert result.returncode == 2
    assert len(errors) == 1
    assert f"127.0.0.1:{port}" in errors[0]
    assert "already in use" in errors[0]
    assert "--port" in errors[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--tier", "gold"),
        ("--port", "70000"),
        ("--port", "-1"),
        ("--companies", "-5"),
        ("--index-lag-s", "-1"),
        ("--index-lag-s", "nan"),
    ],
)
def test_bad_hubspot_value_exits_2(option: str, value: str) -> None:
    result = _run_to_exit("hubspot", f"{option}={value}")
    lines = result.stderr.splitlines()
    assert result.returncode == 2
    assert len(lines) == 1
    assert f"{option} " in lines[0]
    assert value in lines[0]


def test_unknown_tier_names_accepted_ones() -> None:
    result = _run_to_exit("hubspot", "--tier", "gold")
    assert result.returncode == 2
    assert "'gold'" in result.stderr
    assert "professional" in result.stderr
