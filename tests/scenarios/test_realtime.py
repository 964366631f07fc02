"""Real-time updates: a steady random stream after the initial sync."""


def test_realtime(syncbench_case):
    outcome = syncbench_case.run("realtime")

    assert outcome.measured_changes == outcome.spec.update_count
    assert outcome.delivered_changes + outcome.data_loss == outcome.tracked_changes
