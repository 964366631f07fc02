"""The price file: defaults shipped in ``prices.toml``, overridden by ``--prices FILE``.

Each entry is either a table ``{ value = ..., source = "..." }`` or a bare value, which is
then cited as coming from the user's file. A user's file only needs the keys it changes.
Unknown sections or keys, and values of the wrong type, raise PriceError naming the file
and the key.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pytest_syncbench.scenarios import SCENARIO_NAMES

DEFAULT_FILE = "prices.toml"
SOLUTION_KEYS = ("instances", "redis", "self_built", "fee_usd_per_month")
# The type of every key: "number" (finite, >= 0), "positive" (finite, > 0, for a
# divisor or a period), "count" (integer >= 0), "positive count" (integer >= 1),
# "bool", or "scenario" (a scenario name from scenarios.py).
_KINDS = {
    "projection.scenario": "scenario",
    "projection.horizon_months": "positive count",
    "projection.hours_per_month": "positive",
    "hubspot.limit_increase_requests_per_day": "positive count",
    "hubspot.max_limit_increases": "count",
    "hubspot.limit_increase_usd_per_month": "number",
    "compute.vcpu_hour_usd": "number",
    "compute.gb_hour_usd": "number",
    "compute.min_vcpu": "number",
    "compute.memory_gb": "number",
    "redis.node_hour_usd": "number",
    "engineering.hourly_rate_usd": "number",
    "engineering.logical_lines_per_hour": "positive",
    "engineering.branch_weight": "number",
    "engineering.maintenance_share_per_year": "number",
}
_SOLUTION_KINDS = {
    "instances": "count",
    "redis": "count",
    "self_built": "bool",
    "fee_usd_per_month": "number",
}
# The deployment assumed for a solution the price file does not name.
_UNNAMED_SOLUTION = {
    "instances": 1,
    "redis": 0,
    "self_built": True,
    "fee_usd_per_month": 0.0,
}
_EXPECTED = {
    "number": "a finite number >= 0",
    "positive": "a finite number > 0",
    "count": "an integer >= 0",
    "positive count": "an integer >= 1",
    "bool": "true or false",
    "scenario": f"one of the scenario names {', '.join(SCENARIO_NAMES)}",
}


class PriceError(Exception):
    """An unusable price file; the message names the file, the key and the fix."""


@dataclass(frozen=True)
class Price:
    """One price or setting and where its value comes from."""

    value: Any
    source: str


@dataclass(frozen=True)
class Prices:
    """Every price, keyed by dotted name (``compute.vcpu_hour_usd``)."""

    origin: str
    items: dict[str, Price]

    def number(self, key: str) -> float:
        return float(self.items[key].value)

    def text(self, key: str) -> str:
        return str(self.items[key].value)

    def solution(self, name: str, key: str) -> Price:
        """Return a deployment setting of a solution, or the default for unnamed ones."""
        found = self.items.get(f"solutions.{name}.{key}")
        if found is not None:
            return found
        return Price(
            _UNNAMED_SOLUTION[key],
            f"assumption: {name} has no entry in the price file, so one self-built "
            "instance without Redis is assumed",
        )


def _valid(kind: str, value: Any) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "scenario":
        return value in SCENARIO_NAMES
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if not math.isfinite(value):
        return False
    if kind == "count":
        return isinstance(value, int) and value >= 0
    if kind == "positive count":
        return isinstance(value, int) and value >= 1
    if kind == "positive":
        return value > 0
    return value >= 0


def _entry(origin: str, key: str, kind: str, raw: Any, default_source: str) -> Price:
    if isinstance(raw, dict):
        unknown = sorted(set(raw) - {"value", "source"})
        if unknown or "value" not in raw:
            raise PriceError(
                f'{origin}: key {key}: expected {{ value = ..., source = "..." }} '
                f"or a bare value, got fields {sorted(raw)}"
            )
        value, cited = raw["value"], raw.get("source", default_source)
        if not isinstance(cited, str):
            raise PriceError(f"{origin}: key {key}.source: expected a string")
    else:
        value, cited = raw, default_source
    if not _valid(kind, value):
        raise PriceError(
            f"{origin}: key {key}: expected {_EXPECTED[kind]}, got {value!r}"
        )
    return Price(value, cited)


def _flatten(
    origin: str, data: dict[str, Any], default_source: str
) -> dict[str, Price]:
    items: dict[str, Price] = {}
    known_sections = {k.partition(".")[0] for k in _KINDS} | {"solutions"}
    for section, table in data.items():
        if section not in known_sections:
            raise PriceError(
                f"{origin}: unknown section [{section}]; "
                f"expected one of {', '.join(sorted(known_sections))}"
            )
        if not isinstance(table, dict):
            raise PriceError(f"{origin}: key {section}: expected a table")
        if section == "solutions":
            items.update(_solutions(origin, table, default_source))
            continue
        for name, raw in table.items():
            key = f"{section}.{name}"
            if key not in _KINDS:
                known = ", ".join(k for k in _KINDS if k.startswith(f"{section}."))
                raise PriceError(f"{origin}: unknown key {key}; known keys: {known}")
            items[key] = _entry(origin, key, _KINDS[key], raw, default_source)
    return items


def _solutions(
    origin: str, table: dict[str, Any], default_source: str
) -> dict[str, Price]:
    items: dict[str, Price] = {}
    for solution, settings in table.items():
        if not isinstance(settings, dict):
            raise PriceError(f"{origin}: key solutions.{solution}: expected a table")
        for name, raw in settings.items():
            key = f"solutions.{solution}.{name}"
            if name not in _SOLUTION_KINDS:
                raise PriceError(
                    f"{origin}: unknown key {key}; known keys of a solution: "
                    f"{', '.join(SOLUTION_KEYS)}"
                )
            items[key] = _entry(origin, key, _SOLUTION_KINDS[name], raw, default_source)
    return items


def _parse(origin: str, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PriceError(f"{origin}: not valid TOML ({error})") from None


def default_text() -> str:
    return resources.files(__package__).joinpath(DEFAULT_FILE).read_text("utf-8")


def load_prices(path: Path | None = None) -> Prices:
    """Return the default prices, with the keys of ``path`` replacing them."""
    items = _flatten(DEFAULT_FILE, _parse(DEFAULT_FILE, default_text()), "default")
    if path is None:
        return Prices(DEFAULT_FILE, items)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PriceError(
            f"{path}: price file not found; pass a TOML file like the default "
            "(syncbench report --print-prices prints it)"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise PriceError(f"{path}: cannot read the price file ({error})") from None
    items.update(_flatten(str(path), _parse(str(path), text), f"set in {path.name}"))
    return Prices(str(path), items)
