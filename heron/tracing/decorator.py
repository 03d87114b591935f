"""``@heron.trace``: one span per call of a function, coroutine, generator or async generator.

The span's inputs are the call's arguments bound to parameter names (without ``self``/``cls``; defaults
filled in), its outputs the return value; a generator's outputs are its items, joined into one string when
they are all strings (or passed to ``output_reducer``). An exception ends the span with status ERROR and
an ``exception`` event and is re-raised unchanged. A generator's span is current only while the generator
runs, so what the consumer does between items is not nested under it. If tracing itself fails, the
function runs untraced: Heron never changes what a call returns or raises.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import Any, TypeVar, overload

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.trace import Status, StatusCode

from heron.tracing.attributes import INPUTS, OUTPUTS, SPAN_TYPE
from heron.tracing.provider import get_tracer, settings
from heron.tracing.sdk_attributes import is_plain, put, put_all
from heron.tracing.serialize import to_json
from heron.tracing.span_types import SpanType
from heron.tracing.spans import attribute_value

__all__ = ["trace"]

_logger = logging.getLogger("heron.tracing")
F = TypeVar("F", bound=Callable[..., Any])
_MAX_ITEMS = 10_000  # generator items kept for the span's outputs
_UNSET = StatusCode.UNSET
_attach = otel_context.attach
_detach = otel_context.detach
_in_context = otel_trace.set_span_in_context
_warned: set[str] = set()
_EMPTY = inspect.Parameter.empty


@overload
def trace(func: F) -> F: ...


@overload
def trace(
    func: None = None, *, name: str | None = None, span_type: str = SpanType.UNKNOWN,
    attributes: Mapping[str, Any] | None = None, output_reducer: Callable[[list[Any]], Any] | None = None,
) -> Callable[[F], F]: ...


def trace(
    func: F | None = None, *, name: str | None = None, span_type: str = SpanType.UNKNOWN,
    attributes: Mapping[str, Any] | None = None, output_reducer: Callable[[list[Any]], Any] | None = None,
) -> F | Callable[[F], F]:
    """Trace each call of the decorated function; usable as ``@trace`` or ``@trace(name=..., ...)``.

    ``name`` defaults to the function's name, ``span_type`` to UNKNOWN; ``attributes`` are set on every
    span; ``output_reducer`` turns a generator's list of items into its outputs. Thread- and task-safe.
    """
    def decorate(fn: F) -> F:
        return _wrap(fn, name or str(getattr(fn, "__name__", "span")), str(span_type), attributes, output_reducer)

    return decorate(func) if func is not None else decorate


class _Call:
    """What every call of one decorated function shares: its name, fixed attributes and argument binder."""

    __slots__ = ("name", "attributes", "plain", "positional", "params", "skip", "signature", "fast")

    def __init__(self, fn: Callable[..., Any], name: str, span_type: str,
                 attributes: Mapping[str, Any] | None) -> None:
        self.name = name
        fixed: dict[str, Any] = {SPAN_TYPE: span_type}
        for key, value in (attributes or {}).items():
            converted = attribute_value(value)
            if converted is not None:
                fixed[str(key)] = converted
        self.attributes = fixed
        self.plain = all(key and is_plain(value) for key, value in fixed.items())  # see sdk_attributes
        try:
            self.signature: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):
            self.signature = None
        params = list(self.signature.parameters.values()) if self.signature is not None else []
        self.skip = params[0].name if params and params[0].name in ("self", "cls") else None
        kinds = {p.kind for p in params}
        self.fast = self.signature is not None and kinds <= {
            inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY}
        self.positional = tuple(p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD)
        self.params = tuple((p.name, p.default) for p in params)  # in signature order

    def inputs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.fast and len(args) <= len(self.positional):
            if not kwargs and len(args) == len(self.params):  # every parameter given by position
                bound = dict(zip(self.positional, args, strict=True))
            else:
                given = dict(zip(self.positional, args, strict=False))
                if kwargs:
                    given.update(kwargs)
                bound = {}
                for key, default in self.params:
                    if key in given:
                        bound[key] = given.pop(key)
                    elif default is not _EMPTY:
                        bound[key] = default
                bound.update(given)  # unknown keywords: the call itself will raise
        elif self.signature is not None:
            try:
                found = self.signature.bind(*args, **kwargs)
            except TypeError:  # the call itself will raise
                return {"args": list(args), "kwargs": kwargs}
            found.apply_defaults()
            bound = dict(found.arguments)
        else:
            return {"args": list(args), "kwargs": kwargs}
        if self.skip is not None:
            bound.pop(self.skip, None)
        return bound

    def start(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> otel_trace.Span | None:
        """A started span with the call's inputs, or None if tracing failed (the call runs untraced)."""
        try:
            tracer = get_tracer()
            current = settings()
            if current.otel_global:  # the app's samplers and processors may read attributes at start
                attributes = self.attributes
                if current.capture_content:
                    attributes = dict(attributes)
                    attributes[INPUTS] = to_json(self.inputs(args, kwargs), current.max_value_chars)
                return tracer.start_span(self.name, attributes=attributes)
            # Heron's own provider: its sampler and processor read no attributes, so they are put in after
            # the start, already valid (sdk_attributes), and inputs only on a span that records.
            span = tracer.start_span(self.name)
            if span.is_recording():
                if not self.plain:
                    span.set_attributes(self.attributes)
                elif current.capture_content:
                    put_all(span, self.attributes, INPUTS, to_json(self.inputs(args, kwargs), current.max_value_chars))
                    return span
                else:
                    put_all(span, self.attributes)
                if current.capture_content:
                    put(span, INPUTS, to_json(self.inputs(args, kwargs), current.max_value_chars))
            return span
        except Exception:  # noqa: BLE001
            _warn_once("start", "Heron tracing could not start a span for %r; the call runs untraced.", self.name)
            return None


