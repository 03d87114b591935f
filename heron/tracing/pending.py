"""A finished span on its way out: what the export thread builds from an OpenTelemetry span, what
``configure(span_processors=[...])`` functions see and may change, and what the sinks write.

Built on the export thread, never on the traced code's thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from heron.tracing.attributes import (
    CONTENT_ATTRIBUTES,
    CONTENT_PREFIXES,
    EXPERIMENT_ID,
    INPUTS,
    OUTPUTS,
    RUN_ID,
    SPAN_TYPE,
)
from heron.tracing.jsontext import dumps
from heron.tracing.otel_mapping import normalize_attributes
from heron.tracing.serialize import bounded, to_json
from heron.tracing.span_types import SpanType

__all__ = ["PendingSpan", "PendingEvent", "Target", "from_readable", "to_readable", "strip_content",
           "attributes_json"]



class Target(NamedTuple):
    """Where a trace goes, fixed when its first span in this process starts.

    ``sink`` is the tracking URI, or ``otlp:`` followed by an OTLP/HTTP traces URL.
    """

    sink: str
    experiment_id: str
    run_id: str | None


@dataclass(slots=True)
class PendingEvent:
    name: str
    timestamp_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False, slots=True)
class PendingSpan:
    """One finished span, mutable. Span processors may change any field or return False to drop it.

    ``inputs`` and ``outputs`` are the decoded values (JSON-ready); ``attributes`` holds everything
    else (``gen_ai.*`` …). ``status`` is ``"OK"`` or ``"ERROR"`` (a span that ended without an error is OK).
    """

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    span_type: str
    status: str
    status_message: str | None
    start_time_ns: int
    end_time_ns: int
    attributes: dict[str, Any]
    events: list[PendingEvent]
    inputs_json: str | None = None  # the JSON text of inputs, as recorded
    outputs_json: str | None = None
    is_local_root: bool = False  # first span of its trace in this process
    source: ReadableSpan | None = field(default=None, repr=False)

    @property
    def inputs(self) -> Any:
        return _loads(self.inputs_json)

    @inputs.setter
    def inputs(self, value: Any) -> None:
        self.inputs_json = None if value is None else to_json(value)

    @property
    def outputs(self) -> Any:
        return _loads(self.outputs_json)

    @outputs.setter
    def outputs(self, value: Any) -> None:
        self.outputs_json = None if value is None else to_json(value)


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def from_readable(span: ReadableSpan, is_local_root: bool) -> PendingSpan:
    """A PendingSpan for ``span``. Spans of other instrumentations (no ``heron.span.type``) have their
    attributes normalised to the GenAI names (OpenInference, older ``gen_ai.*``)."""
    ctx = span.context
    attrs = _attributes(span)
    if SPAN_TYPE not in attrs:
        attrs = normalize_attributes(attrs)
    span_type = attrs.pop(SPAN_TYPE, None)
    inputs = attrs.pop(INPUTS, None)
    outputs = attrs.pop(OUTPUTS, None)
    parent = span.parent
    status = span.status
    raw_events = getattr(span, "_events", None)
    events = [] if raw_events is not None and len(raw_events) == 0 else [
        PendingEvent(e.name, e.timestamp, dict(e.attributes) if e.attributes else {}) for e in span.events]
    start = span.start_time or 0
    return PendingSpan(  # positional, in field order: this runs for every span
        trace_hex(ctx.trace_id) if ctx is not None else "0" * 32,
        span_hex(ctx.span_id) if ctx is not None else "0" * 16,
        span_hex(parent.span_id) if parent is not None else None,
        span.name,
        span_type if isinstance(span_type, str) and span_type else SpanType.UNKNOWN,
        "ERROR" if status.status_code is StatusCode.ERROR else "OK",  # UNSET: ended without an error
        status.description,
        start,
        span.end_time or start,
        attrs,
        events,
        inputs if isinstance(inputs, str) or inputs is None else to_json(inputs),
        outputs if isinstance(outputs, str) or outputs is None else to_json(outputs),
        is_local_root,
        span,
    )


_last_trace: list[tuple[int, str]] = [(0, "0" * 32)]


def trace_hex(trace_id: int) -> str:
    """``format(trace_id, "032x")``, remembering the last one: a trace's spans mostly come together."""
    last = _last_trace[0]
    if last[0] == trace_id:
        return last[1]
    try:
        text = trace_id.to_bytes(16, "big").hex()  # about twice as fast as format()
    except OverflowError:  # not a valid id; kept as OpenTelemetry would print it
        text = format(trace_id, "032x")
    _last_trace[0] = (trace_id, text)
    return text


