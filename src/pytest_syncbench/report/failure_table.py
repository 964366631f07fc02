"""The failure-mode cases (scenarios named ``failure-*``) of question 4.

A solution survives a mode when its case converged with no data loss and no missing,
stale, ghost or duplicated row at the end, as in docs/failure-modes.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_syncbench.report.dataset import Dataset, num
from pytest_syncbench.report.figures import Num, Piece, Table
from pytest_syncbench.report.load import Case

PREFIX = "failure-"
_DEFECTS = (
    "data_loss",
    "consistency.missing",
    "consistency.stale",
    "consistency.ghost",
    "consistency.duplicated",
)


@dataclass(frozen=True)
class FailureModes:
    """The table of failure-mode outcomes and the sentences that judge it."""

    table: Table
    verdict: list[Piece]


def survives(case: Case) -> bool:
    """Return whether a case converged with no loss and no inconsistent row."""
    if case.info.get("status") != "converged":
        return False
    return not any(num(case, field).value for field in _DEFECTS)


def failure_modes(dataset: Dataset) -> FailureModes | None:
    """Return the failure-mode table, or None when the input has no such case."""
    modes = [s for s in dataset.scenarios if s.startswith(PREFIX)]
    if not modes:
        return None
    table = Table(
        [
            "mode",
            "solution",
            "status",
            "data loss",
            "missing",
            "stale",
            "ghosts",
            "duplicates",
            "survives",
        ],
        caption="failure modes: survives = converged, no data loss and no missing, "
        "stale, ghost or duplicated row at the end",
    )
    outcome: dict[str, list[bool]] = {}
    for mode in modes:
        for name in dataset.solutions:
            case = dataset.case(mode, name)
            if case is None:
                continue
            ok = survives(case)
            outcome.setdefault(name, []).append(ok)
            table.rows.append(
                [
                    mode,
                    name,
                    str(case.info.get("status")),
                    num(case, "data_loss"),
                    num(case, "consistency.missing"),
                    num(case, "consistency.stale"),
                    num(case, "consistency.ghost"),
                    num(case, "consistency.duplicated"),
                    "yes" if ok else "no",
                ]
            )
    return FailureModes(table, _verdict(dataset, modes, outcome, table))


def _verdict(
    dataset: Dataset,
    modes: list[str],
    outcome: dict[str, list[bool]],
    table: Table,
) -> list[Piece]:
    complete = [n for n, results in outcome.items() if len(results) == len(modes)]
    partial = [n for n in outcome if n not in complete]
    survivors = [n for n in complete if all(outcome[n])]
    pieces: list[Piece] = []
    if survivors:
        pieces.append(
            f"Of the {len(modes)} failure modes in the input, {', '.join(survivors)} "
            "survived all of them."
        )
    else:
        pieces.append(
            f"No solution survived all {len(modes)} failure modes in the input."
        )
    for name in complete:
        failed = [row for row in table.rows if row[1] == name and row[8] == "no"]
        if not failed:
            continue
        lost = [row[3] for row in failed if isinstance(row[3], Num)]
        pieces += [
            f" {name} failed {', '.join(str(row[0]) for row in failed)} (data loss ",
            *_joined(lost),
            ").",
        ]
    if partial:
        pieces.append(f" Not run in every mode, so not judged: {', '.join(partial)}.")
    return pieces


def _joined(nums: list[Num]) -> list[Piece]:
    pieces: list[Piece] = []
    for index, value in enumerate(nums):
        if index:
            pieces.append(", ")
        pieces.append(value)
    return pieces
