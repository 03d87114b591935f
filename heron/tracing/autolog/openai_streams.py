"""Streams of the OpenAI SDK, recorded without changing what the caller iterates.

A returned ``Stream``/``AsyncStream`` stays the same object (``isinstance`` checks, ``.response`` and
the SDK's stream helpers keep working); only its inner iterator is wrapped so that every chunk or event
passes through an accumulator, and its ``close`` also ends the span. The span ends when the stream is
exhausted, fails, is closed (``close()``, ``with stream:``), or is garbage-collected after an early
``break``. When Heron asked for usage on the caller's behalf, the extra usage-only chunk is hidden.

That hidden chunk is taken before the SDK decodes it, when the SDK feeds the response's bytes to
``self._decoder`` (``can_take_bytes``): a stand-in decoder looks at each network chunk first, and if the
usage-only event is whole in it (one ``data:`` line between blank lines, a JSON object with no choices),
Heron parses it and removes it, so the SDK never decodes it or builds its model (~75k instructions a
call). An event the network cut across chunks (rare: servers write each event at once) is decoded and
built by the SDK, and hidden by the wrapped iterator.

Where the SDK reads its bytes some other way but gets each event's model from
``self._client._process_response_data`` in ``__stream__`` (``can_intercept``), the stream's ``_client`` is
replaced by a stand-in whose ``_process_response_data`` hands a usage-only chunk to Heron as the plain
dict it is and passes everything else to the real client: the chunk is decoded but not built. Where
neither holds, it is built and then hidden.

Asking for usage also makes OpenAI add ``"usage": null`` to every other chunk. The stand-in decoder
takes those keys out of the bytes as well (the SDK then never builds the field); where one is left (a
first key, a key the network cut in two, the other paths), the accumulator marks that field of the chunk
as not sent before the caller gets it (``_unset``). Either way each chunk is the one the caller would
have got without Heron, ``model_fields_set`` and ``to_dict()`` included.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

from orjson import loads as json_loads

from heron.tracing.autolog.openai_calls import (
    CHAT,
    RESPONSES,
    field,
    response_attributes,
    responses_message,
    string_tuple,
    usage_attributes,
)
from heron.tracing.autolog.openai_calls import fields as fields_of

__all__ = ["StreamCall", "wrap_stream", "wrap_async_stream", "can_intercept", "can_take_bytes"]

_TAKEN = object()  # what the stand-in client returns for a usage-only chunk Heron took


_CHUNK_ATTRIBUTES = (("gen_ai.response.id", "id"), ("gen_ai.response.model", "model"),
                     ("openai.response.system_fingerprint", "system_fingerprint"),
                     ("openai.response.service_tier", "service_tier"))
_CHUNK_FIELDS = ("usage", "choices", *(key for _, key in _CHUNK_ATTRIBUTES))


class _ChatAccumulator:
    """Chat completion chunks folded into messages, finish reasons and usage."""

    def __init__(self, hide: bool = False) -> None:
        self.attributes: dict[str, Any] = {}
        self.choices: dict[int, dict[str, Any]] = {}
        self.usage: Any = None
        self._hide = hide  # Heron asked for usage: its usage-only chunk and `"usage": null` are not sent

    def add(self, chunk: Any) -> bool:
        """Fold ``chunk`` in; True when it is the usage-only chunk Heron asked for (hidden from the caller)."""
        fields = getattr(chunk, "__dict__", None)  # one lookup per field, as `field` does
        if fields is None:
            fields = {key: field(chunk, key) for key in _CHUNK_FIELDS}
        if not self.attributes:
            for name, key in _CHUNK_ATTRIBUTES:
                value = fields.get(key)
                if isinstance(value, str):
                    self.attributes[name] = str(value)  # exact str: see openai_calls._scalar
        usage = fields.get("usage")
        if usage is not None:
            self.usage = usage
        elif self._hide:
            _unset(chunk, "usage")
        choices = fields.get("choices")
        if not choices:
            return usage is not None and self._hide
        for choice in choices:
            state = self.choices.get(choice.index)
            if state is None:
                state = self.choices[choice.index] = {"role": "assistant", "content": [], "calls": {}}
            delta = choice.delta
            if delta is not None:
                found = getattr(delta, "__dict__", None) or fields_of(delta)  # older SDKs lack some fields
                role, content, refusal = found.get("role"), found.get("content"), found.get("refusal")
                if role:
                    state["role"] = role
                if content:
                    state["content"].append(content)
                if refusal:
                    state.setdefault("refusal", []).append(refusal)
                for call in found.get("tool_calls") or ():
                    slot = state["calls"].setdefault(call.index, {"id": None, "name": None, "arguments": []})
                    slot["id"] = call.id or slot["id"]
                    if call.function is not None:
                        slot["name"] = call.function.name or slot["name"]
                        if call.function.arguments:
                            slot["arguments"].append(call.function.arguments)
            if choice.finish_reason:
                state["finish_reason"] = choice.finish_reason
        return False

    def result(self) -> tuple[dict[str, Any], Any]:
        attrs = dict(self.attributes)
        messages = []
        reasons = []
        for _, state in sorted(self.choices.items()):
            message: dict[str, Any] = {"role": state["role"], "content": "".join(state["content"]) or None}
            if state["calls"]:
                message["tool_calls"] = [
                    {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": "".join(c["arguments"])}}
                    for _, c in sorted(state["calls"].items())
                ]
            if "refusal" in state:
                message["refusal"] = "".join(state["refusal"])
            messages.append(message)
            if "finish_reason" in state:
                reasons.append(state["finish_reason"])
        finish_reasons = string_tuple(reasons)
        if finish_reasons is not None:
            attrs["gen_ai.response.finish_reasons"] = finish_reasons
        attrs.update(usage_attributes(self.usage))
        return attrs, messages


def _unset(model: Any, name: str) -> None:
    """Mark the field ``name`` of a pydantic ``model`` as not sent: once Heron asks for usage, OpenAI adds
    `"usage": null` to every chunk but the usage-only one, and the chunk the caller gets must be the one
    they would have got without Heron (``model_fields_set``, and so ``to_dict()`` / ``to_json()``, which
    leave out fields not sent). Its value stays None, the field's default, as when it is not sent."""
    found = getattr(model, "__pydantic_fields_set__", None)  # pydantic 2
    if found is None:
        found = getattr(model, "__fields_set__", None)  # pydantic 1
    if type(found) is set:
        found.discard(name)


