"""Discovery of the solutions to benchmark.

Three sources, in this order: the four built-in solutions, classes named by installed
packages under the ``pytest_syncbench.solutions`` entry-point group, and classes returned by
``pytest_syncbench_solutions`` hooks in conftest files. A later solution with the name of an
earlier one replaces it, so a project can swap in its own version of a built-in.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from pytest_syncbench.solution import Solution

BUILTIN = (
    "solutions.direct_polling:DirectPolling",
    "solutions.webhook_sync:WebhookSync",
    "solutions.hybrid_cdc:HybridCdc",
    "solutions.native_integration:NativeIntegration",
)
ENTRY_POINT_GROUP = "pytest_syncbench.solutions"


def load(path: str) -> type[Solution]:
    module_name, _, attr = path.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    return check(cls, path)


def check(cls: Any, origin: str) -> type[Solution]:
    if not (isinstance(cls, type) and issubclass(cls, Solution)):
        raise TypeError(
            f"{origin} is not a subclass of pytest_syncbench.Solution: {cls!r}"
        )
    if not getattr(cls, "name", None):
        raise TypeError(f"{origin} has no 'name' class attribute")
    return cls


def discover(pluginmanager: Any | None = None) -> dict[str, type[Solution]]:
    found: dict[str, type[Solution]] = {}
    for path in BUILTIN:
        cls = load(path)
        found[cls.name] = cls
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        cls = check(entry.load(), f"entry point {entry.name!r}")
        found[cls.name] = cls
    if pluginmanager is not None:
        for classes in pluginmanager.hook.pytest_syncbench_solutions():
            for cls in classes or ():
                cls = check(cls, "pytest_syncbench_solutions()")
                found[cls.name] = cls
    return found
