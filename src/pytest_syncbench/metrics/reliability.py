"""Reliability of a case: request success, recovery after faults, drain after writes.

Every figure comes from what the mocks recorded and when the tracker saw each change
become visible. Times are simulated seconds since the scenario started. A change is
addressed by its sequence number in the store's history, and ``committed_s[seq]`` is its
commit time, negative for companies seeded before the start.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol


class ServedCall(Protocol):
    @property
    def status(self) -> int: ...


def succeeded(calls: Iterable[ServedCall]) -> int:
    """Count the calls that got a 2xx response."""
    return sum(1 for call in calls if 200 <= int(call.status) < 300)


def success_rate(succeeded_calls: int, total_calls: int) -> float | None:
    """Return the share of calls that succeeded, or None when there were none."""
    if total_calls == 0:
        return None
    return round(succeeded_calls / total_calls, 6)


def settled_at(
    committed_s: Sequence[float], visible_s: Mapping[int, float], until_s: float
) -> float | None:
    """Return when the last change committed at or before ``until_s`` became visible.

    None when one of those changes never became visible, and minus infinity when there
    is no such change. Changes are in commit order, so the scan stops at the first
    change committed after ``until_s``.
    """
    latest = -math.inf
    for seq, committed in enumerate(committed_s):
        if committed > until_s:
            break
        seen = visible_s.get(seq)
        if seen is None:
            return None
        latest = max(latest, seen)
    return latest


def recovery_s(
    committed_s: Sequence[float],
    visible_s: Mapping[int, float],
    fault_end_s: float | None,
) -> float | None:
    """Return the seconds from the end of the last fault until it left nothing pending.

    That is when the last change committed at or before the fault's end became visible,
    counted from the fault's end, and 0 when every such change was visible by then. None
    without a fault, or when such a change was still not visible when the run ended.
    """
    if fault_end_s is None:
        return None
    settled = settled_at(committed_s, visible_s, fault_end_s)
    if settled is None:
        return None
    return round(max(0.0, settled - fault_end_s), 3)


def drain_s(
    committed_s: Sequence[float],
    visible_s: Mapping[int, float],
    last_write_s: float | None,
) -> float | None:
    """Return the seconds from the last write until every change was visible.

    0 when every change was visible at the moment of the last write. None without
    writes, or when a change was still not visible when the run ended.
    """
    if last_write_s is None:
        return None
    settled = settled_at(committed_s, visible_s, last_write_s)
    if settled is None:
        return None
    return round(max(0.0, settled - last_write_s), 3)


def catchup_per_s(
    visible_s: Mapping[int, float], fault_end_s: float | None, recovery: float | None
) -> float | None:
    """Return the changes made visible per second from the fault's end to recovery.

    Counts every change that became visible after ``fault_end_s`` and no later than
    ``fault_end_s + recovery``, including changes committed after the fault. None
    without a fault, without recovery, or when recovery took no time at all.
    """
    if fault_end_s is None or recovery is None or recovery <= 0:
        return None
    until_s = fault_end_s + recovery
    delivered = sum(1 for seen in visible_s.values() if fault_end_s < seen <= until_s)
    return round(delivered / recovery, 3)


def reliability(
    *,
    committed_s: Sequence[float],
    visible_s: Mapping[int, float],
    fault_end_s: float | None,
    last_write_s: float | None,
    hubspot_calls: Sequence[ServedCall],
    databox_calls: Sequence[ServedCall],
    webhooks: Mapping[str, int],
    stored_twice: int,
    restarts: int,
) -> dict[str, Any]:
    """Return the reliability fields of ``extra_info``; docs/metrics.md defines them."""
    served = len(hubspot_calls) + len(databox_calls)
    ok = succeeded(hubspot_calls) + succeeded(databox_calls)
    recovery = recovery_s(committed_s, visible_s, fault_end_s)
    redelivered = int(webhooks.get("redelivered_events", 0))
    return {
        "success_rate": success_rate(ok, served),
        "recovery_s": recovery,
        "drain_s": drain_s(committed_s, visible_s, last_write_s),
        "catchup_per_s": catchup_per_s(visible_s, fault_end_s, recovery),
        "duplicates": {
            "total": redelivered + stored_twice,
            "webhook_events": redelivered,
            "stored": stored_twice,
        },
        "events_dropped": int(webhooks.get("dropped_events", 0)),
        "restarts": restarts,
    }
