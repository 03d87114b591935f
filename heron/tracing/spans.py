"""Live spans: ``LiveSpan``, ``start_span``, ``start_detached_span``, ``use_span``, ``get_current_active_span``.

A LiveSpan wraps an OpenTelemetry span (Heron's, or any other provider's). Its methods never raise into
the traced code: a value OpenTelemetry cannot hold is stored as bounded JSON, misuse is logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.trace import Status, StatusCode

from heron.tracing.attributes import INPUTS, OUTPUTS, SPAN_TYPE
from heron.tracing.provider import get_tracer, light_tracer, settings
from heron.tracing.sdk_attributes import put, put_attributes
from heron.tracing.serialize import to_json
from heron.tracing.span_types import SpanType

__all__ = ["LiveSpan", "start_span", "start_detached_span", "use_span", "get_current_active_span",
           "attribute_value", "OK_STATUS"]

_logger = logging.getLogger("heron.tracing")
OK_STATUS = Status(StatusCode.OK)
_INT64 = 2**63
_STATUS_CODES = {"OK": StatusCode.OK, "ERROR": StatusCode.ERROR, "UNSET": StatusCode.UNSET}


def attribute_value(value: Any) -> Any:
    """``value`` as an OpenTelemetry attribute value: primitives and flat lists as they are, anything
    else as bounded JSON text. None stays None (callers skip it)."""
    kind = type(value)
    if kind is str or kind is bool or kind is float:
        return value
    if kind is int:
        return value if -_INT64 <= value < _INT64 else str(value)
    if value is None:
        return None
    if isinstance(value, list | tuple) and value and all(type(v) in (str, bool, int, float) for v in value) \
            and len({type(v) for v in value}) == 1:
        return list(value)
    return to_json(value, settings().max_value_chars)


class LiveSpan:
    """A span being recorded. ``trace_id`` and ``span_id`` are lower-case hex strings.

    Thread-safe as OpenTelemetry spans are. After ``end()`` further changes are ignored.
    """

    __slots__ = ("_span",)

    def __init__(self, span: otel_trace.Span) -> None:
        self._span = span

    # ---------------------------------------------------------------------------------- reading

    @property
    def otel_span(self) -> otel_trace.Span:
        """The underlying OpenTelemetry span."""
        return self._span

    @property
    def trace_id(self) -> str:
        return format(self._span.get_span_context().trace_id, "032x")

    @property
    def span_id(self) -> str:
        return format(self._span.get_span_context().span_id, "016x")

    @property
    def parent_id(self) -> str | None:
        parent = getattr(self._span, "parent", None)
        return None if parent is None else format(parent.span_id, "016x")

    @property
    def name(self) -> str:
        return str(getattr(self._span, "name", ""))

    @property
    def attributes(self) -> dict[str, Any]:
        found = getattr(self._span, "attributes", None)
        return dict(found) if found else {}

    @property
    def span_type(self) -> str:
        value = self.attributes.get(SPAN_TYPE)
        return value if isinstance(value, str) else SpanType.UNKNOWN

    @span_type.setter
    def span_type(self, value: str) -> None:
        self.set_attribute(SPAN_TYPE, str(value))

    @property
    def inputs(self) -> Any:
        return _decode(self.attributes.get(INPUTS))

    @property
    def outputs(self) -> Any:
        return _decode(self.attributes.get(OUTPUTS))

    def is_recording(self) -> bool:
        return self._span.is_recording()

    # ---------------------------------------------------------------------------------- writing

    def set_inputs(self, inputs: Any) -> None:
        """Record the span's inputs as bounded JSON (nothing when capture_content is off)."""
        current = settings()
        if current.capture_content and self._span.is_recording():
            put(self._span, INPUTS, to_json(inputs, current.max_value_chars))

    def set_outputs(self, outputs: Any) -> None:
        """Record the span's outputs as bounded JSON (nothing when capture_content is off)."""
        current = settings()
        if current.capture_content and self._span.is_recording():
            put(self._span, OUTPUTS, to_json(outputs, current.max_value_chars))

    def set_attribute(self, key: str, value: Any) -> None:
        """Set one attribute; values OpenTelemetry cannot hold (dicts, objects) are stored as JSON text."""
        try:
            converted = attribute_value(value)
            if converted is not None:
                self._span.set_attribute(str(key), converted)
        except Exception:  # noqa: BLE001
            _logger.debug("Heron tracing: could not set attribute %r", key, exc_info=True)

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        try:
            put_attributes(self._span, attributes)
        except Exception:  # noqa: BLE001
            _logger.debug("Heron tracing: could not set attributes", exc_info=True)

    def set_status(self, status: str | StatusCode | Status, description: str | None = None) -> None:
        """Set the status: ``"OK"``, ``"ERROR"`` (with a description) or ``"UNSET"`` (or OpenTelemetry's)."""
        if isinstance(status, Status):
            self._span.set_status(status)
            return
        code = status if isinstance(status, StatusCode) else _STATUS_CODES.get(str(status).upper())
        if code is None:
            _logger.warning("Heron tracing: unknown span status %r ignored; use 'OK' or 'ERROR'.", status)
            return
        self._span.set_status(Status(code, description if code is StatusCode.ERROR else None))

    def record_exception(self, exception: BaseException) -> None:
        """Add an ``exception`` event (type, message, stack trace) and set the status to ERROR."""
        try:
            self._span.record_exception(exception)
            self._span.set_status(Status(StatusCode.ERROR, f"{type(exception).__name__}: {exception}"))
        except Exception:  # noqa: BLE001
            _logger.debug("Heron tracing: could not record an exception", exc_info=True)

    def add_event(self, name: str, attributes: Mapping[str, Any] | None = None,
                  timestamp_ns: int | None = None) -> None:
        try:
            converted = {str(k): attribute_value(v) for k, v in (attributes or {}).items()}
            self._span.add_event(name, {k: v for k, v in converted.items() if v is not None}, timestamp_ns)
        except Exception:  # noqa: BLE001
            _logger.debug("Heron tracing: could not add event %r", name, exc_info=True)

    def end(self, outputs: Any = None, attributes: Mapping[str, Any] | None = None,
            status: str | StatusCode | Status | None = None, end_time_ns: int | None = None) -> None:
        """End the span (optionally setting outputs, attributes and status first). Ending twice is ignored.

        A span that ends with no status set ends OK.
        """
        span = self._span
        if not span.is_recording():
            return
        if outputs is not None:
            self.set_outputs(outputs)
        if attributes:
            self.set_attributes(attributes)
        if status is not None:
            self.set_status(status)
        elif getattr(span, "status", OK_STATUS).status_code is StatusCode.UNSET:
            span.set_status(OK_STATUS)
        span.end(end_time_ns)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LiveSpan) and other._span is self._span

    def __hash__(self) -> int:
        return id(self._span)

    def __repr__(self) -> str:
        return f"LiveSpan(name={self.name!r}, trace_id={self.trace_id!r}, span_id={self.span_id!r})"


