"""Hooks a project can implement in its conftest.py to extend the suite."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec
def pytest_syncbench_solutions() -> list[Any]:
    """Return Solution subclasses to benchmark beside the built-in four.

    Example, in conftest.py::

        from my_sync import MySync  # subclasses pytest_syncbench.Solution

        def pytest_syncbench_solutions():
            return [MySync]
    """
    raise NotImplementedError
