"""Spans of callback-style integrations (LangChain) placed in the OpenTelemetry context.

A callback integration learns that a step started in one callback and that it ended in another. To let
the step's own work nest under its span (an OpenAI call made by a LangChain chat model, a ``@heron.trace``
function called by a tool), the start callback makes the span current in the context it runs in, and the
end callback gives that context back. The end callback does not always run in the same context:
LangChain's async end callbacks run in a task of their own (a copy of the context), so the caller's
context would keep the ended span as its current span, and every later span there would join a finished
trace. MLflow, Langfuse and OpenLLMetry users see this as "Failed to detach context" errors and traces
broken in pieces.

So what goes into the context is a ``CallbackSpan``: the step's span while the step runs, and, once the
step has ended, a transparent stand-in for whatever was current before it. A context that was never
given back is then harmless, and no token is ever reset in the wrong context.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.trace import SpanContext, Status, StatusCode
from opentelemetry.util import types

__all__ = ["CallbackSpan", "resolve", "live_context", "enter", "leave", "siblings", "started_within"]


class CallbackSpan(otel_trace.Span):
    """A step's span as the OpenTelemetry context holds it: the span itself until ``ended`` is set, then
    the span that was current before it (``outer``). ``group`` tells siblings apart (the parent run id).

    Every method acts on ``resolve(self)``; attributes the SDK span has (``name``, ``attributes`` …) are
    read from it too. Thread-safe: ``ended`` only ever goes from False to True.
    """

    __slots__ = ("span", "outer", "group", "ended")

    def __init__(self, span: otel_trace.Span, outer: otel_context.Context, group: object = None) -> None:
        self.span = span
        self.outer = outer
        self.group = group
        self.ended = False

    def __getattr__(self, name: str) -> Any:  # name, attributes, parent, status, start_time ...
        if name in CallbackSpan.__slots__:  # not set yet (copy, pickle): no lookup through resolve()
            raise AttributeError(name)
        return getattr(resolve(self), name)

    def get_span_context(self) -> SpanContext:
        return resolve(self).get_span_context()

    def is_recording(self) -> bool:
        return resolve(self).is_recording()

    def set_attributes(self, attributes: Mapping[str, types.AttributeValue]) -> None:
        resolve(self).set_attributes(attributes)

    def set_attribute(self, key: str, value: types.AttributeValue) -> None:
        resolve(self).set_attribute(key, value)

    def add_event(self, name: str, attributes: types.Attributes = None, timestamp: int | None = None) -> None:
        resolve(self).add_event(name, attributes, timestamp)

    def add_link(self, context: SpanContext, attributes: types.Attributes = None) -> None:
        resolve(self).add_link(context, attributes)

    def update_name(self, name: str) -> None:
        resolve(self).update_name(name)

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        resolve(self).set_status(status, description)

    def record_exception(self, exception: BaseException, attributes: types.Attributes = None,
                         timestamp: int | None = None, escaped: bool = False) -> None:
        resolve(self).record_exception(exception, attributes, timestamp, escaped)

    def end(self, end_time: int | None = None) -> None:
        resolve(self).end(end_time)

    def __repr__(self) -> str:
        return f"CallbackSpan({self.span!r}, ended={self.ended})"


def resolve(span: otel_trace.Span) -> otel_trace.Span:
    """The span ``span`` stands for: itself, unless it is an ended CallbackSpan (then what was current
    before it, looked up the same way)."""
    while isinstance(span, CallbackSpan):
        if not span.ended:
            return span.span
        span = otel_trace.get_current_span(span.outer)
    return span


def _top(span: otel_trace.Span) -> otel_trace.Span:
    """Like ``resolve`` but keeps a live CallbackSpan as it is (so siblings can be told apart)."""
    while isinstance(span, CallbackSpan) and span.ended:
        span = otel_trace.get_current_span(span.outer)
    return span


def live_context(context: otel_context.Context | None = None) -> otel_context.Context:
    """``context`` (default: the current one) with an ended CallbackSpan on top replaced by what it stands
    for, so that a context kept for later never holds a chain of finished steps."""
    ctx = otel_context.get_current() if context is None else context
    current = otel_trace.get_current_span(ctx)
    if isinstance(current, CallbackSpan) and current.ended:
        return otel_trace.set_span_in_context(_top(current), ctx)
    return ctx


def enter(span: otel_trace.Span, group: object = None) -> CallbackSpan:
    """Make ``span`` current in the current context, without a token: ``leave`` gives the context back."""
    outer = live_context()
    holder = CallbackSpan(span, outer, group)
    otel_context.attach(otel_trace.set_span_in_context(holder, outer))
    return holder


def leave(holder: CallbackSpan) -> None:
    """Mark the step ended and, if the current context still has it on top (the end callback runs where
    the start callback did), give that context back. Elsewhere the ended holder is transparent."""
    holder.ended = True
    if otel_trace.get_current_span() is holder:
        otel_context.attach(live_context(holder.outer))


def siblings(span: otel_trace.Span, group: object) -> otel_trace.Span:
    """Skip, from the current ``span`` outwards, live CallbackSpans of the same ``group``: steps that
    LangChain started side by side in one context (``RunnableSequence.batch`` starts every input's run
    before running any) are not each other's parents."""
    span = _top(span)
    while isinstance(span, CallbackSpan) and span.group == group:
        span = _top(otel_trace.get_current_span(span.outer))
    return span


def started_within(inner: otel_trace.Span, outer: otel_trace.Span) -> bool:
    """Whether ``inner`` is in ``outer``'s trace and started after it (so it can be its descendant)."""
    a, b = inner.get_span_context(), outer.get_span_context()
    if not a.is_valid or a.trace_id != b.trace_id:
        return False
    start_a, start_b = getattr(inner, "start_time", None), getattr(outer, "start_time", None)
    return isinstance(start_a, int) and isinstance(start_b, int) and start_a >= start_b