def _succeed(span: otel_trace.Span, outputs: Any) -> None:
    try:
        current = settings()
        if current.capture_content and span.is_recording():
            put(span, OUTPUTS, to_json(outputs, current.max_value_chars))
        span.end()  # no status set means OK (spans are stored as OK unless they are ERROR)
    except Exception:  # noqa: BLE001
        _warn_once("end", "Heron tracing could not end a span.")


def _fail(span: otel_trace.Span, exc: BaseException, outputs: Any = _EMPTY) -> None:
    try:
        if span.is_recording():
            current = settings()
            if outputs is not _EMPTY and current.capture_content:
                span.set_attribute(OUTPUTS, to_json(outputs, current.max_value_chars))
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        span.end()
    except Exception:  # noqa: BLE001
        _warn_once("end", "Heron tracing could not end a span.")


def _warn_once(key: str, message: str, *args: Any) -> None:
    if key not in _warned:
        _warned.add(key)
        _logger.warning(message, *args, exc_info=True)
    else:
        _logger.debug(message, *args, exc_info=True)


class _Items:
    """A generator's items, kept (up to a bound) to become the span's outputs."""

    __slots__ = ("items", "dropped", "reducer")

    def __init__(self, reducer: Callable[[list[Any]], Any] | None) -> None:
        self.items: list[Any] = []
        self.dropped = 0
        self.reducer = reducer

    def add(self, item: Any) -> None:
        if len(self.items) < _MAX_ITEMS:
            self.items.append(item)
        else:
            self.dropped += 1

    def outputs(self) -> Any:
        items = self.items
        if self.reducer is not None:
            try:
                return self.reducer(items)
            except Exception:  # noqa: BLE001 - a failing reducer must not break the generator
                _warn_once("reducer", "Heron tracing: output_reducer raised; the items are recorded as a list.")
        if items and all(type(i) is str for i in items):
            return "".join(items)
        if self.dropped:
            return [*items, f"...[{self.dropped} more items]"]
        return items


