"""Build a solution's settings dataclass from a scenario's overrides."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

S = TypeVar("S")


def load_settings(cls: type[S], overrides: Mapping[str, Any]) -> S:
    """Return ``cls`` with its defaults replaced by ``overrides``, by field name.

    An unknown name raises ValueError naming it and the fields there are, so a typo in a
    scenario fails at start instead of silently running with the default.
    """
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(
            f"unknown setting(s) {', '.join(map(repr, unknown))} for {cls.__name__}: "
            f"expected some of {', '.join(sorted(fields))}"
        )
    return cls(**overrides)
