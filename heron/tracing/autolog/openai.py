"""OpenAI autolog: each call of the ``openai`` SDK becomes a span, by patching the SDK's resource classes.

Patched, when the installed SDK has them: ``chat.completions.create`` and ``.parse`` (and
``beta.chat.completions.parse``), ``responses.create`` and ``.parse``, ``embeddings.create``, sync and
async. The SDK's own helpers built on them (``chat.completions.stream``, ``responses.stream``, the raw
and streaming response wrappers) go through the patched methods. A call made by another patched call
(``beta...parse`` calling ``parse``) is recorded once.

Recording never changes what the caller gets: failures inside Heron are logged once and swallowed, API
errors reach the caller unchanged. The one change to a request is ``stream_options.include_usage`` on a
streamed chat completion that did not say, and the usage-only chunk it adds is hidden from the caller
(``autolog(stream_usage=False)`` turns that off).
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import inspect
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.context import Context as _Context
from opentelemetry.context import attach as _attach
from opentelemetry.context import detach as _detach
from opentelemetry.context import get_current as _get_current
from opentelemetry.trace import Span
from opentelemetry.trace.propagation import _SPAN_KEY

from heron.errors import HeronError
from heron.tracing.attributes import INPUTS, OUTPUTS
from heron.tracing.autolog.openai_calls import (
    CHAT,
    EMBEDDINGS,
    RESPONSES,
    error_attributes,
    given,
    request_attributes,
    request_inputs,
    response_attributes,
    response_outputs,
    span_name,
)
from heron.tracing.autolog.openai_streams import (
    StreamCall,
    can_intercept,
    can_take_bytes,
    wrap_async_stream,
    wrap_stream,
)
from heron.tracing.lightspan import LightSpan
from heron.tracing.provider import settings as tracing_settings
from heron.tracing.serialize import plain_json
from heron.tracing.span_types import SpanType
from heron.tracing.spans import LiveSpan, start_owned_span

__all__ = ["autolog", "is_enabled"]

_logger = logging.getLogger(__name__)

# (module, class, method, api): what autolog patches, when the installed SDK has it
_TARGETS: tuple[tuple[str, str, str, str], ...] = tuple(
    (module, cls, method, api)
    for module, classes, methods, api in (
        ("openai.resources.chat.completions", ("Completions", "AsyncCompletions"), ("create", "parse"), CHAT),
        ("openai.resources.beta.chat.completions", ("Completions", "AsyncCompletions"), ("parse",), CHAT),
        ("openai.resources.responses", ("Responses", "AsyncResponses"), ("create", "parse"), RESPONSES),
        ("openai.resources.embeddings", ("Embeddings", "AsyncEmbeddings"), ("create",), EMBEDDINGS),
    )
    for cls in classes
    for method in methods
)
_RAW_HEADER = "X-Stainless-Raw-Response"  # set by the SDK's with_raw_response / with_streaming_response


@dataclass(frozen=True)
class _Patch:
    owner: type
    name: str
    original: Any
    patched: Any


@dataclass
class _Settings:
    enabled: bool = False  # a wrapper that could not be removed (see _unpatch) passes calls through
    silent: bool = False
    stream_usage: bool = True
    streams_wrappable: bool = False  # the SDK's streams iterate `_iterator`, which Heron can wrap
    streams_interceptable: bool = False  # ... and build each chunk through `self._client` (openai_streams)
    stream_bytes_takeable: bool = False  # ... and decode the response's bytes through `self._decoder`


_lock = threading.Lock()
_patches: list[_Patch] = []
_settings = _Settings()
_inside: contextvars.ContextVar[bool] = contextvars.ContextVar("heron_openai_call", default=False)
_reported: set[str] = set()
_stream_types: tuple[type, type] | None = None


def autolog(
    disable: bool = False,
    log_traces: bool = True,
    silent: bool = False,
    stream_usage: bool = True,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
) -> None:
    """Trace every call of the ``openai`` SDK (chat completions, responses, embeddings; sync and async).

    ``disable=True`` (or ``log_traces=False``) restores the SDK's original methods. Enabling twice patches
    once; a second call only updates the settings. ``silent`` turns Heron's warnings about its own
    recording failures into debug logs. ``stream_usage=False`` stops Heron from asking for usage on
    streamed chat completions (for OpenAI-compatible servers that reject ``stream_options``).
    ``exclusive`` and ``disable_for_unsupported_versions`` are accepted for MLflow compatibility and
    ignored. Raises HeronError when the ``openai`` package is not installed. Thread-safe.
    """
    del exclusive, disable_for_unsupported_versions
    with _lock:
        _settings.silent, _settings.stream_usage = silent, stream_usage
        if disable or not log_traces:
            _settings.enabled = False
            _unpatch()
        else:
            if not _patches:
                _patch()
            _settings.enabled = True


def is_enabled() -> bool:
    """Whether OpenAI autolog is on."""
    return _settings.enabled


def _patch() -> None:
    global _stream_types
    try:
        import openai
    except ImportError:
        raise HeronError.invalid(
            "heron.openai.autolog() needs the openai package; install it with: pip install 'heron[openai]'."
        ) from None
    _stream_types = (openai.Stream, openai.AsyncStream)
    _settings.streams_wrappable = _iterates_through_iterator(openai.Stream, ("__init__", "__iter__", "__next__")) \
        and _iterates_through_iterator(openai.AsyncStream, ("__init__", "__aiter__", "__anext__"))
    _settings.streams_interceptable = can_intercept(openai.Stream) and can_intercept(openai.AsyncStream)
    _settings.stream_bytes_takeable = can_take_bytes(openai.Stream) and can_take_bytes(openai.AsyncStream)
    for module_name, cls_name, method, api in _TARGETS:
        try:
            owner = getattr(importlib.import_module(module_name), cls_name)
        except (ImportError, AttributeError):
            continue  # not in this SDK version
        original = owner.__dict__.get(method)
        if original is None or not callable(original):
            continue
        is_async = inspect.iscoroutinefunction(inspect.unwrap(original))  # through @required_args
        if cls_name.startswith("Async") != is_async:
            continue  # an SDK shape this module does not know; leave it alone
        patched = _async_wrapper(original, api) if is_async else _sync_wrapper(original, api)
        try:
            setattr(owner, method, patched)
        except (AttributeError, TypeError) as exc:  # a class that refuses new attributes: trace the rest
            _failed(f"{cls_name}.{method} (not patched)", exc)
            continue
        _patches.append(_Patch(owner, method, original, patched))


def _iterates_through_iterator(cls: type, methods: tuple[str, ...]) -> bool:
    """Whether ``cls`` keeps its items in ``self._iterator`` as Heron expects. If not, streams are not
    followed and no usage is asked for, so that the caller never sees a chunk it did not ask for."""
    try:
        return all("self._iterator" in inspect.getsource(getattr(cls, name)) for name in methods)
    except (OSError, TypeError, AttributeError):
        return False


def _unpatch() -> None:
    while _patches:
        patch = _patches.pop()
        if patch.owner.__dict__.get(patch.name) is patch.patched:
            setattr(patch.owner, patch.name, patch.original)
        else:  # someone patched over Heron: removing ours would remove theirs too; ours now passes through
            _logger.warning("Heron could not restore %s.%s: another library replaced it after Heron did; "
                            "Heron's wrapper stays in place but records nothing.", patch.owner.__qualname__, patch.name)


def _failed(where: str, exc: BaseException) -> None:
    """Log a failure of Heron's own recording once per place; never raise."""
    level = logging.DEBUG if _settings.silent or where in _reported else logging.WARNING
    _reported.add(where)
    _logger.log(level, "Heron's OpenAI autolog could not record the %s (the call itself is unaffected): %s: %s",
                where, type(exc).__name__, exc, exc_info=exc)