def span_hex(span_id: int) -> str:
    """``format(span_id, "016x")``, faster."""
    try:
        return span_id.to_bytes(8, "big").hex()
    except OverflowError:
        return format(span_id, "016x")


def _attributes(span: ReadableSpan) -> dict[str, Any]:
    # The SDK's attributes are a locked mapping read key by key through a proxy (~20x slower than a dict
    # copy); a finished span's are immutable, so copy the dict under them when it is there.
    inner = getattr(getattr(span, "_attributes", None), "_dict", None)
    if isinstance(inner, dict):
        return dict(inner)
    return dict(span.attributes) if span.attributes else {}


def strip_content(span: PendingSpan) -> None:
    """Remove inputs, outputs and message content (capture_content=False); usage and models stay."""
    span.inputs_json = None
    span.outputs_json = None
    for key in [k for k in span.attributes if k in CONTENT_ATTRIBUTES or k.startswith(CONTENT_PREFIXES)]:
        del span.attributes[key]
    for event in span.events:
        if event.name.startswith("gen_ai."):
            event.attributes.clear()


def attributes_json(attributes: dict[str, Any]) -> str:
    """The attributes as a JSON object; NaN and other values JSON refuses are made safe."""
    if not attributes:
        return "{}"
    try:
        return dumps(attributes)
    except (TypeError, ValueError):
        return to_json(bounded(attributes))


def to_readable(span: PendingSpan, target: Target) -> ReadableSpan:
    """An OpenTelemetry span carrying ``span``'s (possibly changed) fields, for OTLP export. A trace's
    first span carries its experiment and run (``heron.experiment_id``, ``heron.run_id``)."""
    source = span.source
    attributes = dict(span.attributes)
    attributes[SPAN_TYPE] = span.span_type
    if span.is_local_root:
        attributes[EXPERIMENT_ID] = target.experiment_id
        if target.run_id is not None:
            attributes[RUN_ID] = target.run_id
    if span.inputs_json is not None:
        attributes[INPUTS] = span.inputs_json
    if span.outputs_json is not None:
        attributes[OUTPUTS] = span.outputs_json
    context = SpanContext(int(span.trace_id, 16), int(span.span_id, 16), is_remote=False,
                          trace_flags=TraceFlags(TraceFlags.SAMPLED))
    parent = None
    if span.parent_id is not None:
        parent = SpanContext(int(span.trace_id, 16), int(span.parent_id, 16), is_remote=False)
    code = {"OK": StatusCode.OK, "ERROR": StatusCode.ERROR}.get(span.status, StatusCode.UNSET)
    return ReadableSpan(
        name=span.name,
        context=context,
        parent=parent,
        resource=source.resource if source is not None else None,
        attributes=_otel_attributes(attributes),
        events=[Event(e.name, _otel_attributes(e.attributes), e.timestamp_ns) for e in span.events],
        links=source.links if source is not None else (),
        kind=source.kind if source is not None else SpanKind.INTERNAL,
        status=Status(code, span.status_message if code is StatusCode.ERROR else None),
        start_time=span.start_time_ns,
        end_time=span.end_time_ns,
        instrumentation_scope=source.instrumentation_scope if source is not None else None,
    )


def _otel_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """Attribute values OpenTelemetry accepts (processors may have put dicts or objects there)."""
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if isinstance(value, str | bool | int | float):
            out[key] = value
        elif isinstance(value, list | tuple) and all(isinstance(v, str | bool | int | float) for v in value):
            out[key] = list(value)
        elif value is not None:
            out[key] = to_json(value)
    return out
