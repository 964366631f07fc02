"""High-frequency burst: 5,000 updates within 10 minutes."""


def test_burst(syncbench_case):
    outcome = syncbench_case.run("burst")

    stream = outcome.spec.streams[0]
    assert outcome.measured_changes == stream.count
    assert outcome.delivered_changes + outcome.data_loss == outcome.tracked_changes
