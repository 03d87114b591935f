"""The traces page's summary strip: totals over the filtered traces and a sparkline of traces per hour,
drawn as inline SVG (a polyline; no script, no library)."""

from __future__ import annotations

from dataclasses import dataclass

from heron.tracing.overview import HOUR_MS, HOURLY_HOURS, TraceSummary
from heron.ui.trace_view import Cost, cost_of, duration_text, time_text

__all__ = ["SPARK_HOURS", "SummaryView", "summary_view"]

SPARK_HOURS = HOURLY_HOURS  # the sparkline shows at most the last week of the filtered set, hour by hour
_WIDTH, _HEIGHT = 240.0, 36.0


@dataclass(frozen=True)
class SummaryView:
    count: int
    errors: int
    p50: str
    p95: str
    input_tokens: int
    output_tokens: int
    cost: Cost
    points: str  # the polyline's "x,y x,y ..." in a 240 x 36 box; "" without traces
    peak: int  # traces in the busiest hour drawn
    span_text: str  # what the sparkline covers, e.g. "48 h to 2026-11-22 14:00 UTC"


def summary_view(summary: TraceSummary) -> SummaryView:
    points, peak, span_text = "", 0, ""
    if summary.hourly:
        last = summary.hourly[-1][0]
        first = max(summary.hourly[0][0], last - (SPARK_HOURS - 1) * HOUR_MS)
        hours = (last - first) // HOUR_MS + 1
        counts = [0] * hours
        for hour, count in summary.hourly:
            if hour >= first:
                counts[(hour - first) // HOUR_MS] = count
        peak = max(counts)
        step = _WIDTH / max(hours - 1, 1)
        coords = [(i * step, _HEIGHT - 2 - (c / peak) * (_HEIGHT - 4)) for i, c in enumerate(counts)]
        if len(coords) == 1:
            coords.append((_WIDTH, coords[0][1]))
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        span_text = f"{hours} h to {time_text(last + HOUR_MS)}"
    return SummaryView(
        count=summary.count,
        errors=summary.errors,
        p50=duration_text(summary.p50_ms),
        p95=duration_text(summary.p95_ms),
        input_tokens=summary.input_tokens,
        output_tokens=summary.output_tokens,
        cost=cost_of(summary.cost, summary.unpriced > 0),
        points=points,
        peak=peak,
        span_text=span_text,
    )
