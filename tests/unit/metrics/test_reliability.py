"""Reliability figures against hand-computed cases."""

from typing import NamedTuple

import pytest

from pytest_syncbench.metrics.reliability import (
    catchup_per_s,
    drain_s,
    recovery_s,
    reliability,
    settled_at,
    succeeded,
    success_rate,
)


class Call(NamedTuple):
    status: int


# Seven changes: two seeded before the start, then writes at 10, 20, 30, 40 and 50 s.
COMMITTED_S = [-100.0, -100.0, 10.0, 20.0, 30.0, 40.0, 50.0]
# All visible: the seeded ones at 5 s, then each write some seconds later.
VISIBLE_S = {0: 5.0, 1: 5.0, 2: 12.0, 3: 61.0, 4: 33.0, 5: 58.0, 6: 70.0}


def test_succeeded_counts_2xx_only():
    calls = [
        Call(200),
        Call(201),
        Call(204),
        Call(299),
        Call(300),
        Call(429),
        Call(503),
    ]

    assert succeeded(calls) == 4


def test_success_rate_share_and_empty():
    assert success_rate(3, 4) == 0.75
    assert success_rate(0, 0) is None


def test_settled_at_last_visibility_of_earlier_changes():
    # Changes committed by 30 s are seqs 0-4; the latest of them became visible at 61 s.
    assert settled_at(COMMITTED_S, VISIBLE_S, 30.0) == 61.0
    # Committed by 10 s: seqs 0-2, visible by 12 s.
    assert settled_at(COMMITTED_S, VISIBLE_S, 10.0) == 12.0


def test_settled_at_pending_change_is_none():
    visible = {k: v for k, v in VISIBLE_S.items() if k != 3}

    assert settled_at(COMMITTED_S, visible, 30.0) is None
    # A pending change committed after the cut-off does not matter.
    assert settled_at(COMMITTED_S, visible, 10.0) == 12.0


def test_recovery_from_fault_end():
    # Fault ends at 35 s: seqs 0-4 committed by then, the last visible at 61 s.
    assert recovery_s(COMMITTED_S, VISIBLE_S, 35.0) == 26.0


def test_recovery_zero_when_nothing_waits():
    # Fault ends at 15 s: seqs 0-2 were visible by 12 s, before the end.
    assert recovery_s(COMMITTED_S, VISIBLE_S, 15.0) == 0.0


def test_recovery_zero_before_any_change():
    assert recovery_s([20.0, 30.0], {0: 25.0}, 5.0) == 0.0


def test_recovery_none_without_fault_or_recovery():
    assert recovery_s(COMMITTED_S, VISIBLE_S, None) is None
    visible = {k: v for k, v in VISIBLE_S.items() if k != 4}
    assert recovery_s(COMMITTED_S, visible, 35.0) is None


def test_drain_from_last_write():
    # The last write is at 50 s and the last change became visible at 70 s.
    assert drain_s(COMMITTED_S, VISIBLE_S, 50.0) == 20.0
    assert drain_s(COMMITTED_S, VISIBLE_S, None) is None
    visible = {k: v for k, v in VISIBLE_S.items() if k != 6}
    assert drain_s(COMMITTED_S, visible, 50.0) is None


def test_catchup_counts_deliveries_in_recovery():
    # From 35 s to 35 + 26 = 61 s, seqs 3 (61 s) and 5 (58 s) became visible.
    assert catchup_per_s(VISIBLE_S, 35.0, 26.0) == pytest.approx(2 / 26, abs=1e-3)


def test_catchup_none_without_recovery_time():
    assert catchup_per_s(VISIBLE_S, 35.0, 0.0) is None
    assert catchup_per_s(VISIBLE_S, None, None) is None
    assert catchup_per_s(VISIBLE_S, 35.0, None) is None


def test_reliability_fields():
    fields = reliability(
        committed_s=COMMITTED_S,
        visible_s=VISIBLE_S,
        fault_end_s=35.0,
        last_write_s=50.0,
        hubspot_calls=[Call(200), Call(429), Call(200)],
        databox_calls=[Call(200), Call(503)],
        webhooks={"dropped_events": 4, "redelivered_events": 2},
        stored_twice=3,
        restarts=1,
    )

    assert fields["success_rate"] == 0.6
    assert fields["recovery_s"] == 26.0
    assert fields["drain_s"] == 20.0
    assert fields["catchup_per_s"] == round(2 / 26, 3)
    assert fields["duplicates"] == {"total": 5, "webhook_events": 2, "stored": 3}
    assert fields["events_dropped"] == 4
    assert fields["restarts"] == 1


def test_reliability_without_webhooks():
    fields = reliability(
        committed_s=[],
        visible_s={},
        fault_end_s=None,
        last_write_s=None,
        hubspot_calls=[],
        databox_calls=[],
        webhooks={},
        stored_twice=0,
        restarts=0,
    )

    assert fields["success_rate"] is None
    assert fields["recovery_s"] is None
    assert fields["duplicates"]["total"] == 0
    assert fields["events_dropped"] == 0
