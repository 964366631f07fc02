"""How much faster than real time a scenario runs on the virtual clock."""

import pytest

from pytest_syncbench.harness import CaseSetup, run_case
from pytest_syncbench.registry import discover
from pytest_syncbench.scenarios import Scale, scenario


@pytest.mark.parametrize("solution", ["direct-polling", "webhook-sync", "hybrid-cdc"])
def test_realtime_case_speed(benchmark, solution):
    setup = CaseSetup(
        spec=scenario("realtime", Scale.DEFAULT),
        solution_cls=discover()[solution],
        seed=1,
    )

    outcome = benchmark.pedantic(run_case, args=(setup,), rounds=1, iterations=1)

    benchmark.extra_info["simulated_s"] = outcome.simulated_s
    benchmark.extra_info["speedup"] = round(outcome.simulated_s / outcome.wall_s, 1)
    assert outcome.status == "converged"
