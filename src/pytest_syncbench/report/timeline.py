"""Disruption windows of the scenarios and the recovery measured from a case's timeseries.

The saved results hold the backlog every 60 simulated seconds but not the scenario's
timeline, so the windows come from the scenario definitions in ``scenarios.py`` for the
scale the case ran at. A result saved by code whose scenarios have since changed gets
today's windows.
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_syncbench.report.figures import Num, source
from pytest_syncbench.report.load import Case
from pytest_syncbench.scenarios import Scale, scenario


@dataclass(frozen=True)
class Window:
    """A stretch of simulated time in which the scenario disrupts the sync."""

    start_s: float
    end_s: float
    label: str


def disruption(case: Case) -> Window | None:
    """Return the outage of an ``outage`` case or the write burst of a ``burst`` case."""
    try:
        spec = scenario(case.scenario, Scale(case.scale))
    except ValueError:
        return None
    if spec.faults:
        fault = spec.faults[0]
        return Window(fault.start_s, fault.end_s, f"{fault.kind.value} fault")
    if case.scenario == "burst" and spec.streams:
        start = min(s.start_s for s in spec.streams)
        end = max(s.start_s + s.duration_s for s in spec.streams)
        return Window(start, end, "write burst")
    return None


def stream_window(case: Case) -> Window | None:
    """Return the span of the scenario's update streams, after the initial sync."""
    try:
        spec = scenario(case.scenario, Scale(case.scale))
    except ValueError:
        return None
    if not spec.streams:
        return None
    start = min(s.start_s for s in spec.streams)
    end = max(s.start_s + s.duration_s for s in spec.streams)
    return Window(start, end, "update stream")


def _series(case: Case, name: str) -> list[float]:
    series = case.info.get("timeseries") or {}
    values = series.get(name) or []
    return [v for v in values if v is not None]


def recovery(case: Case, window: Window) -> Num | None:
    """Return the simulated seconds from the end of ``window`` until the backlog is normal.

    Normal is the highest backlog (``pending_changes``) sampled in the stretch of equal
    length before the window, so a polling solution's usual backlog between cycles does
    not count as unrecovered. The value is the first sample at or after the window's end
    at or below that level, minus the end, so it is exact only to the 60-second sampling.
    ``None`` when the input has no timeseries; a ``Num`` with value ``None`` when the
    backlog never returned to normal before the run ended.
    """
    times = _series(case, "t_s")
    pending = _series(case, "pending_changes")
    if not times or len(times) != len(pending):
        return None
    length = window.end_s - window.start_s
    before = [
        p
        for t, p in zip(times, pending, strict=True)
        if window.start_s - length <= t < window.start_s
    ]
    normal = max(before, default=0)
    for index, (t, p) in enumerate(zip(times, pending, strict=True)):
        if t >= window.end_s and p <= normal:
            path = case.path(f"timeseries.t_s[{index}]")
            return Num(
                round(t - window.end_s, 1), (source(case.file, path),), "model", "s"
            )
    if times[-1] < window.end_s and case.info.get("status") == "converged":
        # The run stopped before the next sample because every change had arrived: the
        # backlog was empty from the last delivery (``simulated_s``) on.
        simulated = float(case.info.get("simulated_s") or 0.0)
        path = case.path("simulated_s")
        drained = round(max(0.0, simulated - window.end_s), 1)
        return Num(drained, (source(case.file, path),), "model", "s")
    return Num(None, (source(case.file, case.path("timeseries.pending_changes")),))


def stream_calls(case: Case) -> Num | None:
    """Return the HubSpot calls made during the update stream, initial sync excluded.

    The count is the cumulative ``api_calls`` at the last sample inside the stream minus
    the one at the first sample inside it.
    """
    window = stream_window(case)
    times = _series(case, "t_s")
    calls = _series(case, "api_calls")
    if window is None or not times or len(times) != len(calls):
        return None
    inside = [i for i, t in enumerate(times) if window.start_s <= t <= window.end_s]
    if len(inside) < 2:
        return None
    first, last = inside[0], inside[-1]
    sources = (
        source(case.file, case.path(f"timeseries.api_calls[{last}]")),
        source(case.file, case.path(f"timeseries.api_calls[{first}]")),
    )
    return Num(int(calls[last] - calls[first]), sources, "diff")


def stream_span_s(case: Case) -> float | None:
    """Return the simulated seconds covered by ``stream_calls``."""
    window = stream_window(case)
    times = _series(case, "t_s")
    if window is None:
        return None
    inside = [t for t in times if window.start_s <= t <= window.end_s]
    if len(inside) < 2:
        return None
    return inside[-1] - inside[0]
