"""The span tree and timeline of a very large trace, drawn from its outline (spans without payloads):
rows in depth-first order, a window of them rendered by the server and the rest fetched as JSON by the
page's script. One span's payloads are read at a time (see docs/ui.md, "Large traces")."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from heron.tracing.overview import SpanOutline
from heron.ui.trace_view import duration_text

__all__ = ["FIRST_SCREEN", "LAZY_SPANS", "OutlineRow", "outline_rows", "row_json"]

LAZY_SPANS = 300  # a trace with more spans than this renders lazily
FIRST_SCREEN = 200  # rows of tree and timeline in the page itself; the rest come in chunks
_MAX_DEPTH = 200


@dataclass(frozen=True)
class OutlineRow:
    span_id: str
    name: str
    span_type: str
    status: str
    depth: int
    offset_pct: float
    width_pct: float
    duration: str
    has_children: bool


def outline_rows(outline: list[SpanOutline], first: int = 0, count: int | None = None) -> tuple[list[OutlineRow], int]:
    """Rows ``first`` to ``first + count`` of the spans in depth-first order (children by start time), with
    timeline offsets in percent, and the number of rows in all. Only the rows asked for are formatted."""
    start_ns = min((s.start_time_ns for s in outline), default=0)
    end_ns = max((s.end_time_ns for s in outline), default=0)
    total_ns = max(end_ns - start_ns, 1)
    ids = {s.span_id for s in outline}
    children: dict[str | None, list[SpanOutline]] = {}
    for span in outline:  # already by start time
        parent = span.parent_id if span.parent_id in ids and span.parent_id != span.span_id else None
        children.setdefault(parent, []).append(span)
    order: list[tuple[SpanOutline, int, bool]] = []
    seen: set[str] = set()
    stack = [(span, 0) for span in reversed(children.get(None, []))]
    while stack:  # iterative: a deep trace must not exhaust Python's recursion limit
        span, depth = stack.pop()
        if span.span_id in seen:
            continue
        seen.add(span.span_id)
        kids = children.get(span.span_id, []) if depth < _MAX_DEPTH else []
        order.append((span, depth, bool(kids)))
        stack.extend((kid, depth + 1) for kid in reversed(kids))
    rows = []
    for span, depth, has_children in order[first:None if count is None else first + count]:
        offset = min(max((span.start_time_ns - start_ns) / total_ns * 100, 0.0), 99.7)
        width = min(max((span.end_time_ns - span.start_time_ns) / total_ns * 100, 0.3), 100.0 - offset)
        rows.append(OutlineRow(span.span_id, span.name, span.span_type, span.status, depth, round(offset, 3),
                               round(width, 3), duration_text((span.end_time_ns - span.start_time_ns) / 1e6),
                               has_children))
    return rows, len(order)


def row_json(row: OutlineRow) -> dict[str, Any]:
    return asdict(row)
