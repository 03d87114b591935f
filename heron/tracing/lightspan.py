"""Light spans: the spans autolog records, when Heron's own TracerProvider is the only one that sees them.

An autolog span (an OpenAI call, a LangChain step) is started and ended by Heron's code, and on Heron's
own provider Heron's processor is the only one that ever sees it. The SDK's span object then costs most
of what recording the call costs on the caller's thread (~45 µs of a raw OpenTelemetry span's ~55 µs on
the benchmark machine): locks, bounded containers, a ``ReadableSpan`` copy at the end. A ``LightSpan``
implements the same OpenTelemetry ``Span`` API over a plain dict, with the provider's sampler, id
generator, resource and span limits, and hands the same ``Finished`` record to the same processor, so
what is stored is identical. It nests in the OpenTelemetry context like any span, both ways.

With ``configure(otel_global=True)`` the app's own processors and exporters must see autolog spans, so
``LightTracer`` is not used and autolog spans are SDK spans, their attributes set before they end.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, SpanLimits
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import (
    DEFAULT_TRACE_STATE,
    Link,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)
from opentelemetry.trace.propagation import (
    _SPAN_KEY,  # where the OpenTelemetry context keeps the current span
)

__all__ = ["LightSpan", "LightTracer"]

_logger = logging.getLogger("heron.tracing")

_end_lock = threading.Lock()  # ending is the one change that must happen once; it is rare to contend
_RANDOM = getattr(TraceFlags, "RANDOM_TRACE_ID", 0)  # OpenTelemetry 1.39+: the W3C random flag
_FLAGS = {(sampled, random): TraceFlags((TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT) | (_RANDOM if random else 0))
          for sampled in (False, True) for random in (False, True)}
_UNSET = Status(StatusCode.UNSET)
_OK = Status(StatusCode.OK)
_new = object.__new__  # LightSpan(...) without running an __init__
_get_current = otel_context.get_current


def _span_context(trace_id: int, span_id: int, flags: TraceFlags, state: TraceState | None) -> SpanContext:
    """``SpanContext(trace_id, span_id, False, flags, state)``, built as its ``__new__`` builds it but
    without the call's overhead (a tenth of what starting a light span costs)."""
    return _new_tuple(SpanContext, (trace_id, span_id, False, flags, _DEFAULT_STATE if state is None else state,
                                    0 < trace_id <= _MAX_TRACE_ID and 0 < span_id <= _MAX_SPAN_ID))


_new_tuple = tuple.__new__
_DEFAULT_STATE = DEFAULT_TRACE_STATE
_MAX_TRACE_ID, _MAX_SPAN_ID = 2**128 - 1, 2**64 - 1
_probe = SpanContext(3, 5, False, _FLAGS[True, False], TraceState([("k", "v")]))
if _span_context(3, 5, _FLAGS[True, False], _probe.trace_state) != _probe \
        or _span_context(0, 5, _FLAGS[True, False], None) != SpanContext(0, 5, False, _FLAGS[True, False]):
    def _span_context(trace_id: int, span_id: int, flags: TraceFlags, state: TraceState | None) -> SpanContext:
        return SpanContext(trace_id, span_id, False, flags, state)  # an OpenTelemetry that lays it out otherwise


