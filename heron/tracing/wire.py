"""Traces and assessments as JSON, as the server's trace routes send them and the REST trace store
reads them: a trace is ``{"info": {...}, "data": {"spans": [...]}}`` with the fields of
:class:`~heron.tracing.records.TraceInfo` and :class:`~heron.tracing.records.Span`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from heron.tracing.records import (
    Assessment,
    AssessmentSource,
    Span,
    SpanEvent,
    SpanStatus,
    Trace,
    TraceData,
    TraceInfo,
)

__all__ = ["trace_to_json", "trace_from_json", "assessment_to_json", "assessment_from_json"]

_INFO_FIELDS = tuple(f.name for f in dataclasses.fields(TraceInfo))


def trace_to_json(trace: Trace) -> dict[str, Any]:
    info = dataclasses.asdict(trace.info)
    info["unpriced"] = trace.info.unpriced
    return {"info": info, "data": {"spans": [dataclasses.asdict(s) for s in trace.data.spans]}}


def assessment_to_json(assessment: Assessment) -> dict[str, Any]:
    return dataclasses.asdict(assessment)


def trace_from_json(found: Mapping[str, Any]) -> Trace:
    """The Trace ``trace_to_json`` made; fields a newer server adds are ignored."""
    info = dict(found["info"])
    values = {name: info[name] for name in _INFO_FIELDS if name in info}
    values["tags"] = dict(info.get("tags") or {})
    values["trace_metadata"] = dict(info.get("trace_metadata") or {})
    values["assessments"] = tuple(assessment_from_json(a) for a in info.get("assessments") or ())
    spans = [_span(s) for s in (found.get("data") or {}).get("spans") or ()]
    return Trace(info=TraceInfo(**values), data=TraceData(spans))


def assessment_from_json(found: Mapping[str, Any]) -> Assessment:
    source = found.get("source") or {}
    return Assessment(
        assessment_id=str(found["assessment_id"]),
        trace_id=str(found["trace_id"]),
        name=str(found["name"]),
        value=found.get("value"),
        source=AssessmentSource(str(source.get("source_type", "CODE")), source.get("source_id")),
        rationale=found.get("rationale"),
        span_id=found.get("span_id"),
        run_id=found.get("run_id"),
        kind=str(found.get("kind", "feedback")),
        metadata=dict(found.get("metadata") or {}),
        create_time_ms=int(found.get("create_time_ms") or 0),
    )


def _span(found: Mapping[str, Any]) -> Span:
    status = found.get("status") or {}
    return Span(
        trace_id=str(found["trace_id"]),
        span_id=str(found["span_id"]),
        parent_id=found.get("parent_id"),
        name=str(found["name"]),
        span_type=str(found["span_type"]),
        status=SpanStatus(str(status.get("status_code", "OK")), str(status.get("description") or "")),
        start_time_ns=int(found["start_time_ns"]),
        end_time_ns=int(found["end_time_ns"]),
        inputs=found.get("inputs"),
        outputs=found.get("outputs"),
        attributes=dict(found.get("attributes") or {}),
        events=tuple(SpanEvent(str(e.get("name", "")), int(e.get("timestamp") or 0), dict(e.get("attributes") or {}))
                     for e in found.get("events") or ()),
    )