def _decode(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _start_attributes(span_type: str, attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    found: dict[str, Any] = {SPAN_TYPE: str(span_type)}
    if attributes:
        for key, value in attributes.items():
            converted = attribute_value(value)
            if converted is not None:
                found[str(key)] = converted
    return found


class start_span:  # noqa: N801 - used as a function: ``with heron.start_span(...) as span``
    """``with start_span(name, span_type=..., attributes=...) as span:`` a span, current inside the block.

    An exception leaving the block is recorded (ERROR status, ``exception`` event) and re-raised unchanged;
    otherwise the span ends OK unless a status was set. Yields a LiveSpan.
    """

    __slots__ = ("_name", "_span_type", "_attributes", "_span", "_token")

    def __init__(self, name: str = "span", span_type: str = SpanType.UNKNOWN,
                 attributes: Mapping[str, Any] | None = None) -> None:
        self._name = name
        self._span_type = span_type
        self._attributes = attributes
        self._span: otel_trace.Span | None = None
        self._token: object = None

    def __enter__(self) -> LiveSpan:
        try:
            span = get_tracer().start_span(self._name, attributes=_start_attributes(self._span_type, self._attributes))
        except Exception:  # noqa: BLE001 - tracing must not break the block
            _logger.warning("Heron tracing: could not start span %r", self._name, exc_info=True)
            span = otel_trace.INVALID_SPAN
        self._span = span
        self._token = otel_context.attach(otel_trace.set_span_in_context(span))
        return LiveSpan(span)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        span = self._span
        otel_context.detach(self._token)  # type: ignore[arg-type]
        if span is None or not span.is_recording():
            return
        try:
            if exc is not None:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            elif getattr(span, "status", OK_STATUS).status_code is StatusCode.UNSET:
                span.set_status(OK_STATUS)
            span.end()
        except Exception:  # noqa: BLE001
            _logger.debug("Heron tracing: could not end span %r", self._name, exc_info=True)


def start_detached_span(name: str, span_type: str = SpanType.UNKNOWN, parent: LiveSpan | None = None,
                        attributes: Mapping[str, Any] | None = None) -> LiveSpan:
    """Start a span WITHOUT making it current; end it with ``span.end()``.

    ``parent`` is a LiveSpan, or None for the current OpenTelemetry context. For callback-style
    integrations (LangChain) whose start and end happen in different calls; ``use_span`` makes it
    current for a while. Never raises (returns a non-recording span if tracing fails).
    """
    try:
        context = None if parent is None else otel_trace.set_span_in_context(parent.otel_span)
        light = light_tracer()
        if light is not None:  # Heron's own provider: a light span (lightspan.py), attributes put in after
            span = light.start(name, context, (SPAN_TYPE, str(span_type)))
            if attributes and span.is_recording():
                put_attributes(span, attributes)
        else:  # the app's samplers and processors may read attributes at start
            span = get_tracer().start_span(name, context=context, attributes=_start_attributes(span_type, attributes))
    except Exception:  # noqa: BLE001
        _logger.warning("Heron tracing: could not start span %r", name, exc_info=True)
        span = otel_trace.INVALID_SPAN
    return LiveSpan(span)


def start_owned_span(name: str, span_type: str, owned: dict[str, Any]) -> otel_trace.Span:
    """``start_detached_span`` under the current context for autolog code that made ``owned`` for this
    span, every value already one OpenTelemetry stores as it is (see ``LightTracer.start``): a light
    span takes it as its attribute dict, with no copy or check. Returns the OpenTelemetry span (not a
    LiveSpan). Never raises."""
    try:
        light = light_tracer()
        if light is not None:
            return light.start(name, None, None, {SPAN_TYPE: span_type, **owned})
        return get_tracer().start_span(name, attributes=_start_attributes(span_type, owned))
    except Exception:  # noqa: BLE001
        _logger.warning("Heron tracing: could not start span %r", name, exc_info=True)
        return otel_trace.INVALID_SPAN


class use_span:  # noqa: N801 - used as a function
    """``with use_span(live_span):`` makes the span current inside the block; does not end it."""

    __slots__ = ("_span", "_token")

    def __init__(self, span: LiveSpan) -> None:
        self._span = span
        self._token: object = None

    def __enter__(self) -> LiveSpan:
        self._token = otel_context.attach(otel_trace.set_span_in_context(self._span.otel_span))
        return self._span

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        otel_context.detach(self._token)  # type: ignore[arg-type]


def get_current_active_span() -> LiveSpan | None:
    """The current span (Heron's or any OpenTelemetry provider's), or None outside any span."""
    span = otel_trace.get_current_span()
    if not span.get_span_context().is_valid:
        return None
    return LiveSpan(span)
