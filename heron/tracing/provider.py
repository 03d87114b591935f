"""Heron's TracerProvider, and ``configure``.

By default Heron owns a TracerProvider of its own and never touches OpenTelemetry's global one, so an
app's OpenTelemetry setup is left as it is. Parentage still follows the active OpenTelemetry context, which
all providers share: a Heron span opened inside an app's span is its child (same trace id), and an app's
span opened inside a Heron span is a child of the Heron span.

``configure(otel_global=True)`` instead adds Heron's processor to the global provider (creating an SDK
provider and setting it as the global one when the app has none), so spans of every OpenTelemetry
instrumentation in the process are recorded into Heron traces, and Heron's own spans go through the
app's exporters too. The provider is built lazily, at the first span.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from opentelemetry import trace as otel_trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from heron import __version__, config
from heron.errors import HeronError
from heron.tracing.export import EXPORTER, ExportSettings
from heron.tracing.ids import TimeOrderedIdGenerator
from heron.tracing.lightspan import LightTracer
from heron.tracing.pending import PendingSpan
from heron.tracing.processor import HeronSpanProcessor

__all__ = ["configure", "get_tracer", "light_tracer", "settings", "local_root", "Settings", "reset"]

_logger = logging.getLogger("heron.tracing")


@dataclass(frozen=True)
class Settings:
    """The tracing configuration in force (see ``configure``)."""

    otel_global: bool = False
    sampling_ratio: float = 1.0
    capture_content: bool = True
    span_processors: tuple[Callable[[PendingSpan], Any], ...] = ()
    max_value_chars: int = config.TRACE_MAX_VALUE_CHARS.default  # HERON_TRACE_MAX_VALUE_CHARS


class _State:
    def __init__(self) -> None:
        self.settings = Settings()
        self.tracer: otel_trace.Tracer | None = None
        self.processor: HeronSpanProcessor | None = None
        self.provider: TracerProvider | None = None
        self.light: LightTracer | None = None  # autolog's tracer, on Heron's own provider only (lightspan.py)
        self.configured = False  # configure() was called (else the first span reads the environment)
        self.lock = threading.Lock()


_state = _State()


def settings() -> Settings:
    return _state.settings


def local_root(span: otel_trace.Span) -> otel_trace.Span | None:
    """The open local root of ``span``'s trace (see processor.py), or None if Heron does not record it."""
    processor = _state.processor
    return None if processor is None else processor.local_root(span.get_span_context().span_id)


def configure(
    otel_global: bool = False,
    sampling_ratio: float | None = None,
    capture_content: bool = True,
    span_processors: Iterable[Callable[[PendingSpan], Any]] | None = None,
) -> None:
    """Set how Heron traces. Each call sets the whole configuration; call it before tracing starts.

    - ``otel_global``: also record spans of every OpenTelemetry instrumentation (see the module doc).
    - ``sampling_ratio``: share of traces kept, decided at the root span (children follow their root);
      default ``HERON_TRACE_SAMPLING_RATIO`` (1.0). With ``otel_global=True`` and an app provider that
      already exists, the app's sampler decides instead.
    - ``capture_content=False``: no inputs, outputs or message contents are kept (usage, models, timings
      and errors are).
    - ``span_processors``: functions called on the export thread with each finished span (a mutable
      ``PendingSpan``) before it is written; they may change it (redact PII) and return ``False`` to drop
      it. A processor that raises drops the span (never exported unredacted) and is logged, never raised.

    Raises HeronError(INVALID_PARAMETER_VALUE) for a ratio outside [0, 1] or a processor that is not
    callable. Thread-safe.
    """
    ratio = _check_ratio(config.TRACE_SAMPLING_RATIO.get() if sampling_ratio is None else sampling_ratio)
    processors = tuple(span_processors or ())
    for fn in processors:
        if not callable(fn):
            raise HeronError.invalid(f"span_processors must be functions taking a span, got {fn!r}.")
    new = Settings(bool(otel_global), ratio, bool(capture_content), processors, _max_value_chars())
    with _state.lock:
        _state.settings = new
        _state.configured = True
        EXPORTER.settings = ExportSettings(new.capture_content, new.span_processors)
        _install(new)