class _ResponsesAccumulator:
    """Responses API stream events: the final response when it arrives, else the text so far."""

    def __init__(self) -> None:
        self.final: Any = None
        self.first: Any = None
        self.text: list[str] = []

    def add(self, event: Any) -> bool:
        """Fold ``event`` in; never hidden (always False)."""
        kind = field(event, "type")
        if kind in ("response.completed", "response.incomplete", "response.failed"):
            self.final = event.response
        elif kind == "response.created":
            self.first = event.response
        elif kind == "response.output_text.delta":
            self.text.append(event.delta)
        return False

    def result(self) -> tuple[dict[str, Any], Any]:
        if self.final is not None:
            return response_attributes(RESPONSES, self.final), [responses_message(self.final)]
        attrs = response_attributes(RESPONSES, self.first) if self.first is not None else {}
        attrs.pop("gen_ai.response.finish_reasons", None)
        return attrs, [{"role": "assistant", "content": "".join(self.text) or None}]


class StreamCall:
    """One streamed call's recording: observes items, then ends its span exactly once.

    ``on_end(attributes, outputs, error)`` records and ends the span; it is called once, from
    whichever comes first: exhaustion, an error, ``close()``, or garbage collection.
    """

    def __init__(self, api: str, hide_usage_chunk: bool, on_end: Callable[[dict[str, Any], Any, BaseException | None], None],
                 on_failure: Callable[[str, BaseException], None]) -> None:
        self._acc: _ChatAccumulator | _ResponsesAccumulator = \
            _ChatAccumulator(hide_usage_chunk) if api == CHAT else _ResponsesAccumulator()
        self._hide = hide_usage_chunk
        self.hides_usage = hide_usage_chunk
        self._on_end: Callable[[dict[str, Any], Any, BaseException | None], None] | None = on_end
        self._on_failure = on_failure

    def recorder(self) -> Callable[[Any], bool]:
        """The per-item function of ``_iterate``: records an item and says whether the caller must not
        see it (the usage-only chunk Heron asked for). One call a chunk; see ``failed`` for errors."""
        return self._acc.add

    def failed(self, exc: Exception) -> Callable[[Any], bool]:
        """Log a recording failure of a stream item; returns the recorder to use from then on (one that
        records nothing, never breaking the caller's stream)."""
        self._on_failure("stream chunk", exc)
        return _ignore

    def take_usage(self, data: Any) -> bool:
        """Whether ``data`` (an event's JSON, before the SDK builds its model) is the usage-only chunk
        Heron asked for; if so its usage is recorded and the caller never sees it."""
        if not self._hide or type(data) is not dict or data.get("choices") or not isinstance(data.get("usage"), Mapping):
            return False
        acc = self._acc
        if isinstance(acc, _ChatAccumulator):
            acc.usage = data["usage"]
            return True
        return False

    def __del__(self) -> None:
        # The stream, its wrapped iterator and its stand-ins are all that hold this object, so it goes
        # when the stream does: a stream never iterated, or left after a break without close(), ends its
        # span here. (weakref.finalize on the stream did the same for ~7 µs more per stream.)
        try:
            self.end()
        except Exception:  # noqa: BLE001 - nothing may escape a finalizer
            pass

    def end(self, error: BaseException | None = None) -> None:
        on_end, self._on_end = self._on_end, None
        if on_end is None:
            return
        try:
            attrs, outputs = self._acc.result()
        except Exception as exc:  # noqa: BLE001
            self._on_failure("stream result", exc)
            attrs, outputs = {}, None
        on_end(attrs, outputs, error)


