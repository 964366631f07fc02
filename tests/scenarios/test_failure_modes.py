"""Failure modes of real HubSpot syncs, each run against every solution.

docs/failure-modes.md lists what each mode stages and the outcome per solution.
hybrid-cdc must lose nothing in any of them, nor in the five standard scenarios.
"""

import pytest

from pytest_syncbench.failure_modes import FAILURE_MODE_NAMES
from pytest_syncbench.harness import CaseSetup, run_case
from pytest_syncbench.scenarios import SCENARIO_NAMES, Scale, scenario
from solutions.hybrid_cdc import HybridCdc


def pytest_generate_tests(metafunc):
    # Parametrized here rather than with a mark, so that the mode comes first in the
    # test id: test_failure[failure-ties-hybrid-cdc].
    if "mode" in metafunc.fixturenames:
        metafunc.parametrize("mode", FAILURE_MODE_NAMES)


# The built-in solutions and the modes in which each loses changes, as
# docs/failure-modes.md documents. Every other pairing of them loses nothing.
BUILT_IN = ("direct-polling", "webhook-sync", "hybrid-cdc", "native-integration")
EXPECTED_LOSSES = {
    ("failure-deletes-merges", "webhook-sync"),
    ("failure-webhooks-dropped", "webhook-sync"),
    ("failure-unsubscribed-properties", "webhook-sync"),
}


def test_failure(syncbench_case, mode):
    outcome = syncbench_case.run(mode)

    assert outcome.spec.name == mode
    assert outcome.delivered_changes + outcome.data_loss == outcome.tracked_changes
    if outcome.solution == "hybrid-cdc":
        assert outcome.data_loss == 0
        assert outcome.consistency.ghost == 0
        assert outcome.consistency.missing == 0
        assert outcome.consistency.stale == 0
    if outcome.solution in BUILT_IN:
        expected_loss = (mode, outcome.solution) in EXPECTED_LOSSES
        assert (outcome.data_loss > 0) == expected_loss


@pytest.mark.parametrize("name", SCENARIO_NAMES + FAILURE_MODE_NAMES)
def test_hybrid_cdc_loses_nothing(pytestconfig, name):
    # Always at smoke scale, so that the check stays short whatever --syncbench-scale.
    if not pytestconfig.getoption("syncbench"):
        pytest.skip("scenario runs only with --syncbench")
    spec = scenario(name, Scale.SMOKE)

    outcome = run_case(CaseSetup(spec, HybridCdc, seed=1))

    assert outcome.status == "converged", outcome.error
    assert outcome.data_loss == 0
    assert outcome.consistency.ghost == 0
    assert outcome.consistency.missing == 0
    assert outcome.consistency.stale == 0
