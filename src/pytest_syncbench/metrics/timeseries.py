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
    tier without a daily limit. ``staleness_s`` is the age of the oldest pending change
    (0 when nothing is pending). ``databox_calls`` and ``databox_rate_limited`` are the
    cumulative counts of Databox requests served and of 429 responses. Each ``*_interval``
    list holds the growth of its cumulative count since the previous sample (since the
    start for the first sample).
    """

    t_s: list[float] = field(default_factory=list)
    pending_changes: list[int] = field(default_factory=list)
    solution_backlog: list[int] = field(default_factory=list)
    api_calls: list[int] = field(default_factory=list)
    rate_limited: list[int] = field(default_factory=list)
    daily_quota_left: list[int | None] = field(default_factory=list)
    staleness_s: list[float] = field(default_factory=list)
    api_calls_interval: list[int] = field(default_factory=list)
    rate_limited_interval: list[int] = field(default_factory=list)
    databox_calls: list[int] = field(default_factory=list)
    databox_calls_interval: list[int] = field(default_factory=list)
    databox_rate_limited: list[int] = field(default_factory=list)

    def add(
        self,
        t_s: float,
        pending_changes: int,
        solution_backlog: int,
        api_calls: int,
        rate_limited: int,
        daily_limit: int | None,
        *,
        staleness_s: float = 0.0,
        databox_calls: int = 0,
        databox_rate_limited: int = 0,
    ) -> None:
        self.api_calls_interval.append(api_calls - _last(self.api_calls))
        self.rate_limited_interval.append(rate_limited - _last(self.rate_limited))
        self.databox_calls_interval.append(databox_calls - _last(self.databox_calls))
        self.staleness_s.append(round(staleness_s, 3))
        self.databox_calls.append(databox_calls)
        self.databox_rate_limited.append(databox_rate_limited)
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
            "staleness_s": self.staleness_s,
            "api_calls_interval": self.api_calls_interval,
            "rate_limited_interval": self.rate_limited_interval,
            "databox_calls": self.databox_calls,
            "databox_calls_interval": self.databox_calls_interval,
            "databox_rate_limited": self.databox_rate_limited,
        }


def _last(values: list[int]) -> int:
    return values[-1] if values else 0