class _StandIn:
    """Stands in for one of a stream's SDK objects (``_inner``) for the usage-only event Heron asked for
    (``_call``); every attribute it does not define is the real object's."""

    __slots__ = ("_inner", "_call")

    def __init__(self, inner: Any, call: StreamCall) -> None:
        self._inner = inner
        self._call = call

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Intercepting(_StandIn):
    """Stands in for the SDK client inside one stream (see the module doc): usage-only chunks Heron asked
    for go to ``call`` unbuilt; every other attribute and call goes to the real client."""

    __slots__ = ()

    def _process_response_data(self, *, data: Any, cast_to: Any, response: Any) -> Any:
        if self._call.take_usage(data):
            return _TAKEN
        return self._inner._process_response_data(data=data, cast_to=cast_to, response=response)


class _UsageTakingDecoder(_StandIn):
    """Stands in for a stream's SSE decoder: the raw bytes pass through ``_without_usage`` first, so the
    usage-only event Heron asked for is taken before the SDK decodes it at all (see the module doc)."""

    __slots__ = ()

    def iter_bytes(self, iterator: Iterator[bytes]) -> Any:
        return self._inner.iter_bytes(_without_usage(iterator, self._call))

    def aiter_bytes(self, iterator: AsyncIterator[bytes]) -> Any:
        return self._inner.aiter_bytes(_awithout_usage(iterator, self._call))


