"""Observers of a running case, for metrics that are watched while a case runs.

The harness calls every observer of ``CaseSetup.observers`` on the case's loop: once when
the solution has started, after every watch tick (5 simulated seconds), and once when the
case has ended and its final consistency is known. An observer reads the run through
:class:`CaseView`. It must be quick, because it runs between the case's own callbacks. The
CPU it takes is charged to the harness, not to the solution or the mocks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pytest_syncbench.clock import Clock
    from pytest_syncbench.databox.server import DataboxMock
    from pytest_syncbench.harness import CaseSetup
    from pytest_syncbench.hubspot.server import HubSpotMock
    from pytest_syncbench.hubspot.store import Store
    from pytest_syncbench.metrics.consistency import Consistency
    from pytest_syncbench.metrics.delivery import DeliveryTracker
    from pytest_syncbench.solution import Solution


class CaseView(Protocol):
    """The parts of a running case that an observer may read."""

    setup: CaseSetup
    clock: Clock
    store: Store
    tracker: DeliveryTracker
    hubspot: HubSpotMock | None
    databox: DataboxMock | None
    solution: Solution | None
    # Changes with a smaller seq are the seeded companies, left out of the latency figures
    # unless the scenario measures them.
    measure_from_seq: int
    # "failed" until the case ends; then "converged", "deadline" or "failed".
    status: str
    # The destination compared with HubSpot when the case ended.
    final: Consistency

    def consistency_now(self) -> Consistency:
        """Compare the destination with HubSpot now; costs a pass over every company."""
        ...


class CaseObserver(Protocol):
    def case_started(self, view: CaseView) -> None: ...

    def tick(self, view: CaseView) -> None: ...

    def case_ended(self, view: CaseView) -> None: ...


def describe(view: CaseView) -> dict[str, Any]:
    """Return the labels that name the case: its scenario and solution."""
    return {
        "scenario": view.setup.spec.name,
        "solution": view.setup.solution_cls.name,
    }
