"""Scale stress: a large store under 10,000 updates an hour, and the scale sweep."""

from pytest_syncbench.scenarios import Scale
from pytest_syncbench.sweep import AXES, plan_for


def test_scale(syncbench_case):
    outcome = syncbench_case.run("scale")

    assert outcome.measured_changes == outcome.spec.update_count
    assert outcome.delivered_changes + outcome.data_loss == outcome.tracked_changes


def test_scale_sweep(syncbench_case, request):
    info = syncbench_case.sweep()

    plan = plan_for(Scale(request.config.getoption("syncbench_scale")))
    assert info["status"] == "completed"
    for axis in AXES:
        points = info["sweep"][axis]
        assert len(points) == len(plan.axis(axis))
        entry = info["breaking_point"][axis]
        verdicts = [p["keeps_up"] for p in points]
        if entry["broke_at"] is None:
            assert all(verdicts)
        else:
            values = [p[entry["varies"]] for p in points]
            assert verdicts.index(False) == values.index(entry["broke_at"])