class LightSpan(otel_trace.Span):
    """A recording span of Heron's own provider (see the module doc). Thread-safe as SDK spans are for
    what autolog does: each change is one dict or attribute store under the GIL; ``end`` runs once."""

    __slots__ = ("_context", "parent", "name", "start_time", "end_time", "_attributes", "_events", "_links",
                 "status", "_tracer")

    _context: SpanContext
    parent: SpanContext | None
    name: str
    start_time: int
    end_time: int | None
    _attributes: dict[str, Any]
    _events: list[Event] | None
    _links: list[Link] | None
    status: Status
    _tracer: LightTracer

    # ------------------------------------------------------------------ what Heron's processor reads

    @property
    def context(self) -> SpanContext:
        return self._context

    @property
    def attributes(self) -> Mapping[str, Any]:
        return dict(self._attributes)

    @property
    def events(self) -> Sequence[Event]:
        return tuple(self._events or ())

    @property
    def links(self) -> Sequence[Link]:
        return tuple(self._links or ())

    @property
    def kind(self) -> SpanKind:
        return SpanKind.INTERNAL

    @property
    def resource(self) -> Resource:
        return self._tracer.resource

    @property
    def instrumentation_scope(self) -> InstrumentationScope:
        return self._tracer.scope

    def attribute_dict(self, room: int) -> dict[str, Any] | None:
        """The attribute dict, when ``room`` more values may be stored in it directly (sdk_attributes)."""
        if self.end_time is not None or len(self._attributes) + room > self._tracer.max_attributes:
            return None
        return self._attributes

    # ----------------------------------------------------------------------- the Span API

    def get_span_context(self) -> SpanContext:
        return self._context

    def is_recording(self) -> bool:
        return self.end_time is None

    def set_attribute(self, key: str, value: Any) -> None:
        self.set_attributes({key: value})

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        if self.end_time is not None:
            _logger.debug("Heron tracing: attributes set on an ended span are ignored")
            return
        own, limit = self._attributes, self._tracer.max_attributes
        for key, value in attributes.items():
            checked = _checked(key, value)
            if checked is None:
                continue
            if key in own:
                del own[key]  # a replaced key moves to the end, as in the SDK
            if len(own) >= limit:  # full: the SDK drops the oldest to make room
                del own[next(iter(own))]
            own[key] = checked

    def add_event(self, name: str, attributes: Mapping[str, Any] | None = None,
                  timestamp: int | None = None) -> None:
        if self.end_time is not None:
            return
        events = self._events
        if events is None:
            events = self._events = []
        if len(events) >= self._tracer.max_events:
            return
        values: dict[str, Any] = {}
        limit = self._tracer.max_event_attributes
        for key, value in (attributes or {}).items():
            checked = _checked(key, value)
            if checked is not None:
                if len(values) >= limit:  # as the SDK's bounded attributes: the oldest goes
                    del values[next(iter(values))]
                values[key] = checked
        events.append(Event(name, values, timestamp if timestamp is not None else time.time_ns()))

    def add_link(self, context: SpanContext, attributes: Mapping[str, Any] | None = None) -> None:
        if self.end_time is not None or context is None or not context.is_valid:
            return
        links = self._links
        if links is None:
            links = self._links = []
        if len(links) < self._tracer.max_links:
            links.append(Link(context, dict(attributes or {})))

    def update_name(self, name: str) -> None:
        if self.end_time is None:
            self.name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        if self.end_time is not None or self.status.status_code is StatusCode.OK:
            return  # as the SDK: OK is final
        if isinstance(status, Status):
            if status.status_code is not StatusCode.UNSET:
                self.status = status
        elif isinstance(status, StatusCode) and status is not StatusCode.UNSET:
            self.status = Status(status, description)

    def record_exception(self, exception: BaseException, attributes: Mapping[str, Any] | None = None,
                         timestamp: int | None = None, escaped: bool = False) -> None:
        """An ``exception`` event with the attributes the SDK gives it."""
        module, qualname = type(exception).__module__, type(exception).__qualname__
        values: dict[str, Any] = {
            "exception.type": f"{module}.{qualname}" if module and module != "builtins" else qualname,
            "exception.message": str(exception),
            "exception.stacktrace": "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped),
        }
        if attributes:
            values.update(attributes)
        self.add_event("exception", values, timestamp)

    def end(self, end_time: int | None = None) -> None:
        with _end_lock:
            if self.end_time is not None:
                _logger.debug("Heron tracing: end() on an ended span is ignored")
                return
            self.end_time = end_time if end_time is not None else time.time_ns()
        self._tracer.processor.on_end(self)  # type: ignore[arg-type]  # reads what a ReadableSpan has

    def finish(self, owned: dict[str, Any]) -> None:
        """Add ``owned`` (made for this span, with values as ``LightTracer.start`` takes them), set the
        status OK unless one was set, and end: what ``set_attributes``, ``set_status`` and ``end`` do,
        in one step when the keys are new and there is room."""
        own = self._attributes
        if self.end_time is None and own.keys().isdisjoint(owned) \
                and len(own) + len(owned) <= self._tracer.max_attributes:
            own.update(owned)
        else:
            self.set_attributes(owned)
        if self.status.status_code is StatusCode.UNSET and self.end_time is None:
            self.status = _OK
        self.end()

    def __repr__(self) -> str:
        return f"LightSpan(name={self.name!r}, span_id={self._context.span_id:016x})"


