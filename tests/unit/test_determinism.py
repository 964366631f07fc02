"""Same seed, same numbers: a case run twice measures the same."""

import pytest

from pytest_syncbench.generator import StreamSpec
from pytest_syncbench.harness import CaseSetup, run_case
from pytest_syncbench.registry import discover
from pytest_syncbench.results import extra_info, without_machine_fields
from pytest_syncbench.scenarios import Fault, FaultKind, ScenarioSpec

SPEC = ScenarioSpec(
    name="determinism",
    description="a short stream with an outage",
    companies=500,
    streams=(StreamSpec(150, 1200.0, 300.0),),
    faults=(Fault(700.0, 300.0, FaultKind.HUBSPOT_503),),
    settle_s=1800.0,
)

# A crash of the solution inside a webhook outage, with retries short enough that events
# are dropped and duplicates on the way.
OVERLAPPING = ScenarioSpec(
    name="determinism-overlap",
    description="a short stream with a crash inside a webhook outage",
    companies=500,
    streams=(StreamSpec(150, 1200.0, 300.0),),
    faults=(
        Fault(600.0, 600.0, FaultKind.WEBHOOK_OUTAGE),
        Fault(800.0, 200.0, FaultKind.SOLUTION_CRASH),
    ),
    settle_s=1800.0,
    hubspot={"duplicate_rate": 0.05, "max_retries": 2, "retry_span_s": 120.0},
)


def _measure(solution: str, seed: int, spec: ScenarioSpec = SPEC) -> dict:
    setup = CaseSetup(spec=spec, solution_cls=discover()[solution], seed=seed)
    info = extra_info(run_case(setup), "test", setup.tier)
    return without_machine_fields(info)


@pytest.mark.parametrize("solution", ["direct-polling", "webhook-sync", "hybrid-cdc"])
def test_same_seed_same_numbers(solution):
    first = _measure(solution, seed=3)
    second = _measure(solution, seed=3)

    assert first["status"] != "failed", first["error"]
    assert first["api_calls"] == second["api_calls"]
    assert first["latency_s"] == second["latency_s"]
    assert first["consistency"] == second["consistency"]
    assert first["data_loss"] == second["data_loss"]
    assert first == second


@pytest.mark.parametrize("solution", ["webhook-sync", "hybrid-cdc"])
def test_overlapping_faults_same_numbers(solution):
    first = _measure(solution, seed=5, spec=OVERLAPPING)
    second = _measure(solution, seed=5, spec=OVERLAPPING)

    assert first["status"] != "failed", first["error"]
    assert first["restarts"] == 1
    assert first["events_dropped"] > 0
    assert first["duplicates"]["webhook_events"] > 0
    assert first == second


def test_other_seed_other_numbers():
    first = _measure("direct-polling", seed=3)
    second = _measure("direct-polling", seed=4)

    assert first["latency_s"] != second["latency_s"]
