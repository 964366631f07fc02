"""pytest-syncbench: benchmark HubSpot-to-Databox sync architectures on a virtual clock."""

from pytest_syncbench.solution import (
    DataboxAccess,
    Delivery,
    HubSpotAccess,
    Solution,
    SolutionContext,
)

__all__ = ["DataboxAccess", "Delivery", "HubSpotAccess", "Solution", "SolutionContext"]
