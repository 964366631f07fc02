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

from pytest_syncbench.solution import Delivery, Solution

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
    """Return ``cls`` if it is a usable solution class; raise TypeError naming the fix."""
    if not (isinstance(cls, type) and issubclass(cls, Solution)):
        raise TypeError(
            f"{cls!r} from {origin} is not a subclass of pytest_syncbench.Solution; "
            "subclass it and implement start() and stop()"
        )
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(
            f"{cls.__qualname__} from {origin} has no 'name'; "
            "set a class attribute such as name = 'my-sync'"
        )
    if not isinstance(cls.delivers, Delivery):
        allowed = ", ".join(f"Delivery.{d.name}" for d in Delivery)
        raise TypeError(
            f"{cls.__qualname__}.delivers is {cls.delivers!r}; expected one of {allowed}"
        )
    return cls


def discover(pluginmanager: Any | None = None) -> dict[str, type[Solution]]:
    found: dict[str, type[Solution]] = {}
    for path in BUILTIN:
        cls = load(path)
        found[cls.name] = cls
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        cls = check(entry.load(), f"entry point {entry.name!r}")
        found[cls.name] = cls
    if pluginmanager is None:
        return found
    # Each implementation is called on its own so that an error names the file it is in.
    for impl in pluginmanager.hook.pytest_syncbench_solutions.get_hookimpls():
        origin = f"pytest_syncbench_solutions() in {impl.plugin_name}"
        classes = impl.function()
        if not isinstance(classes, list | tuple):
            raise TypeError(
                f"{origin} returned {classes!r}; return a list of Solution subclasses"
            )
        for cls in classes:
            cls = check(cls, origin)
            found[cls.name] = cls
    return found
