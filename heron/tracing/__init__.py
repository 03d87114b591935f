"""Tracing: OpenTelemetry-based traces of LLM apps, stored and searchable (see docs/tracing.md).

``@trace`` and ``start_span`` record spans; finished spans leave the app's thread through a queue and
are written by a background thread to the tracking store (or sent over OTLP). Importing this package
imports OpenTelemetry; ``import heron`` does not import it.
"""

from __future__ import annotations

from heron.tracing.cost import Price, price_for, set_price
from heron.tracing.decorator import trace
from heron.tracing.fluent import (
    PagedList,
    delete_traces,
    flush_traces,
    get_last_active_trace_id,
    get_trace,
    log_assessment,
    log_expectation,
    log_feedback,
    search_traces,
    stats,
    update_current_trace,
)
from heron.tracing.fluent import reset_for_tests as reset_for_tests  # the test-suite's hook
from heron.tracing.pending import PendingSpan
from heron.tracing.provider import configure
from heron.tracing.records import (
    Assessment,
    AssessmentSource,
    Span,
    SpanEvent,
    SpanStatus,
    Trace,
    TraceData,
    TraceInfo,
    TraceStatus,
)
from heron.tracing.span_types import SpanType
from heron.tracing.spans import LiveSpan, get_current_active_span, start_detached_span, start_span, use_span

__all__ = [
    "Assessment",
    "AssessmentSource",
    "LiveSpan",
    "PagedList",
    "PendingSpan",
    "Price",
    "Span",
    "SpanEvent",
    "SpanStatus",
    "SpanType",
    "Trace",
    "TraceData",
    "TraceInfo",
    "TraceStatus",
    "configure",
    "delete_traces",
    "flush_traces",
    "get_current_active_span",
    "get_last_active_trace_id",
    "get_trace",
    "log_assessment",
    "log_expectation",
    "log_feedback",
    "price_for",
    "search_traces",
    "set_price",
    "start_detached_span",
    "start_span",
    "stats",
    "trace",
    "update_current_trace",
    "use_span",
]