class _Call:
    """One traced SDK call: its span, and the keyword arguments the SDK really gets.

    ``span`` is the OpenTelemetry span itself (a light span on Heron's own provider), not a LiveSpan:
    the attributes autolog makes are already what OpenTelemetry stores (``openai_calls``), so they go
    in at the start and the end in one step each (``start_owned_span``, ``LightSpan.finish``)."""

    __slots__ = ("api", "span", "kwargs", "hide_usage_chunk", "_token")

    def __init__(self, api: str, span: Span, kwargs: dict[str, Any], hide_usage_chunk: bool) -> None:
        self.api = api
        self.span = span
        self.kwargs = kwargs
        self.hide_usage_chunk = hide_usage_chunk
        self._token: object = None

    @classmethod
    def begin(cls, api: str, resource: Any, kwargs: dict[str, Any]) -> _Call | None:
        try:
            hide = False
            if (api == CHAT and kwargs.get("stream") is True and _settings.stream_usage
                    and _settings.streams_wrappable and not _is_raw(kwargs)):
                kwargs, hide = _ask_for_usage(kwargs)
            attributes = request_attributes(api, getattr(resource, "_client", None), kwargs)
        except Exception as exc:  # noqa: BLE001
            _failed("request", exc)
            return None
        try:
            _add_content(attributes, INPUTS, request_inputs(api, kwargs))
        except Exception as exc:  # noqa: BLE001
            _failed("inputs", exc)
        span = start_owned_span(  # never raises; one write of every attribute known before the call
            span_name(api, kwargs), SpanType.EMBEDDING if api == EMBEDDINGS else SpanType.CHAT_MODEL, attributes)
        return cls(api, span, kwargs, hide)

    def activate(self) -> None:
        """Make the span current while the SDK sends the request, so that HTTP spans nest under it."""
        try:
            self._token = _attach(_Context({**_get_current(), _SPAN_KEY: self.span}))  # set_span_in_context
        except Exception as exc:  # noqa: BLE001
            _failed("span context", exc)

    def deactivate(self) -> None:
        token, self._token = self._token, None
        if token is not None:
            _detach(token)  # type: ignore[arg-type]  # logs, never raises

    def fail(self, exc: BaseException) -> None:
        """Record an exception raised by the SDK call (or its stream) and end the span."""
        span = LiveSpan(self.span)
        try:
            span.set_attributes(error_attributes(exc))
            span.record_exception(exc)
            span.set_status("ERROR", description=f"{type(exc).__name__}: {exc}")
        except Exception as err:  # noqa: BLE001
            _failed("error", err)
        self._end(None)

    def succeed(self, result: Any) -> Any:
        """Record ``result`` (or start following it if it is a stream) and return it unchanged."""
        attributes: dict[str, Any] | None = None
        try:
            if _stream_types is not None and isinstance(result, _stream_types):
                if _settings.streams_wrappable and self._follow(result):
                    return result
            elif _is_raw(self.kwargs):
                status = getattr(result, "status_code", None)
                if type(status) is int:
                    attributes = {"http.response.status_code": status}
            else:
                attributes = response_attributes(self.api, result)
                _add_content(attributes, OUTPUTS, response_outputs(self.api, result))
        except Exception as exc:  # noqa: BLE001
            _failed("response", exc)
        self._end(attributes)
        return result

    def _follow(self, stream: Any) -> bool:
        call = StreamCall(self.api, self.hide_usage_chunk, self._stream_ended, _failed)
        wrap = wrap_async_stream if _stream_types is not None and isinstance(stream, _stream_types[1]) else wrap_stream
        return wrap(stream, call, _settings.streams_interceptable, _settings.stream_bytes_takeable)

    def _stream_ended(self, attributes: dict[str, Any], outputs: Any, error: BaseException | None) -> None:
        try:
            _add_content(attributes, OUTPUTS, outputs)
        except Exception as exc:  # noqa: BLE001
            _failed("stream", exc)
        if error is not None:
            LiveSpan(self.span).set_attributes(attributes)
            self.fail(error)
        else:
            self._end(attributes)

    def _end(self, attributes: dict[str, Any] | None) -> None:
        """End the span (OK unless an error was recorded), adding ``attributes`` made by openai_calls."""
        span = self.span
        try:
            if type(span) is LightSpan:
                span.finish(attributes or {})
            else:
                LiveSpan(span).end(attributes=attributes)
        except Exception as exc:  # noqa: BLE001
            _failed("span end", exc)


