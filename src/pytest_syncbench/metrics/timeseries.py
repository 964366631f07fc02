"""Measurements sampled over simulated time during a case."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class TimeSeries:
    """Parallel lists, one entry per sample.

    ``pending_changes`` is the backlog seen from outside the solution: changes committed in
    the mock HubSpot and not yet visible in the mock Databox. ``solution_backlog`` is what
    the solution itself reports through ``Solution.backlog()``. ``api_calls`` and
    ``rate_limited`` are cumulative counts of HubSpot requests served and answered 429.
    ``daily_quota_left`` is the tier's daily limit minus the requests served, or None for a
    tier without a daily limit.
    """

    t_s: list[float] = field(default_factory=list)
    pending_changes: list[int] = field(default_factory=list)
    solution_backlog: list[int] = field(default_factory=list)
    api_calls: list[int] = field(default_factory=list)
    rate_limited: list[int] = field(default_factory=list)
    daily_quota_left: list[int | None] = field(default_factory=list)

    def add(
        self,
        t_s: float,
        pending_changes: int,
        solution_backlog: int,
        api_calls: int,
        rate_limited: int,
        daily_limit: int | None,
    ) -> None:
        self.t_s.append(round(t_s, 3))
        self.pending_changes.append(pending_changes)
        self.solution_backlog.append(solution_backlog)
        self.api_calls.append(api_calls)
        self.rate_limited.append(rate_limited)
        self.daily_quota_left.append(
            None if daily_limit is None else daily_limit - api_calls
        )

    @property
    def max_backlog(self) -> int:
        return max(self.pending_changes, default=0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "t_s": self.t_s,
            "pending_changes": self.pending_changes,
            "solution_backlog": self.solution_backlog,
            "api_calls": self.api_calls,
            "rate_limited": self.rate_limited,
            "daily_quota_left": self.daily_quota_left,
        }