def _wrap(fn: F, name: str, span_type: str, attributes: Mapping[str, Any] | None,
          reducer: Callable[[list[Any]], Any] | None) -> F:
    call = _Call(fn, name, span_type, attributes)
    if inspect.isasyncgenfunction(fn):
        return functools.wraps(fn)(_async_generator_wrapper(fn, call, reducer))  # type: ignore[return-value]
    if inspect.isgeneratorfunction(fn):
        return functools.wraps(fn)(_generator_wrapper(fn, call, reducer))  # type: ignore[return-value]
    if inspect.iscoroutinefunction(fn):
        return functools.wraps(fn)(_coroutine_wrapper(fn, call))  # type: ignore[return-value]
    return functools.wraps(fn)(_function_wrapper(fn, call))  # type: ignore[return-value]


def _function_wrapper(fn: Callable[..., Any], call: _Call) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        span = call.start(args, kwargs)
        if span is None:
            return fn(*args, **kwargs)
        token = _attach(_in_context(span))
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            _detach(token)
            _fail(span, exc)
            raise
        _detach(token)
        _succeed(span, result)
        return result

    return wrapper


def _coroutine_wrapper(fn: Callable[..., Any], call: _Call) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        span = call.start(args, kwargs)
        if span is None:
            return await fn(*args, **kwargs)
        token = _attach(_in_context(span))
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            _detach(token)
            _fail(span, exc)
            raise
        _detach(token)
        _succeed(span, result)
        return result

    return wrapper


def _generator_wrapper(fn: Callable[..., Generator[Any, Any, Any]], call: _Call,
                       reducer: Callable[[list[Any]], Any] | None) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        span = call.start(args, kwargs)
        if span is None:
            return (yield from fn(*args, **kwargs))
        context = _in_context(span)
        items = _Items(reducer)
        try:
            gen = fn(*args, **kwargs)
            sent: Any = None
            thrown: BaseException | None = None
            while True:
                token = _attach(context)
                try:
                    if thrown is not None:
                        error, thrown = thrown, None
                        item = gen.throw(error)
                    else:
                        item = gen.send(sent)
                except StopIteration as stop:
                    result = stop.value
                    break
                finally:
                    _detach(token)
                items.add(item)
                try:
                    sent = yield item
                except GeneratorExit:
                    token = _attach(context)
                    try:
                        gen.close()
                    finally:
                        _detach(token)
                    raise
                except BaseException as exc:  # thrown in by the consumer: pass it on to the generator
                    thrown = exc
        except GeneratorExit:  # the consumer stopped early: not an error
            _succeed(span, items.outputs())
            raise
        except BaseException as exc:
            _fail(span, exc, items.outputs())
            raise
        _succeed(span, items.outputs())
        return result

    return wrapper


def _async_generator_wrapper(fn: Callable[..., AsyncGenerator[Any, Any]], call: _Call,
                             reducer: Callable[[list[Any]], Any] | None) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        span = call.start(args, kwargs)
        if span is None:
            async for item in fn(*args, **kwargs):
                yield item
            return
        context = _in_context(span)
        items = _Items(reducer)
        try:
            agen = fn(*args, **kwargs)
            sent: Any = None
            thrown: BaseException | None = None
            while True:
                token = _attach(context)
                try:
                    if thrown is not None:
                        error, thrown = thrown, None
                        item = await agen.athrow(error)
                    else:
                        item = await agen.asend(sent)
                except StopAsyncIteration:
                    break
                finally:
                    _detach(token)
                items.add(item)
                try:
                    sent = yield item
                except GeneratorExit:
                    token = _attach(context)
                    try:
                        await agen.aclose()
                    finally:
                        _detach(token)
                    raise
                except BaseException as exc:
                    thrown = exc
        except GeneratorExit:
            _succeed(span, items.outputs())
            raise
        except BaseException as exc:
            _fail(span, exc, items.outputs())
            raise
        _succeed(span, items.outputs())

    return wrapper


def reset_warnings() -> None:
    """Warn again on the next failure (tests)."""
    _warned.clear()
