"""Each fault kind starts and ends at its time on the timeline, alone or overlapping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web

from pytest_syncbench.clock import Clock
from pytest_syncbench.databox.config import DataboxConfig
from pytest_syncbench.databox.server import DataboxMock
from pytest_syncbench.fault_timeline import FaultTargets, apply_faults
from pytest_syncbench.generator import StreamSpec, generate_companies
from pytest_syncbench.harness import CaseSetup, run_case
from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.hubspot.server import HubSpotMock
from pytest_syncbench.hubspot.store import Store
from pytest_syncbench.loop import run_virtual
from pytest_syncbench.registry import discover
from pytest_syncbench.results import extra_info
from pytest_syncbench.scenarios import Fault, FaultKind, ScenarioSpec

COMPANIES = "/crm/v3/objects/companies"
SEARCH = f"{COMPANIES}/search"
# The window most tests put their fault in, in simulated seconds.
START_S, END_S = 100.0, 200.0


@dataclass
class World:
    clock: Clock
    store: Store
    hubspot: HubSpotMock
    databox: DataboxMock
    api: httpx.AsyncClient
    push: httpx.AsyncClient
    lifecycle: list[tuple[str, float]] = field(default_factory=list)

    async def at(self, t_s: float) -> None:
        """Sleep until simulated second ``t_s``."""
        delay = t_s - self.clock.now()
        assert delay >= 0, f"already at {self.clock.now()}s, after {t_s}s"
        await asyncio.sleep(delay)

    async def list_status(self) -> int:
        return (await self.api.get(COMPANIES)).status_code

    async def search_status(self) -> int:
        return (await self.api.post(SEARCH, json={})).status_code

    async def push_status(self) -> int:
        items = [{"key": "companies", "value": 1}]
        return (await self.push.post("/data", json=items)).status_code


@asynccontextmanager
async def world(faults: tuple[Fault, ...], **hubspot: Any) -> AsyncIterator[World]:
    """Start both mocks over 20 companies and play ``faults`` in the background."""
    clock = Clock()
    clock.start()
    store = Store(clock)
    store.seed(generate_companies(20, 5, clock.epoch_ms))
    config = HubSpotConfig(
        **{"burst_limit": 100_000, "search_per_second": 1000, **hubspot}
    )
    hubspot_mock = HubSpotMock(store, clock, config)
    databox_mock = DataboxMock(clock, DataboxConfig())
    await hubspot_mock.start()
    await databox_mock.start()
    lifecycle: list[tuple[str, float]] = []

    async def crash() -> None:
        lifecycle.append(("crash", clock.now()))

    async def restart() -> None:
        lifecycle.append(("restart", clock.now()))

    targets = FaultTargets(hubspot_mock, databox_mock, crash, restart)
    api = httpx.AsyncClient(
        base_url=hubspot_mock.base_url,
        headers={"Authorization": f"Bearer {config.access_token}"},
        timeout=600,
    )
    push = httpx.AsyncClient(
        base_url=databox_mock.base_url,
        auth=(databox_mock.config.push_token, ""),
        timeout=600,
    )
    timeline = asyncio.create_task(apply_faults(clock, faults, targets))
    try:
        yield World(clock, store, hubspot_mock, databox_mock, api, push, lifecycle)
        await timeline
    finally:
        timeline.cancel()
        await api.aclose()
        await push.aclose()
        await hubspot_mock.stop()
        await databox_mock.stop()


def play(
    faults: tuple[Fault, ...],
    script: Callable[[World], Awaitable[None]],
    **hubspot: Any,
) -> None:
    async def main() -> None:
        async with world(faults, **hubspot) as w:
            await script(w)

    run_virtual(main)


def window(kind: FaultKind, **params: float | str) -> tuple[Fault, ...]:
    return (Fault(START_S, END_S - START_S, kind, params),)


# -- HubSpot API faults ---------------------------------------------------------------


def test_hubspot_503_only_in_window():
    statuses: list[int] = []

    async def script(w: World) -> None:
        for t in (50, 150, 250):
            await w.at(t)
            statuses.append(await w.list_status())

    play(window(FaultKind.HUBSPOT_503), script)

    assert statuses == [200, 503, 200]


def test_hubspot_refused_only_in_window():
    outcomes: list[object] = []

    async def script(w: World) -> None:
        for t in (50, 150, 250):
            await w.at(t)
            try:
                outcomes.append(await w.list_status())
            except httpx.ConnectError:
                outcomes.append("refused")

    play(window(FaultKind.HUBSPOT_REFUSED), script)

    assert outcomes == [200, "refused", 200]


def test_hubspot_timeout_holds_then_504():
    results: list[tuple[int, float]] = []

    async def script(w: World) -> None:
        for t in (50, 150, 250):
            await w.at(t)
            status = await w.list_status()
            results.append((status, round(w.clock.now() - t, 2)))

    play(window(FaultKind.HUBSPOT_TIMEOUT, hold_s=30.0), script)

    assert results[0] == (200, 0.08)
    assert results[1] == (504, 30.0)
    assert results[2] == (200, 0.08)


def test_hubspot_latency_adds_and_restores():
    durations: list[float] = []
    latencies: list[float] = []

    async def script(w: World) -> None:
        for t in (50, 150, 250):
            await w.at(t)
            await w.list_status()
            durations.append(round(w.clock.now() - t, 3))
        latencies.append(w.hubspot.config.read_latency_s)

    play(window(FaultKind.HUBSPOT_LATENCY, added_s=7.0), script)

    assert durations == [0.08, 7.08, 0.08]
    assert latencies == [0.08]


def test_overlapping_latencies_add_up():
    durations: list[float] = []
    faults = (
        Fault(100.0, 200.0, FaultKind.HUBSPOT_LATENCY, {"added_s": 2.0}),
        Fault(200.0, 200.0, FaultKind.HUBSPOT_LATENCY, {"added_s": 5.0}),
    )

    async def script(w: World) -> None:
        for t in (150, 250, 350, 450):
            await w.at(t)
            await w.list_status()
            durations.append(round(w.clock.now() - t, 3))

    play(faults, script)

    assert durations == [2.08, 7.08, 5.08, 0.08]


def test_429_storm_hits_only_its_endpoint():
    statuses: list[tuple[int, int]] = []

    async def script(w: World) -> None:
        for t in (50, 150, 250):
            await w.at(t)
            statuses.append((await w.search_status(), await w.list_status()))

    faults = window(FaultKind.HUBSPOT_429_STORM, endpoint=f"POST {SEARCH}")
    play(faults, script)

    assert statuses == [(200, 200), (429, 200), (200, 200)]


def test_429_storm_default_hits_everything():
    statuses: list[tuple[int, int]] = []

    async def script(w: World) -> None:
        for t in (50, 150, 250):
            await w.at(t)
            statuses.append((await w.search_status(), await w.list_status()))

    play(window(FaultKind.HUBSPOT_429_STORM), script)

    assert statuses == [(200, 200), (429, 429), (200, 200)]


def test_overlapping_outages_stack():
    outcomes: list[object] = []
    faults = (
        Fault(100.0, 200.0, FaultKind.HUBSPOT_503),
        Fault(150.0, 100.0, FaultKind.HUBSPOT_REFUSED),
    )

    async def script(w: World) -> None:
        for t in (120, 200, 280, 320):
            await w.at(t)
            try:
                outcomes.append(await w.list_status())
            except httpx.ConnectError:
                outcomes.append("refused")

    play(faults, script)

    assert outcomes == [503, "refused", 503, 200]


# -- search index ---------------------------------------------------------------------


def test_search_lag_spike_delays_writes_in_window():
    seen: dict[float, dict[str, str | None]] = {}

    async def city_of(w: World, company_id: int) -> str | None:
        body = {
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": "hs_object_id",
                            "operator": "EQ",
                            "value": str(company_id),
                        }
                    ]
                }
            ],
            "properties": ["city"],
        }
        response = await w.api.post(SEARCH, json=body)
        assert response.status_code == 200
        results = response.json()["results"]
        return results[0]["properties"]["city"] if results else None

    async def script(w: World) -> None:
        w.store.update(1, {"city": "Before"})
        await w.at(150)
        w.store.update(2, {"city": "Inside"})
        await w.at(250)
        w.store.update(3, {"city": "After"})
        for t in (260, 700, 760):
            await w.at(t)
            seen[t] = {str(i): await city_of(w, i) for i in (1, 2, 3)}

    play(window(FaultKind.SEARCH_LAG_SPIKE, lag_s=600.0), script)

    # The write before the window is searchable after the usual 3 s.
    assert seen[260]["1"] == "Before"
    # The write inside waits 600 s, and the later one waits behind it.
    assert seen[260]["2"] != "Inside"
    assert seen[260]["3"] != "After"
    assert seen[700]["2"] != "Inside"
    assert seen[760] == {"1": "Before", "2": "Inside", "3": "After"}


# -- webhook delivery -----------------------------------------------------------------


def test_webhook_outage_drops_events_in_window():
    received: list[dict[str, Any]] = []
    counters: dict[str, int] = {}

    async def handle(request: web.Request) -> web.Response:
        received.extend(await request.json())
        return web.Response(status=200)

    async def script(w: World) -> None:
        app = web.Application()
        app.router.add_post("/hooks", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        dispatcher = w.hubspot.webhooks
        dispatcher.configure(f"http://127.0.0.1:{port}/hooks")
        dispatcher.subscribe("company.propertyChange", "city", active=True)
        try:
            await w.at(50)
            w.store.update(1, {"city": "Before"})
            await w.at(150)
            w.store.update(2, {"city": "Inside"})
            await w.at(300)
            w.store.update(3, {"city": "After"})
            await w.at(400)
            counters["dropped"] = dispatcher.dropped_events
            counters["failed"] = dispatcher.failed_attempts
            counters["delivered"] = dispatcher.delivered_events
        finally:
            await runner.cleanup()

    play(
        window(FaultKind.WEBHOOK_OUTAGE),
        script,
        max_retries=2,
        retry_span_s=30.0,
    )

    assert sorted(e["objectId"] for e in received) == [1, 3]
    assert counters["dropped"] == 1
    # The first attempt and both retries failed.
    assert counters["failed"] == 3
    assert counters["delivered"] == 2


# -- Databox --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "inside"),
    [
        (FaultKind.DATABOX_503, 503),
        (FaultKind.DATABOX_429, 429),
        (FaultKind.DATABOX_REFUSED, "refused"),
    ],
)
def test_databox_fault_only_in_window(kind, inside):
    outcomes: list[object] = []
    stored: list[int] = []

    async def script(w: World) -> None:
        for t in (50, 150, 250):
            await w.at(t)
            try:
                outcomes.append(await w.push_status())
            except httpx.ConnectError:
                outcomes.append("refused")
            stored.append(len(w.databox.data_points.get("companies", [])))

    play(window(kind), script)

    assert outcomes == [200, inside, 200]
    # Nothing is stored during the fault.
    assert stored == [1, 1, 2]


def test_databox_429_body_names_the_limit():
    bodies: list[dict[str, Any]] = []

    async def script(w: World) -> None:
        await w.at(150)
        items = [{"key": "companies", "value": 1}]
        bodies.append((await w.push.post("/data", json=items)).json())

    play(window(FaultKind.DATABOX_429), script)

    assert bodies[0]["message"] == "Too many requests. 10/sec is allowed"


# -- solution crash -------------------------------------------------------------------


def test_crash_and_restart_at_window_edges():
    lifecycle: list[tuple[str, float]] = []

    async def script(w: World) -> None:
        await w.at(300)
        lifecycle.extend(w.lifecycle)

    play(window(FaultKind.SOLUTION_CRASH), script)

    assert lifecycle == [("crash", START_S), ("restart", END_S)]


def test_overlapping_crashes_restart_once():
    lifecycle: list[tuple[str, float]] = []
    faults = (
        Fault(100.0, 100.0, FaultKind.SOLUTION_CRASH),
        Fault(150.0, 100.0, FaultKind.SOLUTION_CRASH),
    )

    async def script(w: World) -> None:
        await w.at(300)
        lifecycle.extend(w.lifecycle)

    play(faults, script)

    assert lifecycle == [("crash", 100.0), ("restart", 250.0)]


CRASH_SPEC = ScenarioSpec(
    name="crash",
    description="a short stream with a solution crash in the middle",
    companies=300,
    streams=(StreamSpec(120, 1200.0, 300.0),),
    faults=(Fault(700.0, 300.0, FaultKind.SOLUTION_CRASH),),
    # Long enough for the native connector's hourly pull after its restart.
    settle_s=4000.0,
)


@pytest.mark.parametrize(
    "solution", ["hybrid-cdc", "webhook-sync", "direct-polling", "native-integration"]
)
def test_crashed_solution_restarts_and_converges(solution):
    outcome = run_case(
        CaseSetup(spec=CRASH_SPEC, solution_cls=discover()[solution], seed=4)
    )

    assert outcome.error is None, outcome.error
    assert outcome.restarts == 1
    assert outcome.status == "converged"
    assert outcome.data_loss == 0
    # Nothing reaches HubSpot or Databox from the solution while it is down.
    down = [c for c in outcome.hubspot_calls if 700.0 < c.t_s < 1000.0]
    assert down == []
    written = [c for c in outcome.databox_calls if 700.0 < c.t_s < 1000.0]
    assert written == []


def test_scenario_overrides_reach_mock():
    spec = ScenarioSpec(
        name="webhook-outage",
        description="webhook deliveries fail for 10 minutes with a short retry span",
        companies=300,
        streams=(StreamSpec(120, 1200.0, 300.0),),
        faults=(Fault(700.0, 600.0, FaultKind.WEBHOOK_OUTAGE),),
        settle_s=1800.0,
        hubspot={"max_retries": 1, "retry_span_s": 60.0},
    )

    outcome = run_case(
        CaseSetup(spec=spec, solution_cls=discover()["hybrid-cdc"], seed=4)
    )

    assert outcome.error is None, outcome.error
    assert outcome.webhooks["dropped_events"] > 0
    # The CDC path recovers what the dropped events carried.
    assert outcome.status == "converged"
    assert outcome.data_loss == 0


# -- validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Fault(1.0, 2.0, "hubspot-outage"), "'hubspot-outage'"),  # type: ignore[arg-type]
        (lambda: Fault(1.0, 0.0, FaultKind.HUBSPOT_503), "duration_s 0.0"),
        (lambda: Fault(-1.0, 2.0, FaultKind.HUBSPOT_503), "start_s -1.0"),
        (
            lambda: Fault(1.0, 2.0, FaultKind.HUBSPOT_LATENCY),
            "missing parameter 'added_s'",
        ),
        (
            lambda: Fault(1.0, 2.0, FaultKind.HUBSPOT_503, {"hold_s": 1.0}),
            "accepted parameters: none",
        ),
        (
            lambda: Fault(1.0, 2.0, FaultKind.HUBSPOT_TIMEOUT, {"hold_s": 0}),
            "invalid hold_s 0",
        ),
        (
            lambda: Fault(1.0, 2.0, FaultKind.SEARCH_LAG_SPIKE, {"lag_s": "long"}),
            "invalid lag_s 'long'",
        ),
        (
            lambda: ScenarioSpec("s", "d", 1, hubspot={"retry_count": 2}),
            "'retry_count'",
        ),
        (
            lambda: ScenarioSpec("s", "d", 1, databox={"upsert": "yes"}),
            "upsert='yes'",
        ),
    ],
)
def test_invalid_fault_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_fault_kind_from_value():
    fault = Fault(1.0, 2.0, "hubspot-429-storm")  # type: ignore[arg-type]

    assert fault.kind is FaultKind.HUBSPOT_429_STORM
    assert fault.params == {"endpoint": "*"}
    assert fault.end_s == 3.0


STORM_SPEC = ScenarioSpec(
    name="storm",
    description="a short stream with a 10-minute 429 storm on every HubSpot request",
    companies=300,
    streams=(StreamSpec(120, 1200.0, 300.0),),
    faults=(Fault(700.0, 600.0, FaultKind.HUBSPOT_429_STORM),),
    settle_s=1800.0,
)


def test_429_storm_run_measures_success_rate():
    outcome = run_case(
        CaseSetup(spec=STORM_SPEC, solution_cls=discover()["direct-polling"], seed=4)
    )
    info = extra_info(outcome, "test", "professional")

    limited = [c.t_s for c in outcome.hubspot_calls if c.status == 429]
    assert limited
    assert all(700.0 <= t < 1300.0 for t in limited)
    served = len(outcome.hubspot_calls) + len(outcome.databox_calls)
    assert info["success_rate"] == round((served - len(limited)) / served, 6)
    assert info["status"] == "converged"
    assert info["recovery_s"] is not None
    assert info["restarts"] == 0


def test_hanging_crash_fails_case():
    class HangsOnCrash(discover()["direct-polling"]):  # type: ignore[misc,valid-type]
        name = "hangs-on-crash"

        async def crash(self) -> None:
            await asyncio.sleep(3600)

    outcome = run_case(CaseSetup(spec=CRASH_SPEC, solution_cls=HangsOnCrash, seed=4))

    assert outcome.status == "failed"
    assert outcome.error is not None
    assert "hangs-on-crash.crash() did not return within 60" in outcome.error