def get_tracer() -> otel_trace.Tracer:
    """The tracer Heron's spans are made with (building the provider on first use)."""
    tracer = _state.tracer
    if tracer is None:
        with _state.lock:
            if _state.tracer is None:
                current = _state.settings
                if not _state.configured:  # first span without configure(): the environment's settings
                    current = _state.settings = _from_environment(current)
                EXPORTER.settings = ExportSettings(current.capture_content, current.span_processors)
                _install(current)
            tracer = _state.tracer
    assert tracer is not None  # set by _install
    return tracer


def light_tracer() -> LightTracer | None:
    """The tracer of autolog's light spans, or None when they must be SDK spans (``otel_global``, or
    span limits only the SDK applies). Builds the provider on first use, as ``get_tracer`` does."""
    if _state.tracer is None:
        get_tracer()
    return _state.light


def _check_ratio(ratio: Any) -> float:
    if not isinstance(ratio, int | float) or isinstance(ratio, bool) or not math.isfinite(ratio) \
            or not 0.0 <= ratio <= 1.0:
        raise HeronError.invalid(f"sampling_ratio must be a number between 0 and 1, got {ratio!r}.")
    return float(ratio)


def _max_value_chars() -> int:
    value = config.TRACE_MAX_VALUE_CHARS.get()
    if value < 100:
        raise HeronError.invalid(f"HERON_TRACE_MAX_VALUE_CHARS must be at least 100, got {value}.")
    return value


def _from_environment(current: Settings) -> Settings:
    """``current`` with HERON_TRACE_SAMPLING_RATIO and HERON_TRACE_MAX_VALUE_CHARS applied. A bad value is
    logged and ignored: the first span must not raise into the traced code."""
    try:
        return replace(current, sampling_ratio=_check_ratio(config.TRACE_SAMPLING_RATIO.get()),
                       max_value_chars=_max_value_chars())
    except HeronError as exc:
        _logger.warning("Heron tracing: %s Using the defaults.", exc.message)
        return current


def _sampler(ratio: float) -> Sampler:
    return ParentBased(ALWAYS_ON if ratio >= 1.0 else TraceIdRatioBased(ratio))


def _install(new: Settings) -> None:
    """Build the provider and tracer for ``new`` (holding ``_state.lock``)."""
    if _state.processor is not None:
        _state.processor.enabled = False
    processor = HeronSpanProcessor(EXPORTER)
    provider: TracerProvider | None = None
    if new.otel_global:
        provider = _global_provider(new)
    own = provider is None
    if provider is None:
        provider = TracerProvider(sampler=_sampler(new.sampling_ratio), resource=_resource(),
                                  shutdown_on_exit=False, id_generator=TimeOrderedIdGenerator())
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("heron", __version__)
    light = None
    if own:  # only Heron's processor sees this provider's spans: autolog may use light spans
        scope = getattr(tracer, "_instrumentation_scope", None) or InstrumentationScope("heron", __version__)
        light = LightTracer(provider, scope, processor, always_sample=new.sampling_ratio >= 1.0)
    _state.processor = processor
    _state.provider = provider
    _state.light = light if light is not None and light.usable else None
    _state.tracer = tracer


def _global_provider(new: Settings) -> TracerProvider | None:
    current = otel_trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    if isinstance(current, otel_trace.ProxyTracerProvider):
        provider = TracerProvider(sampler=_sampler(new.sampling_ratio), resource=_resource(),
                                  id_generator=TimeOrderedIdGenerator())
        otel_trace.set_tracer_provider(provider)
        if otel_trace.get_tracer_provider() is provider:
            return provider
    _logger.warning("Heron tracing: the global OpenTelemetry TracerProvider is a %s, not the SDK's; Heron "
                    "cannot attach to it and records only its own spans.", type(current).__name__)
    return None


def _resource() -> Resource:
    named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    return Resource.create({} if named else {"service.name": "heron"})


def reset() -> None:
    """Back to the default configuration; the next span builds a fresh provider (tests)."""
    with _state.lock:
        if _state.processor is not None:
            _state.processor.enabled = False
        _state.settings = Settings()
        _state.configured = False
        _state.tracer = None
        _state.processor = None
        _state.provider = None
        _state.light = None
