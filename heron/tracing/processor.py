"""Heron's OpenTelemetry span processor: on the traced code's thread it only notes where each trace goes
and appends finished spans to the export queue.

A span whose parent is not a span this processor saw (no parent, a remote parent, or a span of another
TracerProvider) is its trace's *local root*: at its start the processor captures the tracking URI (or
OTLP endpoint), the active experiment and the active run, and every descendant inherits them. So a trace
belongs to the experiment and run in force when it started, whichever thread ends its spans.
"""

from __future__ import annotations

import logging
import threading

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from heron.tracing.export import Exporter
from heron.tracing.pending import Target, finished
from heron.tracking import fluent
from heron.tracking import uri as uri_module

__all__ = ["HeronSpanProcessor", "current_target", "last_trace_id", "reset_last_trace_id"]

_logger = logging.getLogger("heron.tracing")
_MAX_LIVE = 1_000_000  # open spans remembered; past it (spans never ended) the memory is reclaimed

_new_tuple = tuple.__new__
_last = threading.local()
_last_global: list[int | None] = [None]
_warned: set[str] = set()


def current_target() -> Target:
    """Where a trace started now goes: the tracking URI, experiment and run in force. Never raises.

    Kept cheap (it runs at every trace's first span): the OTLP endpoint variables are read by the export
    thread instead, which sends everything there when one is set.
    """
    try:
        run = fluent.active_run()
        return _new_tuple(Target, (_configured_uri(), fluent.resolve_experiment_id(),  # Target(...), faster
                                   run.info.run_id if run is not None else None))
    except Exception as exc:  # noqa: BLE001 - tracing never raises into the traced code
        if "target" not in _warned:
            _warned.add("target")
            _logger.warning("Heron tracing could not resolve the tracking URI or experiment (%s); traces go to "
                            "the Default experiment of the default store.", exc)
        return Target("", fluent.DEFAULT_EXPERIMENT_ID, None)


def _configured_uri() -> str:
    """The tracking URI as configured (set_tracking_uri, else HERON_TRACKING_URI, else "" for the default
    ./heron.db), resolved by the export thread. Not ``get_tracking_uri()``: its ``os.getcwd()`` releases
    the GIL, handing the export thread the traced code's thread at every trace (about 2x slower)."""
    return uri_module.configured_tracking_uri() or ""


class HeronSpanProcessor(SpanProcessor):
    """Notes each trace's target at its local root and queues finished spans. ``enabled = False``
    stops it taking new spans (OpenTelemetry cannot remove a processor from a provider); spans it
    already saw start are still exported when they end."""

    def __init__(self, exporter: Exporter) -> None:
        self.enabled = True
        self._exporter = exporter
        # span id -> (target, is local root, the local root span): what descendants inherit
        self._live: dict[int, tuple[Target, bool, Span]] = {}

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if not self.enabled:
            return
        parent = span.parent
        live = self._live
        found = None if parent is None or parent.is_remote else live.get(parent.span_id)
        entry = (found[0], False, found[2]) if found is not None else (current_target(), True, span)
        if len(live) >= _MAX_LIVE:
            live.clear()
        live[span.context.span_id] = entry

    def on_end(self, span: ReadableSpan) -> None:
        context = span.context
        if context is None:
            return
        entry = self._live.pop(context.span_id, None)
        if entry is None:
            if not self.enabled:
                return
            target, is_root = current_target(), span.parent is None  # started before this processor
        else:
            target, is_root = entry[0], entry[1]
        try:
            item = finished(span, target, is_root)
        except Exception as exc:  # noqa: BLE001 - a span Heron cannot read is dropped, never raised
            self._exporter.drop_unreadable(exc)
            return
        self._exporter.enqueue(item)
        if is_root:
            _last.trace_id = context.trace_id
            _last_global[0] = context.trace_id

    def local_root(self, span_id: int) -> Span | None:
        """The first span in this process of the trace that the open span ``span_id`` belongs to."""
        entry = self._live.get(span_id)
        return None if entry is None else entry[2]

    def shutdown(self) -> None:
        self.enabled = False

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.flush(timeout_millis / 1000)


def last_trace_id(thread_local: bool = False) -> str | None:
    """The id of the last trace whose root span ended (in this thread when ``thread_local``)."""
    value = getattr(_last, "trace_id", None) if thread_local else _last_global[0]
    return None if value is None else format(value, "032x")


def reset_last_trace_id() -> None:
    _last.__dict__.clear()
    _last_global[0] = None
    _warned.clear()
