"""A finished span on its way out.

- ``Finished``: the flat record Heron's processor queues when a span ends, on the traced code's thread
  (a tuple of the span's fields, nothing computed).
- ``PendingSpan``: what the export thread builds from it; what ``configure(span_processors=[...])``
  functions see and may change, and what the sinks write. Never built on the traced code's thread.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util import BoundedList
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

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
from heron.tracing.lightspan import LightSpan
from heron.tracing.otel_mapping import normalize_attributes
from heron.tracing.serialize import bounded, to_json
from heron.tracing.span_types import SpanType

__all__ = ["PendingSpan", "PendingEvent", "Target", "Finished", "finished", "from_finished", "from_readable",
           "to_readable", "strip_content", "attributes_json"]



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
    source: Finished | None = field(default=None, repr=False)  # kind, resource, scope and links for OTLP

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


class Finished(NamedTuple):
    """A finished span as the export queue holds it, taken from the SDK's span when it ends.

    Plain values in one tuple: while spans wait in the queue, the garbage collector tracks one object
    for each instead of the dozen or so of a ``ReadableSpan`` (its context, attribute and event
    containers and their locks). Waiting spans outlive the young generations, so every object they keep
    is traversed again by each full collection; fewer objects there made tracing ~10 µs a span cheaper.
    ``attributes`` is the span's own mapping (read-only once the span has ended): the export thread copies it.
    """

    trace_id: int
    span_id: int
    parent_id: int | None
    name: str
    start_time_ns: int
    end_time_ns: int
    status_code: StatusCode
    status_message: str | None
    attributes: Mapping[str, Any]
    events: tuple[Event, ...]
    links: tuple[Link, ...]
    kind: SpanKind
    resource: Resource | None
    scope: InstrumentationScope | None
    target: Target
    is_local_root: bool


def finished(span: ReadableSpan | LightSpan, target: Target, is_local_root: bool) -> Finished:
    """``span``'s fields as a ``Finished`` record. Cheap: it runs on the traced code's thread."""
    if type(span) is LightSpan:  # autolog's spans (lightspan.py)
        light = span
        events, links = light._events, light._links
        return _new_tuple(Finished, (
            light._context.trace_id, light._context.span_id,
            light.parent.span_id if light.parent is not None else None,
            light.name, light.start_time, light.end_time, light.status.status_code, light.status.description,
            light._attributes, tuple(events) if events else (), tuple(links) if links else (), SpanKind.INTERNAL,
            light._tracer.resource, light._tracer.scope, target, is_local_root,
        ))
    if type(span) is ReadableSpan:  # what the SDK hands processors: its fields read directly, 3x faster
        try:
            raw = span._attributes
            attributes = raw._dict if type(raw) is BoundedAttributes else raw  # read-only from now on
            return _record(span._context, span._parent, span._name, span._start_time, span._end_time,
                           span._status, attributes if type(attributes) is dict else _attributes(span),
                           _items(span._events), _items(span._links), span._kind, span._resource,
                           span._instrumentation_scope, target, is_local_root)
        except AttributeError:  # an SDK version that keeps them elsewhere
            pass
    return _record(span.context, span.parent, span.name, span.start_time, span.end_time, span.status,
                   _attributes(span), tuple(span.events), tuple(span.links), span.kind, span.resource,
                   span.instrumentation_scope, target, is_local_root)


def _record(ctx: Any, parent: Any, name: str, start: int | None, end: int | None, status: Status,
            attributes: Mapping[str, Any], events: tuple[Event, ...], links: tuple[Link, ...], kind: SpanKind,
            resource: Resource | None, scope: InstrumentationScope | None, target: Target,
            is_local_root: bool) -> Finished:
    start_ns = start or 0
    return _new_tuple(Finished, (  # tuple.__new__: a NamedTuple's own __new__ costs a microsecond more
        ctx.trace_id if ctx is not None else 0,
        ctx.span_id if ctx is not None else 0,
        parent.span_id if parent is not None else None,
        name,
        start_ns,
        end or start_ns,
        status.status_code,
        status.description,
        attributes,
        events,
        links,
        kind,
        resource,
        scope,
        target,
        is_local_root,
    ))


_new_tuple = tuple.__new__


def _items(found: Any) -> tuple[Any, ...]:
    """A BoundedList's (or any sequence's) items as a tuple; ``()`` shared when there are none."""
    if type(found) is BoundedList:
        found = getattr(found, "_dq", found)
    return tuple(found) if found else ()


_NOWHERE = Target("", "", None)  # from_readable's spans: their sink is chosen by the caller


def from_readable(span: ReadableSpan, is_local_root: bool) -> PendingSpan:
    """A PendingSpan for ``span`` (see ``from_finished``)."""
    return from_finished(finished(span, _NOWHERE, is_local_root))


def from_finished(span: Finished) -> PendingSpan:
    """A PendingSpan for ``span``. Spans of other instrumentations (no ``heron.span.type``) have their
    attributes normalised to the GenAI names (OpenInference, older ``gen_ai.*``)."""
    attrs = dict(span.attributes)
    if SPAN_TYPE not in attrs:
        attrs = normalize_attributes(attrs)
    span_type = attrs.pop(SPAN_TYPE, None)
    inputs = attrs.pop(INPUTS, None)
    outputs = attrs.pop(OUTPUTS, None)
    parent_id = span.parent_id
    events = [PendingEvent(e.name, e.timestamp, dict(e.attributes) if e.attributes else {})
              for e in span.events] if span.events else []
    return PendingSpan(  # positional, in field order: this runs for every span
        trace_hex(span.trace_id),
        span_hex(span.span_id),
        span_hex(parent_id) if parent_id is not None else None,
        span.name,
        span_type if isinstance(span_type, str) and span_type else SpanType.UNKNOWN,
        "ERROR" if span.status_code is StatusCode.ERROR else "OK",  # UNSET: ended without an error
        span.status_message,
        span.start_time_ns,
        span.end_time_ns,
        attrs,
        events,
        inputs if isinstance(inputs, str) or inputs is None else to_json(inputs),
        outputs if isinstance(outputs, str) or outputs is None else to_json(outputs),
        span.is_local_root,
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


def _attributes(span: ReadableSpan | LightSpan) -> Mapping[str, Any]:
    # The SDK's attributes are a locked mapping read key by key through a proxy (~20x slower than a dict
    # copy); a finished span's are immutable, so take the dict under them when it is there.
    raw = getattr(span, "_attributes", None)
    inner = getattr(raw, "_dict", raw)
    if isinstance(inner, dict):
        return inner
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
        instrumentation_scope=source.scope if source is not None else None,
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
