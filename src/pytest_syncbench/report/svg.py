"""Inline SVG charts: lines, boxes and grouped bars, with no script and no external file.

Every chart is an ``<svg class="plot">`` element whose ``data-kind`` names the chart type
and whose ``data-series`` counts the drawn series, and every drawn series or bar carries
``data-src``: the JSON path of the values it shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from pytest_syncbench.report.figures import Num, format_value

PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#17becf",
    "#7f7f7f",
)
WIDTH, HEIGHT = 580, 280
LEFT, RIGHT, TOP, BOTTOM = 70, 140, 30, 44
MARKED_POINTS = 20


@dataclass(frozen=True)
class Line:
    """One series of a line chart; ``ys`` may hold ``None`` for a missing sample."""

    name: str
    xs: Sequence[float]
    ys: Sequence[float | None]
    source: str


@dataclass(frozen=True)
class Box:
    """A latency distribution: quartiles from the timing statistics, tail percentiles."""

    label: str
    low: float
    q1: float
    median: float
    q3: float
    p95: float
    p99: float
    high: float
    sources: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Band:
    """A shaded stretch of the x axis, such as an outage."""

    start: float
    end: float
    label: str


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _step(low: float, high: float, count: int = 5) -> float:
    """Return a tick spacing of 1, 2 or 5 times a power of ten, about ``count`` a span."""
    raw = (high - low) / count if high > low else 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + 1
    step = _step(low, high, count)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        if value >= low - step * 1e-9:
            ticks.append(round(value, 10))
        value += step
    return ticks


class _Axes:
    """Maps data to pixels on a linear x axis and a linear or log10 y axis."""

    def __init__(
        self, x_range: tuple[float, float], y_range: tuple[float, float], log_y: bool
    ) -> None:
        self.x0, self.x1 = x_range
        if self.x1 <= self.x0:
            self.x1 = self.x0 + 1
        self.log_y = log_y
        y0, y1 = y_range
        if log_y:
            y0 = 10 ** math.floor(math.log10(max(y0, 1e-3)))
            y1 = 10 ** math.ceil(math.log10(max(y1, y0 * 10)))
        else:
            y0 = min(0.0, y0)
            y1 = y1 if y1 > y0 else y0 + 1
            step = _step(y0, y1)
            y1 = math.ceil(y1 / step) * step
        self.y0, self.y1 = y0, y1
        self.plot_w = WIDTH - LEFT - RIGHT
        self.plot_h = HEIGHT - TOP - BOTTOM

    def x(self, value: float) -> float:
        return LEFT + (value - self.x0) / (self.x1 - self.x0) * self.plot_w

    def y(self, value: float) -> float:
        if self.log_y:
            value = max(value, self.y0)
            span = math.log10(self.y1) - math.log10(self.y0)
            share = (math.log10(value) - math.log10(self.y0)) / span
        else:
            share = (value - self.y0) / (self.y1 - self.y0)
        return TOP + self.plot_h * (1 - share)

    def y_ticks(self) -> list[float]:
        if self.log_y:
            low, high = round(math.log10(self.y0)), round(math.log10(self.y1))
            return [10.0**p for p in range(low, high + 1)]
        return _nice_ticks(self.y0, self.y1)

    def frame(
        self, x_label: str, y_label: str, x_ticks: bool = True, integer_x: bool = False
    ) -> list[str]:
        parts = [
            f'<rect x="{LEFT}" y="{TOP}" width="{self.plot_w}" height="{self.plot_h}" '
            'fill="#fff" stroke="#999"/>'
        ]
        for tick in self.y_ticks():
            y = self.y(tick)
            parts.append(
                f'<line x1="{LEFT}" x2="{LEFT + self.plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                'stroke="#eee"/>'
                f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
                f'font-size="11">{escape(format_value(tick))}</text>'
            )
        if x_ticks:
            for tick in _nice_ticks(self.x0, self.x1, 6):
                if integer_x and not float(tick).is_integer():
                    continue
                x = self.x(tick)
                parts.append(
                    f'<text x="{x:.1f}" y="{TOP + self.plot_h + 16}" text-anchor="middle" '
                    f'font-size="11">{escape(format_value(tick))}</text>'
                )
        parts.append(
            f'<text x="{LEFT + self.plot_w / 2:.1f}" y="{HEIGHT - 6}" '
            f'text-anchor="middle" font-size="12">{escape(x_label)}</text>'
            f'<text x="14" y="{TOP + self.plot_h / 2:.1f}" text-anchor="middle" '
            f'font-size="12" transform="rotate(-90 14 {TOP + self.plot_h / 2:.1f})">'
            f"{escape(y_label)}</text>"
        )
        return parts


def _legend(names: Sequence[str]) -> list[str]:
    parts = []
    for index, name in enumerate(names):
        y = TOP + 8 + index * 18
        x = WIDTH - RIGHT + 12
        parts.append(
            f'<rect x="{x}" y="{y - 8}" width="12" height="10" fill="{color(index)}"/>'
            f'<text x="{x + 18}" y="{y + 1}" font-size="11">{escape(name)}</text>'
        )
    return parts


def _open(chart_id: str, kind: str, title: str, series: int) -> str:
    return (
        f'<svg class="plot" id="{escape(chart_id)}" data-kind="{kind}" '
        f'data-series="{series}" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<text x="{LEFT}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>'
    )


def line_chart(
    chart_id: str,
    title: str,
    lines: Sequence[Line],
    x_label: str,
    y_label: str,
    bands: Sequence[Band] = (),
    log_y: bool = False,
    integer_x: bool = False,
) -> str:
    """Draw one polyline per series, with optional shaded bands behind them."""
    xs = [x for line in lines for x in line.xs]
    ys = [y for line in lines for y in line.ys if y is not None]
    if log_y:
        ys = [y for y in ys if y > 0]
    axes = _Axes(
        (min(xs, default=0.0), max(xs, default=1.0)),
        (min(ys, default=0.0), max(ys, default=1.0)),
        log_y,
    )
    parts = [_open(chart_id, "line", title, len(lines))]
    parts += axes.frame(x_label, y_label, integer_x=integer_x)
    for band in bands:
        x0, x1 = axes.x(max(band.start, axes.x0)), axes.x(min(band.end, axes.x1))
        if x1 <= x0:
            continue
        parts.append(
            f'<rect class="band" x="{x0:.1f}" y="{TOP}" width="{x1 - x0:.1f}" '
            f'height="{axes.plot_h}" fill="#f4c7c3" opacity="0.5"/>'
            f'<text x="{x0 + 3:.1f}" y="{TOP + 12}" font-size="10">{escape(band.label)}</text>'
        )
    for index, line in enumerate(lines):
        drawn = [
            (axes.x(x), axes.y(y))
            for x, y in zip(line.xs, line.ys, strict=True)
            if y is not None and (y > 0 or not log_y)
        ]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in drawn)
        parts.append(
            f'<polyline class="series" data-name="{escape(line.name)}" '
            f'data-src="{escape(line.source)}" fill="none" stroke="{color(index)}" '
            f'stroke-width="1.6" points="{points}"/>'
        )
        # A few points (saved runs, sweep sizes) get markers, so a single one shows.
        if len(drawn) <= MARKED_POINTS:
            parts += [
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color(index)}"/>'
                for x, y in drawn
            ]
    parts += _legend([line.name for line in lines])
    parts.append("</svg>")
    return "".join(parts)


def box_chart(chart_id: str, title: str, boxes: Sequence[Box], y_label: str) -> str:
    """Draw a box (q1 to q3, median line) per distribution on a log10 axis.

    Whiskers reach from the minimum to the maximum; dots mark p95 and p99.
    """
    values = [
        v
        for b in boxes
        for v in (b.low, b.q1, b.median, b.q3, b.p95, b.p99, b.high)
        if v > 0
    ]
    axes = _Axes(
        (0, max(len(boxes), 1)),
        (min(values, default=0.1), max(values, default=1)),
        True,
    )
    parts = [_open(chart_id, "box", title, len(boxes))]
    parts += axes.frame("", y_label, x_ticks=False)
    slot = axes.plot_w / max(len(boxes), 1)
    for index, box in enumerate(boxes):
        center = LEFT + slot * (index + 0.5)
        half = min(slot * 0.3, 24)
        fill = color(index)
        parts.append(
            f'<g class="box" data-name="{escape(box.label)}" '
            f'data-src="{escape(";".join(box.sources))}">'
            f'<line x1="{center:.1f}" x2="{center:.1f}" y1="{axes.y(box.low):.1f}" '
            f'y2="{axes.y(box.high):.1f}" stroke="#333"/>'
            f'<rect x="{center - half:.1f}" y="{axes.y(box.q3):.1f}" width="{2 * half:.1f}" '
            f'height="{max(axes.y(box.q1) - axes.y(box.q3), 1):.1f}" fill="{fill}" '
            'opacity="0.6" stroke="#333"/>'
            f'<line x1="{center - half:.1f}" x2="{center + half:.1f}" '
            f'y1="{axes.y(box.median):.1f}" y2="{axes.y(box.median):.1f}" stroke="#000" '
            'stroke-width="2"/>'
            f'<circle cx="{center:.1f}" cy="{axes.y(box.p95):.1f}" r="3" fill="#000"/>'
            f'<circle cx="{center:.1f}" cy="{axes.y(box.p99):.1f}" r="3" fill="#fff" '
            'stroke="#000"/>'
            f'<text x="{center:.1f}" y="{TOP + axes.plot_h + 16}" text-anchor="middle" '
            f'font-size="10">{escape(box.label)}</text></g>'
        )
    parts.append(
        f'<text x="{WIDTH - RIGHT + 12}" y="{TOP + 12}" font-size="10">box: q1-q3, '
        "bar: median</text>"
        f'<text x="{WIDTH - RIGHT + 12}" y="{TOP + 28}" font-size="10">whiskers: '
        "min-max</text>"
        f'<text x="{WIDTH - RIGHT + 12}" y="{TOP + 44}" font-size="10">dots: p95 (filled),'
        "</text>"
        f'<text x="{WIDTH - RIGHT + 12}" y="{TOP + 58}" font-size="10">p99 (open)</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[Num | None]]],
    y_label: str,
) -> str:
    """Draw grouped bars: one group per category, one bar per series in each."""
    values = [n.value for _, nums in series for n in nums if n is not None and n.value]
    axes = _Axes((0, max(len(categories), 1)), (0, max(values, default=1.0)), False)
    drawn = sum(1 for _, nums in series if any(n is not None for n in nums))
    parts = [_open(chart_id, "bar", title, drawn)]
    parts += axes.frame("", y_label, x_ticks=False)
    slot = axes.plot_w / max(len(categories), 1)
    width = slot * 0.8 / max(len(series), 1)
    for c_index, category in enumerate(categories):
        left = LEFT + slot * c_index + slot * 0.1
        for s_index, (name, nums) in enumerate(series):
            item = nums[c_index] if c_index < len(nums) else None
            if item is None or item.value is None:
                continue
            top = axes.y(item.value)
            parts.append(
                f'<rect class="bar" data-name="{escape(name)}" '
                f'data-src="{escape(";".join(item.sources))}" data-value="{item.value}" '
                f'x="{left + s_index * width:.1f}" y="{top:.1f}" width="{width:.1f}" '
                f'height="{max(TOP + axes.plot_h - top, 0.5):.1f}" fill="{color(s_index)}">'
                f"<title>{escape(name)} {escape(category)}: {escape(item.text)}</title></rect>"
            )
        parts.append(
            f'<text x="{LEFT + slot * (c_index + 0.5):.1f}" y="{TOP + axes.plot_h + 16}" '
            f'text-anchor="middle" font-size="11">{escape(category)}</text>'
        )
    parts += _legend([name for name, _ in series])
    parts.append("</svg>")
    return "".join(parts)