def _add_content(attributes: dict[str, Any], key: str, value: Any) -> None:
    """``attributes[key]``: the JSON text of ``value`` (inputs or outputs), unless content capture is
    off: what ``LiveSpan.set_inputs`` / ``set_outputs`` store, in the same write as the rest."""
    current = tracing_settings()
    if current.capture_content:
        attributes[key] = plain_json(value, current.max_value_chars)  # messages: nearly always plain data


def _is_raw(kwargs: Mapping[str, Any]) -> bool:
    headers = kwargs.get("extra_headers")
    return headers is not None and isinstance(headers, Mapping) and _RAW_HEADER in headers


def _materialize(api: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """One-shot iterables (generators of messages) as lists, so recording them does not consume them."""
    key = "messages" if api == CHAT else "input"
    value = kwargs.get(key)
    kind = type(value)
    if kind is list or kind is str or kind is tuple:
        return kwargs
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, list, tuple, Mapping)):
        return {**kwargs, key: list(value)}
    return kwargs


def _ask_for_usage(kwargs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """``kwargs`` asking for the usage chunk, and whether Heron asked (and so hides it).

    When the caller gave no ``stream_options``, the request goes in ``extra_body``: the same JSON on
    the wire, without the SDK's typed transform of ``stream_options`` (~50 µs a call on the benchmark
    machine). ``stream_options`` in the caller's own ``extra_body`` is theirs, as a parameter would be.
    """
    options = kwargs.get("stream_options")
    if not given(options):
        extra = kwargs.get("extra_body")
        if not given(extra):
            return {**kwargs, "extra_body": {"stream_options": {"include_usage": True}}}, True
        if isinstance(extra, Mapping):
            if "stream_options" in extra:
                return kwargs, False
            return {**kwargs, "extra_body": {**extra, "stream_options": {"include_usage": True}}}, True
        return {**kwargs, "stream_options": {"include_usage": True}}, True
    if isinstance(options, Mapping) and "include_usage" not in options:
        return {**kwargs, "stream_options": {**options, "include_usage": True}}, True
    return kwargs, False  # the caller said include_usage themselves, either way


def _sync_wrapper(original: Callable[..., Any], api: str) -> Callable[..., Any]:
    @functools.wraps(original)
    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _inside.get() or not _settings.enabled:
            return original(self, *args, **kwargs)
        kwargs = _materialize(api, kwargs)  # an error of the caller's iterable is theirs: not caught
        call = _Call.begin(api, self, kwargs)
        if call is None:
            return original(self, *args, **kwargs)
        token = _inside.set(True)
        call.activate()
        try:
            result = original(self, *args, **call.kwargs)
        except BaseException as exc:
            call.deactivate()
            call.fail(exc)
            raise
        finally:
            _inside.reset(token)
        call.deactivate()
        return call.succeed(result)

    return patched


def _async_wrapper(original: Callable[..., Any], api: str) -> Callable[..., Any]:
    @functools.wraps(original)
    async def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _inside.get() or not _settings.enabled:
            return await original(self, *args, **kwargs)
        kwargs = _materialize(api, kwargs)
        call = _Call.begin(api, self, kwargs)
        if call is None:
            return await original(self, *args, **kwargs)
        token = _inside.set(True)
        call.activate()
        try:
            result = await original(self, *args, **call.kwargs)
        except BaseException as exc:
            call.deactivate()
            call.fail(exc)
            raise
        finally:
            _inside.reset(token)
        call.deactivate()
        return call.succeed(result)

    return patched
