"""Scale stress: a large store under 10,000 updates an hour."""


def test_scale(syncbench_case):
    outcome = syncbench_case.run("scale")

    assert outcome.measured_changes == outcome.spec.update_count
    assert outcome.delivered_changes + outcome.data_loss == outcome.tracked_changes
