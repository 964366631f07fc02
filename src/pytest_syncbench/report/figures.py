"""The content model of a report: numbers that remember their source, text and tables.

A ``Num`` carries the JSON paths of the fields it was computed from and the operation
that combined them, so the HTML form can embed both and a reader (or a test) can check
the number against the input. The operations are:

- ``value``: the field itself.
- ``reduction_pct``: ``100 * (1 - a / b)``, how much smaller ``a`` is than ``b``.
- ``ratio``: ``a / b``.
- ``diff``: ``a - b``.
- ``sum``: the sum of every source.
- ``percent``: ``100 * a``, a share shown in percent.
- ``mib``: ``a / 1,048,576``, bytes shown in MiB.
- ``OP:A,B``: ``OP`` applied to two derived operands, such as ``reduction_pct:diff,diff``;
  each operand consumes its own sources in order (``value`` one, ``diff`` two).
- ``model``: a cost or projection computed from the sources and the price file; the
  formula is shown in the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

Source = str  # "FILE_NUMBER:json.path", for example "0:benchmarks[3].stats.q1"


def source(file: int, path: str) -> Source:
    return f"{file}:{path}"


def format_value(value: float | int | None, unit: str = "") -> str:
    """Format a number for display: thousands separators, fewer digits as it grows."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        text = f"{value:,}"
    elif not math.isfinite(value):
        text = str(value)
    elif abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 0.001:
        # Three significant digits, without a trailing ".0" or scientific notation.
        text = f"{value:#.3g}".rstrip("0").rstrip(".")
    elif value == 0:
        text = "0"
    else:
        text = f"{value:.1e}"
    if unit == "%":
        return f"{text}%"
    if unit == "$":
        return f"${text}" if value >= 0 else f"-${text[1:]}"
    if unit in ("x", "×"):
        return f"{text}×"
    return f"{text} {unit}" if unit else text


@dataclass(frozen=True)
class Num:
    """A displayed number and the input fields it was computed from."""

    value: float | int | None
    sources: tuple[Source, ...] = ()
    op: str = "value"
    unit: str = ""

    @property
    def text(self) -> str:
        return format_value(self.value, self.unit)


Piece = str | Num


@dataclass
class Table:
    """A table whose cells are text or numbers."""

    headers: list[str]
    rows: list[list[Piece]] = field(default_factory=list)
    caption: str = ""


@dataclass
class Section:
    """A titled part of the report: sentences (lists of pieces), tables and plots."""

    key: str
    title: str
    verdict: list[Piece] = field(default_factory=list)
    paragraphs: list[list[Piece]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    plots: list[str] = field(default_factory=list)


def plain(pieces: list[Piece]) -> str:
    """Join pieces into plain text, numbers formatted."""
    return "".join(p.text if isinstance(p, Num) else p for p in pieces)