# The usage-only event's mark, as servers write JSON: compact (OpenAI) or spaced (Python's json.dumps).
# Only a usage-only chunk has no choices; a JSON string cannot hold an unescaped quote, so these bytes
# are only ever that key.
_MARKS = (b'"choices":[]', b'"choices": []')
# The `"usage": null` OpenAI adds to every other chunk once usage is asked for, in the same two spellings,
# with the comma before it: a key after the first one. Taken out of the bytes, the SDK never builds the
# field (~3 µs a chunk) and it is not in the chunk's `model_fields_set`, as without Heron. A first key,
# or one the network cut in two, is left for the SDK, and `_unset` marks it as not sent.
_NULL_USAGE = (b',"usage":null', b', "usage": null')


class _UsageTakingBytes:
    """Takes the usage-only event out of a stream's network chunks (see ``_UsageTakingDecoder``) in one
    pass over each: the first chunk that shows the ``choices`` key says how the server writes JSON, and
    from then on only that spelling of the mark is looked for (each pass costs ~1.5 µs a streamed reply
    on the benchmark machine)."""

    __slots__ = ("_call", "_tail", "_marks", "_nulls")

    def __init__(self, call: StreamCall) -> None:
        self._call = call
        self._tail = b"\n\n"  # the last two bytes passed on (a stream starts between events)
        self._marks: tuple[bytes, ...] | None = None
        self._nulls: tuple[bytes, ...] = _NULL_USAGE

    def __call__(self, chunk: bytes) -> bytes:
        marks = self._marks
        if marks is None:
            key = chunk.find(b'"choices":')
            after = chunk[key + 10:key + 11] if key >= 0 else b""  # empty when the network cut right there
            if after == b"[" or after == b" ":
                compact = after == b"["
                marks = self._marks = _MARKS[:1] if compact else _MARKS[1:]
                self._nulls = _NULL_USAGE[:1] if compact else _NULL_USAGE[1:]
        for null in self._nulls:
            chunk = chunk.replace(null, b"")
        for mark in marks or _MARKS:
            at = chunk.find(mark)
            if at >= 0:
                chunk = _take_usage_event(chunk, self._call, self._tail, at)
                break
        self._tail = (self._tail + chunk)[-2:] if len(chunk) < 2 else chunk[-2:]
        return chunk


def _without_usage(chunks: Iterator[bytes], call: StreamCall) -> Iterator[bytes]:
    take = _UsageTakingBytes(call)
    for chunk in chunks:
        yield take(chunk)


async def _awithout_usage(chunks: AsyncIterator[bytes], call: StreamCall) -> AsyncIterator[bytes]:
    take = _UsageTakingBytes(call)
    async for chunk in chunks:
        yield take(chunk)


def _take_usage_event(chunk: bytes, call: StreamCall, tail: bytes, mark: int) -> bytes:
    """``chunk`` without the usage-only event Heron asked for (its mark, ``"choices": []``, at ``mark``),
    when the whole event is in it: one ``data:`` line starting where an event starts (after a blank line;
    ``tail`` is what came before ``chunk``) and ending with a blank line. Anything else is left for the SDK
    (and the wrapped iterator hides that chunk after the SDK has built it)."""
    start = chunk.rfind(b"data:", 0, mark)
    end = chunk.find(b"\n\n", mark)
    if start < 0 or end < 0 or chunk.find(b"\n", start, end) >= 0:
        return chunk
    if (chunk[start - 2:start] if start >= 2 else tail[start:] + chunk[:start]) != b"\n\n":
        return chunk
    try:
        data = json_loads(chunk[start + 5:end])
    except ValueError:
        return chunk
    if not call.take_usage(data):
        return chunk
    return chunk[:start] + chunk[end + 2:]


def can_intercept(stream_class: type) -> bool:
    """Whether ``stream_class.__stream__`` gets each event's model from ``self._client._process_response_data``
    (read when iteration starts), so that a stand-in client can take the usage-only chunk unbuilt."""
    try:
        source = inspect.getsource(stream_class.__stream__)  # type: ignore[attr-defined]
    except (OSError, TypeError, AttributeError):
        return False
    return "self._client._process_response_data" in source and source.count("self._client") == 1