def _checked(key: Any, value: Any) -> Any:
    """``value`` if OpenTelemetry accepts it as an attribute (lists become tuples, as in the SDK), else
    None (the SDK logs and drops it)."""
    if not isinstance(key, str) or not key:
        _logger.debug("Heron tracing: invalid attribute key %r dropped", key)
        return None
    kind = type(value)
    if kind is str or kind is bool or kind is int or kind is float:
        return value
    if isinstance(value, list | tuple):
        kinds = {type(v) for v in value if v is not None}
        if len(kinds) <= 1 and kinds <= {str, bool, int, float}:
            return tuple(value)
    _logger.debug("Heron tracing: attribute %r of type %s dropped", key, kind.__name__)
    return None


class LightTracer:
    """Starts LightSpans with a provider's sampler, id generator, resource and limits, for one processor.

    Used only where that processor is the provider's only one (Heron's own provider); ``usable`` says
    whether the provider's span limits can be kept without the SDK (no value length limit)."""

    def __init__(self, provider: Any, scope: InstrumentationScope, processor: Any, always_sample: bool) -> None:
        limits: SpanLimits = getattr(provider, "_span_limits", None) or SpanLimits()
        self.sampler = provider.sampler
        self.ids = provider.id_generator
        self.resource: Resource = provider.resource
        self.scope = scope
        self.processor = processor
        self.always_sample = always_sample  # ParentBased(ALWAYS_ON): the parent's decision, else sampled
        self.max_attributes = _limit(limits.max_span_attributes)
        self.max_events = _limit(limits.max_events)
        self.max_event_attributes = _limit(limits.max_event_attributes)
        self.max_links = _limit(limits.max_links)
        self.usable = limits.max_span_attribute_length is None and limits.max_attribute_length is None

    def start(self, name: str, context: otel_context.Context | None = None,
              first: tuple[str, str] | None = None, owned: dict[str, Any] | None = None) -> otel_trace.Span:
        """A started LightSpan under ``context``'s span (the current one when None), or a non-recording
        span when the sampler drops it: what ``Tracer.start_span`` returns, for Heron's processor.
        ``first``: one string attribute the span starts with (its type). ``owned``: instead, a dict the span
        takes as its attributes, unchecked and uncopied: the caller made it for this span and every key
        and value in it is one OpenTelemetry would store as it is (a non-empty str key; a str, bool, int
        of 64 bits or float, or a tuple of one of these types)."""
        current = (context if context is not None else _get_current()).get(_SPAN_KEY)
        parent: SpanContext | None
        if current is None:
            parent = None
        elif type(current) is LightSpan:
            parent = current._context
        else:
            parent = current.get_span_context() if isinstance(current, otel_trace.Span) else None
        if parent is None or not parent.is_valid:
            parent, trace_id = None, self.ids.generate_trace_id()
            random = bool(_RANDOM) and self.ids.is_trace_id_random()
        else:
            trace_id = parent.trace_id
            random = bool(_RANDOM) and bool(parent.trace_flags & _RANDOM)
        extra: Mapping[str, Any] | None = None
        if self.always_sample:
            sampled = recording = parent is None or parent.trace_flags.sampled
            trace_state = None if parent is None else parent.trace_state
        else:
            result = self.sampler.should_sample(context, trace_id, name, SpanKind.INTERNAL, None, ())
            sampled, recording = result.decision.is_sampled(), result.decision.is_recording()
            trace_state, extra = result.trace_state, result.attributes
        span_context = _span_context(trace_id, self.ids.generate_span_id(), _FLAGS[sampled, random], trace_state)
        if not recording:
            return otel_trace.NonRecordingSpan(span_context)
        span: LightSpan = _new(LightSpan)
        span._context = span_context
        span.parent = parent
        span.name = name
        span.start_time = time.time_ns()
        span.end_time = None
        span._events = None
        span._links = None
        span.status = _UNSET
        span._tracer = self
        if owned is not None and len(owned) <= self.max_attributes:
            span._attributes = owned
        else:
            span._attributes = {} if first is None else {first[0]: first[1]}
            if owned:
                span.set_attributes(owned)
        if extra:
            span.set_attributes(extra)
        self.processor.on_start(span)
        return span


def _limit(value: int | None) -> int:
    return value if value is not None else 1 << 62

