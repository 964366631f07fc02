"""API outage: HubSpot refuses connections for 30 minutes in a steady update stream."""


def test_outage(syncbench_case):
    outcome = syncbench_case.run("outage")

    fault = outcome.spec.faults[0]
    served_during_outage = [
        call for call in outcome.hubspot_calls if fault.start_s < call.t_s < fault.end_s
    ]
    # Refused connections never reach the mock, so it served nothing while the fault held.
    assert served_during_outage == []
    assert outcome.measured_changes == outcome.spec.update_count
    assert outcome.delivered_changes + outcome.data_loss == outcome.tracked_changes