def can_take_bytes(stream_class: type) -> bool:
    """Whether ``stream_class._iter_events`` feeds the response's bytes to ``self._decoder`` (read when
    iteration starts), so that a stand-in decoder can take the usage-only event before it is decoded."""
    try:
        source = inspect.getsource(stream_class._iter_events)  # type: ignore[attr-defined]
    except (OSError, TypeError, AttributeError):
        return False
    return "self._decoder.iter_bytes(self.response.iter_bytes())" in source \
        or "self._decoder.aiter_bytes(self.response.aiter_bytes())" in source


def _intercept(stream: Any, call: StreamCall, allowed: bool, bytes_allowed: bool) -> None:
    """Put the stand-ins in: the decoder when the SDK feeds it bytes (the usage event is then taken
    whole from the bytes, and in the rare stream where the network cuts it, the SDK builds that chunk and
    ``_iterate`` hides it), else the client (every event's JSON passes through it)."""
    if not call.hides_usage:
        return
    decoder = getattr(stream, "_decoder", None)
    if bytes_allowed and decoder is not None:
        stream._decoder = _UsageTakingDecoder(decoder, call)
        return
    client = getattr(stream, "_client", None)
    if allowed and client is not None and hasattr(client, "_process_response_data"):
        stream._client = _Intercepting(client, call)


def _ignore(item: Any) -> bool:
    return False


def _iterate(inner: Iterator[Any], call: StreamCall) -> Iterator[Any]:
    record = call.recorder()
    try:
        for item in inner:
            if item is _TAKEN:
                continue
            try:
                if record(item):
                    continue
            except Exception as exc:  # noqa: BLE001 - Heron's failure: the caller still gets the item
                record = call.failed(exc)
            yield item
    except BaseException as exc:  # GeneratorExit (early close or GC) included: end the span, re-raise
        call.end(None if isinstance(exc, GeneratorExit) else exc)
        raise
    call.end()


async def _aiterate(inner: AsyncIterator[Any], call: StreamCall) -> AsyncIterator[Any]:
    record = call.recorder()
    try:
        async for item in inner:
            if item is _TAKEN:
                continue
            try:
                if record(item):
                    continue
            except Exception as exc:  # noqa: BLE001
                record = call.failed(exc)
            yield item
    except BaseException as exc:
        call.end(None if isinstance(exc, GeneratorExit) else exc)
        raise
    call.end()


def wrap_stream(stream: Any, call: StreamCall, intercept: bool = False, take_bytes: bool = False) -> bool:
    """Route ``stream``'s items through ``call``, in place. False when the SDK's Stream is not as expected.
    ``intercept``: the stream class passed ``can_intercept``; ``take_bytes``: it passed ``can_take_bytes``."""
    inner = getattr(stream, "_iterator", None)
    if inner is None or not hasattr(type(stream), "close"):
        return False
    ref, close = weakref.ref(stream), type(stream).close

    def closing() -> None:
        try:
            target = ref()
            if target is not None:
                close(target)
        finally:
            call.end()

    _intercept(stream, call, intercept, take_bytes)
    stream._iterator = _iterate(inner, call)
    stream.close = closing  # an instance attribute: `with stream:` and explicit close() both reach it
    return True


def wrap_async_stream(stream: Any, call: StreamCall, intercept: bool = False, take_bytes: bool = False) -> bool:
    """Like :func:`wrap_stream`, for ``AsyncStream``."""
    inner = getattr(stream, "_iterator", None)
    if inner is None or not hasattr(type(stream), "close"):
        return False
    ref, close = weakref.ref(stream), type(stream).close

    async def closing() -> None:
        try:
            target = ref()
            if target is not None:
                await close(target)
        finally:
            call.end()

    _intercept(stream, call, intercept, take_bytes)
    stream._iterator = _aiterate(inner, call)
    stream.close = closing
    return True
