"""A finished case leaves nothing of its world in memory."""

from __future__ import annotations

import gc

from pytest_syncbench.generator import StreamSpec
from pytest_syncbench.harness import CaseSetup, run_case
from pytest_syncbench.hubspot.store import Store
from pytest_syncbench.registry import discover
from pytest_syncbench.scenarios import ScenarioSpec

SPEC = ScenarioSpec(
    name="memory",
    description="a short stream",
    companies=200,
    streams=(StreamSpec(40, 300.0, 300.0),),
    settle_s=900.0,
)


def _stores_alive() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, Store))


def test_finished_cases_free_their_stores():
    before = _stores_alive()
    for solution in ("direct-polling", "webhook-sync", "hybrid-cdc"):
        outcome = run_case(
            CaseSetup(spec=SPEC, solution_cls=discover()[solution], seed=1)
        )
        assert outcome.status == "converged", outcome.error
        del outcome

    assert _stores_alive() == before
