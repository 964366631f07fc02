"""Question 4: how each solution recovers from the outage and the write burst.

Results saved by current code carry exact recovery fields (``recovery_s``, ``drain_s``,
``catchup_per_s``, see docs/metrics.md). For older results without them, the recovery
is estimated from the 60-second timeseries samples (``timeline.recovery``), and the
report names which cases were estimated.
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_syncbench.report.dataset import Dataset, num, total
from pytest_syncbench.report.failure_table import failure_modes
from pytest_syncbench.report.figures import Num, Piece, Section, Table
from pytest_syncbench.report.load import Case
from pytest_syncbench.report.timeline import disruption, recovery

OUTAGE = "outage"
BURST = "burst"
NOT_RECOVERED = "not recovered"


@dataclass(frozen=True)
class Recovery:
    """The recovery of one case: a number of seconds, or text, and how it was found."""

    cell: Piece
    exact: bool


def case_recovery(case: Case | None, field: str) -> Recovery | None:
    """Return the case's ``field`` (``recovery_s`` or ``drain_s``), else an estimate.

    ``None`` when the case is absent or neither the field nor an estimate exists.
    """
    if case is None:
        return None
    if field in case.info:
        value = case.info[field]
        if value is None:
            return Recovery(NOT_RECOVERED, exact=True)
        return Recovery(num(case, field, "s"), exact=True)
    window = disruption(case)
    if window is None:
        return None
    estimated = recovery(case, window)
    if estimated is None:
        return None
    if estimated.value is None:
        return Recovery(NOT_RECOVERED, exact=False)
    return Recovery(estimated, exact=False)


def _cell(found: Recovery | None) -> Piece:
    return "n/a" if found is None else found.cell


def recovery_cell(case: Case | None) -> Piece:
    """Return the outage recovery of a case for a table cell."""
    return _cell(case_recovery(case, "recovery_s"))


def failures(dataset: Dataset) -> Section:
    section = Section("failures", "4. What are the failure modes and recovery times?")
    table = Table(
        [
            "solution",
            "outage recovery s",
            "outage catch-up changes/s",
            "outage max backlog",
            "outage p99 s",
            "outage data loss",
            "burst drain s",
            "burst max backlog",
            "429s (all)",
            "webhook events dropped",
            "data loss (all)",
            "unfinished cases",
        ],
        caption="outage recovery: simulated seconds from the end of the fault until "
        "every change committed by then is visible; burst drain: from the last write "
        "until nothing is pending",
    )
    outage_recoveries: dict[str, Recovery] = {}
    estimated: list[str] = []
    for name in dataset.solutions:
        cases = [c for s in dataset.scenarios if (c := dataset.case(s, name))]
        outage, burst = dataset.case(OUTAGE, name), dataset.case(BURST, name)
        out_rec = case_recovery(outage, "recovery_s")
        burst_rec = case_recovery(burst, "drain_s")
        if out_rec is not None:
            outage_recoveries[name] = out_rec
        for label, found in ((OUTAGE, out_rec), (BURST, burst_rec)):
            if found is not None and not found.exact:
                estimated.append(f"{label}/{name}")
        unfinished = [c.scenario for c in cases if c.info.get("status") != "converged"]
        table.rows.append(
            [
                name,
                _cell(out_rec),
                num(outage, "catchup_per_s", "/s") if outage else "n/a",
                num(outage, "max_backlog") if outage else "n/a",
                num(outage, "latency_s.p99", "s") if outage else "n/a",
                num(outage, "data_loss") if outage else "n/a",
                _cell(burst_rec),
                num(burst, "max_backlog") if burst else "n/a",
                total([num(c, "api_calls.rate_limited") for c in cases]),
                total([num(c, "webhooks.dropped_events") for c in cases]),
                total([num(c, "data_loss") for c in cases]),
                ", ".join(unfinished) or "none",
            ]
        )
    section.tables.append(table)
    section.paragraphs.append(_method_note(estimated))

    modes = failure_modes(dataset)
    if modes is not None:
        section.tables.append(modes.table)

    section.verdict = _verdict(dataset, outage_recoveries, table)
    if any(not found.exact for found in outage_recoveries.values()):
        section.verdict.append(
            " The outage recovery times are estimates from 60-second samples, because "
            "the results have no recovery_s field."
        )
    if modes is not None:
        section.verdict += [" ", *modes.verdict]
    return section


def _method_note(estimated: list[str]) -> list[Piece]:
    if not estimated:
        return [
            "Recovery and drain times are the exact recovery_s and drain_s fields of "
            "the results."
        ]
    return [
        "Estimated from the 60-second timeseries samples, because these results "
        f"have no recovery_s or drain_s field: {', '.join(estimated)}. The estimate "
        "is the first sample after the disruption at or below the backlog before it, "
        "so it is exact only to 60 s and does not show whether late changes were "
        "delivered. Rerun with current code for exact values."
    ]


def _names(cases: list[str]) -> str:
    if len(cases) <= 1:
        return "".join(cases)
    return f"{', '.join(cases[:-1])} and {cases[-1]}"


def _outage_facts(dataset: Dataset, names: list[str]) -> list[Piece]:
    """Return "p99 X s, data loss N" for each of ``names`` in its outage case."""
    pieces: list[Piece] = []
    for index, name in enumerate(names):
        case = dataset.case(OUTAGE, name)
        if case is None:
            continue
        if index:
            pieces.append("; ")
        pieces += [
            f"{name}: outage p99 ",
            num(case, "latency_s.p99", "s"),
            ", data loss ",
            num(case, "data_loss"),
        ]
    return pieces


def _ranking(recoveries: dict[str, Recovery]) -> list[Piece]:
    timed = {
        name: found.cell
        for name, found in recoveries.items()
        if isinstance(found.cell, Num) and found.cell.value is not None
    }
    if not timed:
        return ["No solution caught up after the outage before its run ended. "]
    values = {name: cell.value for name, cell in timed.items()}
    low, high = min(values.values()), max(values.values())
    fastest = [n for n, v in values.items() if v == low]
    slowest = [n for n, v in values.items() if v == high]
    first = timed[fastest[0]]
    if low == high:
        if len(timed) == 1:
            return [f"After the outage, only {fastest[0]} caught up (", first, "). "]
        return [
            f"After the outage, {_names(fastest)} tied: each caught up in ",
            first,
            ". ",
        ]
    fast_word = "tied fastest" if len(fastest) > 1 else "caught up fastest"
    slow_word = "tied slowest" if len(slowest) > 1 else "slowest"
    return [
        f"After the outage, {_names(fastest)} {fast_word} (",
        first,
        f") and {_names(slowest)} {slow_word} (",
        timed[slowest[0]],
        "). ",
    ]


def _verdict(
    dataset: Dataset, recoveries: dict[str, Recovery], table: Table
) -> list[Piece]:
    outages = [n for n in dataset.solutions if dataset.case(OUTAGE, n) is not None]
    if not outages:
        present = ", ".join(dataset.scenarios) or "none"
        return [
            "Not answered: the input has no outage scenario with any solution "
            f"(scenarios present: {present})."
        ]
    pieces = _ranking(recoveries)
    stuck = [n for n, r in recoveries.items() if r.cell == NOT_RECOVERED]
    if stuck:
        pieces.append(f"Not caught up when the run ended: {_names(stuck)}. ")

    worst = max(
        outages,
        key=lambda n: _value(dataset.case(OUTAGE, n), "p99"),
    )
    worst_case = dataset.case(OUTAGE, worst)
    assert worst_case is not None
    pieces += [
        "Recovery time alone hides the wait during the outage: the worst outage p99 "
        f"is {worst}'s (",
        num(worst_case, "latency_s.p99", "s"),
        "). Per solution: ",
        *_outage_facts(dataset, outages),
        ". ",
    ]

    lossy = [str(r[0]) for r in table.rows if isinstance(r[10], Num) and r[10].value]
    pieces.append(
        f"Data lost in some scenario: {', '.join(lossy)}."
        if lossy
        else "No solution lost data in any scenario."
    )
    unfinished = [f"{r[0]} ({r[11]})" for r in table.rows if r[11] != "none"]
    if unfinished:
        pieces.append(f" Cases that did not converge: {'; '.join(unfinished)}.")
    return pieces


def _value(case: Case | None, percentile: str) -> float:
    if case is None:
        return float("-inf")
    value = num(case, f"latency_s.{percentile}").value
    return float("-inf") if value is None else float(value)
