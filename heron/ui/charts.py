"""Line charts of metric histories as plain geometry for an inline SVG (drawn by ``chart.html``).

The server computes every coordinate, so a chart reads without JavaScript; each point carries its value
as text for an SVG ``<title>`` (the browser's hover tooltip). Only finite values are drawn: NaN and
±inf are counted in ``skipped``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from heron.tracking.entities import Metric

__all__ = ["Chart", "Point", "Series", "chart", "number_text"]

WIDTH = 560
HEIGHT = 210
_LEFT, _RIGHT, _TOP, _BOTTOM = 62, 14, 12, 30
MAX_POINTS = 400  # per series: longer histories are thinned evenly (first and last kept)
MAX_MARKERS = 120  # hover markers per series; the line itself keeps MAX_POINTS


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    step: int
    value: float
    label: str  # "step 3: 0.912"


@dataclass(frozen=True)
class Series:
    name: str
    index: int  # colour slot, 0..9
    points: str  # the polyline's "x,y x,y ..."
    markers: tuple[Point, ...]
    skipped: int  # non-finite values not drawn
    count: int  # values logged


@dataclass(frozen=True)
class Tick:
    pos: float
    text: str


@dataclass(frozen=True)
class Chart:
    key: str
    width: int
    height: int
    series: tuple[Series, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int

    @property
    def empty(self) -> bool:
        return not any(s.markers for s in self.series)


def number_text(value: float) -> str:
    """A metric value for people: up to 6 significant digits, ``NaN``, ``inf``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _thin(items: Sequence[Metric], limit: int) -> list[Metric]:
    if len(items) <= limit:
        return list(items)
    stride = (len(items) - 1) / (limit - 1)
    return [items[round(i * stride)] for i in range(limit)]


def _ticks(low: float, high: float, count: int = 3) -> list[float]:
    if high == low:
        return [low]
    return [low + (high - low) * i / (count - 1) for i in range(count)]


def chart(key: str, histories: Sequence[tuple[str, Sequence[Metric]]]) -> Chart:
    """One chart for ``key`` with a line per ``(series name, history)``; x is the step, y the value.

    A history whose steps are all equal (values logged without steps) is drawn against its index.
    """
    finite: list[list[tuple[float, Metric]]] = []
    skipped: list[int] = []
    for _, history in histories:
        values = [m for m in history if math.isfinite(m.value)]
        skipped.append(len(history) - len(values))
        by_index = len(values) > 1 and len({m.step for m in values}) == 1
        finite.append([(float(i if by_index else m.step), m) for i, m in enumerate(values)])
    xs = [x for series in finite for x, _ in series]
    ys = [m.value for series in finite for _, m in series]
    plot_left, plot_right = _LEFT, WIDTH - _RIGHT
    plot_top, plot_bottom = _TOP, HEIGHT - _BOTTOM
    x_low, x_high = (min(xs), max(xs)) if xs else (0.0, 1.0)
    y_low, y_high = (min(ys), max(ys)) if ys else (0.0, 1.0)

    def sx(x: float) -> float:
        if x_high == x_low:
            return (plot_left + plot_right) / 2
        return plot_left + (x - x_low) / (x_high - x_low) * (plot_right - plot_left)

    def sy(y: float) -> float:
        if y_high == y_low:
            return (plot_top + plot_bottom) / 2
        return plot_bottom - (y - y_low) / (y_high - y_low) * (plot_bottom - plot_top)

    series = []
    for index, ((name, history), placed, lost) in enumerate(zip(histories, finite, skipped, strict=True)):
        kept = _thin([m for _, m in placed], MAX_POINTS)
        x_of = {id(m): x for x, m in placed}
        coords = [(round(sx(x_of[id(m)]), 1), round(sy(m.value), 1), m) for m in kept]
        marked = _thin([m for *_, m in coords], MAX_MARKERS)
        where = {id(m): (x, y) for x, y, m in coords}
        prefix = f"{name} · " if len(histories) > 1 else ""
        markers = tuple(
            Point(where[id(m)][0], where[id(m)][1], m.step, m.value,
                  f"{prefix}step {m.step}: {number_text(m.value)}")
            for m in marked
        )
        series.append(Series(name, index % 10, " ".join(f"{x},{y}" for x, y, _ in coords), markers, lost,
                             len(history)))
    x_values = _ticks(x_low, x_high)
    if all(x == int(x) for x in xs):  # steps: whole-number ticks only
        x_values = sorted({float(round(x)) for x in x_values})
    x_ticks = tuple(Tick(round(sx(x), 1), number_text(round(x, 3))) for x in x_values)
    y_ticks = tuple(Tick(round(sy(y), 1), f"{y:.4g}") for y in _ticks(y_low, y_high))  # the points say more
    return Chart(key, WIDTH, HEIGHT, tuple(series), x_ticks, y_ticks, plot_left, plot_right, plot_top, plot_bottom)
