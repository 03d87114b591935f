"""heron.openai.autolog with the real `openai` SDK against the fake OpenAI server, stored in SQLite."""

from __future__ import annotations

import asyncio
import enum
import gc
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx2
import numpy
import openai
import pytest
from openai._streaming import SSEDecoder
from openai.resources.chat.completions import AsyncCompletions, Completions
from openai.resources.embeddings import AsyncEmbeddings, Embeddings
from openai.resources.responses import AsyncResponses, Responses
from pydantic import BaseModel, model_serializer

import heron
import heron.openai
from heron.tracing import fluent as tracing
from heron.tracing.cost import price_for
from heron.tracing.records import Span, Trace
from heron.tracing.spans import start_span
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.fakes.openai_server import FakeOpenAI

PATCHED = [(Completions, "create"), (AsyncCompletions, "create"), (Completions, "parse"), (AsyncCompletions, "parse"),
           (Responses, "create"), (AsyncResponses, "create"), (Responses, "parse"), (AsyncResponses, "parse"),
           (Embeddings, "create"), (AsyncEmbeddings, "create")]
ORIGINALS = {(cls, name): cls.__dict__[name] for cls, name in PATCHED}
TOOLS: Any = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
HELLO: Any = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}]


@pytest.fixture
def store(sqlite_uri: str) -> Iterator[str]:
    tracing.reset_for_tests()
    yield sqlite_uri
    tracing.reset_for_tests()


@pytest.fixture
def autolog(store: str) -> Iterator[None]:
    heron.openai.autolog()
    yield
    heron.openai.autolog(disable=True)


@pytest.fixture
def client(fake_openai: FakeOpenAI) -> Iterator[openai.OpenAI]:  # noqa: F811
    with openai.OpenAI(base_url=fake_openai.base_url, api_key="test", max_retries=0) as c:
        yield c


def _aclient(fake: FakeOpenAI) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=fake.base_url, api_key="test", max_retries=0)


def _trace() -> Trace:
    trace_id = tracing.get_last_active_trace_id()
    assert trace_id is not None
    trace = tracing.get_trace(trace_id)
    assert trace is not None
    return trace


def _span() -> Span:
    """The one span of the last trace."""
    (span,) = _trace().data.spans
    return span


_IDS = {"id", "created", "response", "item_id", "sequence_number"}


def _no_ids(chunks: list[Any]) -> list[dict[str, Any]]:
    return [c.model_dump(exclude=_IDS) for c in chunks]


def _as_sent(chunks: list[Any]) -> list[dict[str, Any]]:
    """The chunks as the SDK's ``to_dict()`` gives them (only the fields the server sent), as an app
    forwarding a stream would pass them on."""
    return [{k: v for k, v in c.to_dict().items() if k not in _IDS} for c in chunks]


# ------------------------------------------------------------------------------------ chat completions


def _assert_chat_span(span: Span, model: str = "gpt-4o-mini") -> None:
    assert span.name == f"chat {model}"
    assert span.span_type == "CHAT_MODEL"
    assert span.status.status_code == "OK"
    a = span.attributes
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.request.model"] == model
    assert a["gen_ai.response.model"].startswith(model + "-")
    assert a["server.address"] == "127.0.0.1"
    assert isinstance(a["server.port"], int)


def test_chat_sync(autolog: None, client: openai.OpenAI, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.cached_tokens = 1
    result = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, temperature=0.2, top_p=0.9,
                                            max_tokens=50, seed=7, stop=["\n"])
    assert result.choices[0].message.content == "echo: hello there"
    span = _span()
    _assert_chat_span(span)
    assert span.inputs == HELLO
    assert span.outputs == [{"role": "assistant", "content": "echo: hello there"}]
    a = span.attributes
    assert (a["gen_ai.request.temperature"], a["gen_ai.request.top_p"], a["gen_ai.request.max_tokens"]) == (0.2, 0.9, 50)
    assert a["gen_ai.request.seed"] == 7 and list(a["gen_ai.request.stop_sequences"]) == ["\n"]
    assert a["gen_ai.response.id"] == result.id
    assert list(a["gen_ai.response.finish_reasons"]) == ["stop"]
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (4, 3)
    assert a["gen_ai.usage.cache_read.input_tokens"] == 1


class _Tokens(enum.IntEnum):
    FEW = 40


def test_request_parameters_of_other_number_types_are_stored_as_plain_numbers(
    autolog: None, client: openai.OpenAI
) -> None:
    """A light span takes autolog's attributes unchecked: a numpy float or an IntEnum must arrive there
    as a plain float or int (and a value no attribute can hold is left out), never as the object."""
    client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, temperature=numpy.float64(0.5),
                                   max_tokens=_Tokens.FEW, stop=("a", "b"), n=1)
    spans = tracing.search_traces(return_type="list")[0].data.spans
    live = spans[0].attributes
    assert live["gen_ai.request.temperature"] == 0.5 and type(live["gen_ai.request.temperature"]) is float
    assert live["gen_ai.request.max_tokens"] == 40 and type(live["gen_ai.request.max_tokens"]) is int
    assert list(live["gen_ai.request.stop_sequences"]) == ["a", "b"]
    assert "gen_ai.request.choice.count" not in live  # n=1 is the default: not recorded
    assert spans[0].inputs == HELLO


def test_chat_async(autolog: None, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    async def call() -> str | None:
        async with _aclient(fake_openai) as client:
            result = await client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
            return result.choices[0].message.content

    assert asyncio.run(call()) == "echo: hello there"
    span = _span()
    _assert_chat_span(span)
    assert span.outputs == [{"role": "assistant", "content": "echo: hello there"}]
    assert span.attributes["gen_ai.usage.output_tokens"] == 3


def test_stored_trace_has_tokens_and_cost(autolog: None, client: openai.OpenAI, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.cached_tokens = 2
    client.chat.completions.create(model="gpt-4o", messages=HELLO)
    trace = _trace()
    price = price_for("gpt-4o")
    assert price is not None
    assert (trace.info.input_tokens, trace.info.output_tokens, trace.info.cached_input_tokens) == (4, 3, 2)
    assert trace.info.cost == pytest.approx(price.cost(4, 3, 2))
    assert trace.info.unpriced is False
    assert trace.data.spans[0].attributes["heron.cost.usd"] == pytest.approx(price.cost(4, 3, 2))


def test_unpriced_model_has_no_cost(autolog: None, client: openai.OpenAI) -> None:
    client.chat.completions.create(model="my-local-model", messages=HELLO)
    trace = _trace()
    assert trace.info.input_tokens == 4
    assert trace.info.cost is None and trace.info.unpriced is True


def test_tool_calls(autolog: None, client: openai.OpenAI) -> None:
    messages: Any = [{"role": "user", "content": "weather in Paris?"}]
    result = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    call = result.choices[0].message.tool_calls[0]  # type: ignore[index]
    span = _span()
    assert span.outputs == [{"role": "assistant", "content": None, "tool_calls": [
        {"id": call.id, "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]}]
    assert list(span.attributes["gen_ai.response.finish_reasons"]) == ["tool_calls"]
    assert json.loads(span.attributes["gen_ai.tool.definitions"]) == TOOLS
    # the tool result goes back in: recorded as the next call's inputs
    follow_up = [*messages, result.choices[0].message, {"role": "tool", "tool_call_id": call.id, "content": "20C"}]
    client.chat.completions.create(model="gpt-4o", messages=follow_up, tools=TOOLS)
    inputs = _span().inputs
    assert inputs[1]["tool_calls"][0]["id"] == call.id and inputs[1]["role"] == "assistant"
    assert inputs[2] == {"role": "tool", "tool_call_id": call.id, "content": "20C"}


class Weather(BaseModel):
    city: str
    celsius: int


def test_parse_with_pydantic_is_one_span(autolog: None, client: openai.OpenAI) -> None:
    result = client.chat.completions.parse(model="gpt-4o", messages=HELLO, response_format=Weather)
    assert result.choices[0].message.parsed == Weather(city="x", celsius=1)
    span = _span()  # one span, though parse goes through the SDK's own machinery
    _assert_chat_span(span, "gpt-4o")
    assert span.attributes["gen_ai.output.type"] == "json"
    assert span.outputs[0]["parsed"] == {"city": "x", "celsius": 1}


def test_messages_given_as_a_generator_still_reach_the_api(
    autolog: None, client: openai.OpenAI, fake_openai: FakeOpenAI  # noqa: F811
) -> None:
    result = client.chat.completions.create(model="gpt-4o-mini", messages=(m for m in HELLO))
    assert result.choices[0].message.content == "echo: hello there"
    assert fake_openai.requests[-1][1]["messages"] == HELLO
    assert _span().inputs == HELLO


def test_an_error_of_the_callers_messages_iterable_is_theirs(autolog: None, client: openai.OpenAI) -> None:
    def messages() -> Iterator[Any]:
        yield HELLO[0]
        raise LookupError("no more messages")

    with pytest.raises(LookupError, match="no more messages"):
        client.chat.completions.create(model="gpt-4o-mini", messages=messages())


# ------------------------------------------------------------------------------------------ streaming


def _stream_chunks(client: openai.OpenAI, **kwargs: Any) -> list[Any]:
    return list(client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, stream=True, **kwargs))


def test_stream_sync_caller_sees_the_same_chunks_and_usage_is_recorded(
    store: str, client: openai.OpenAI, fake_openai: FakeOpenAI  # noqa: F811
) -> None:
    plain = _stream_chunks(client)
    heron.openai.autolog()
    try:
        traced = _stream_chunks(client)
    finally:
        heron.openai.autolog(disable=True)
    assert _no_ids(traced) == _no_ids(plain)
    assert _as_sent(traced) == _as_sent(plain)  # not even the `"usage": null` Heron's request adds
    assert all("usage" not in c.model_fields_set for c in traced)
    # Heron asked for usage, and hid the usage-only chunk
    assert fake_openai.requests[-1][1]["stream_options"] == {"include_usage": True}
    span = _span()
    _assert_chat_span(span)
    assert span.outputs == [{"role": "assistant", "content": "echo: hello there"}]
    assert (span.attributes["gen_ai.usage.input_tokens"], span.attributes["gen_ai.usage.output_tokens"]) == (4, 3)
    assert list(span.attributes["gen_ai.response.finish_reasons"]) == ["stop"]


def test_stream_caller_asking_for_usage_gets_the_usage_chunk(autolog: None, client: openai.OpenAI) -> None:
    chunks = _stream_chunks(client, stream_options={"include_usage": True})
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert _span().attributes["gen_ai.usage.output_tokens"] == 3


def test_stream_caller_refusing_usage_is_respected(
    autolog: None, client: openai.OpenAI, fake_openai: FakeOpenAI  # noqa: F811
) -> None:
    chunks = _stream_chunks(client, stream_options={"include_usage": False})
    assert all(c.choices for c in chunks)
    assert fake_openai.requests[-1][1]["stream_options"] == {"include_usage": False}
    span = _span()
    assert span.outputs == [{"role": "assistant", "content": "echo: hello there"}]
    assert "gen_ai.usage.input_tokens" not in span.attributes


def test_stream_usage_request_keeps_the_callers_extra_body(
    autolog: None, client: openai.OpenAI, fake_openai: FakeOpenAI  # noqa: F811
) -> None:
    chunks = _stream_chunks(client, extra_body={"user": "u-1"})
    body = fake_openai.requests[-1][1]
    assert body["user"] == "u-1" and body["stream_options"] == {"include_usage": True}
    assert all(c.choices for c in chunks)  # the usage chunk Heron asked for stays hidden
    assert _span().attributes["gen_ai.usage.output_tokens"] == 3


def test_stream_options_in_the_callers_extra_body_are_theirs(
    autolog: None, client: openai.OpenAI, fake_openai: FakeOpenAI  # noqa: F811
) -> None:
    chunks = _stream_chunks(client, extra_body={"stream_options": {"include_usage": True}})
    assert fake_openai.requests[-1][1]["stream_options"] == {"include_usage": True}
    assert chunks[-1].choices == [] and chunks[-1].usage is not None  # asked for by the caller: shown
    assert _span().attributes["gen_ai.usage.output_tokens"] == 3


def test_stream_usage_false_sends_the_request_unchanged(store: str, client: openai.OpenAI, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    heron.openai.autolog(stream_usage=False)
    try:
        _stream_chunks(client)
    finally:
        heron.openai.autolog(disable=True)
    assert "stream_options" not in fake_openai.requests[-1][1]
    assert _span().outputs == [{"role": "assistant", "content": "echo: hello there"}]


def test_stream_async_caller_sees_the_same_chunks(store: str, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    async def chunks() -> list[Any]:
        async with _aclient(fake_openai) as client:
            stream = await client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, stream=True)
            return [c async for c in stream]

    plain = asyncio.run(chunks())
    heron.openai.autolog()
    try:
        traced = asyncio.run(chunks())
    finally:
        heron.openai.autolog(disable=True)
    assert _no_ids(traced) == _no_ids(plain)
    assert _as_sent(traced) == _as_sent(plain)
    span = _span()
    _assert_chat_span(span)
    assert span.outputs == [{"role": "assistant", "content": "echo: hello there"}]
    assert span.attributes["gen_ai.usage.input_tokens"] == 4


def _usage_only(data: Any) -> bool:
    return isinstance(data, dict) and not data.get("choices") and data.get("usage") is not None


class _Counting:
    """Records the JSON of every event the SDK builds a model from (mixed into a client class)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.built: list[Any] = []

    def _process_response_data(self, *, data: Any, cast_to: Any, response: Any) -> Any:
        self.built.append(data)
        return super()._process_response_data(data=data, cast_to=cast_to, response=response)  # type: ignore[misc]


class _CountingClient(_Counting, openai.OpenAI):
    pass


class _CountingAsyncClient(_Counting, openai.AsyncOpenAI):
    pass


def test_the_usage_chunk_heron_asks_for_is_never_built_into_an_sdk_model(
    autolog: None, fake_openai: FakeOpenAI  # noqa: F811
) -> None:
    """Building the SDK's model of that chunk is most of what asking for usage costs: Heron reads its
    JSON instead. What the caller iterates, and what is recorded, stay the same."""
    client = _CountingClient(base_url=fake_openai.base_url, api_key="test", max_retries=0)
    chunks = _stream_chunks(client)
    assert fake_openai.requests[-1][1]["stream_options"] == {"include_usage": True}
    assert len(client.built) == len(chunks) and not any(_usage_only(d) for d in client.built)
    assert all(c.choices for c in chunks)
    span = _span()
    assert (span.attributes["gen_ai.usage.input_tokens"], span.attributes["gen_ai.usage.output_tokens"]) == (4, 3)
    assert span.outputs == [{"role": "assistant", "content": "echo: hello there"}]

    tracing.reset_for_tests()
    asked = _stream_chunks(client, stream_options={"include_usage": True})  # the caller's own: built and seen
    assert _usage_only(client.built[-1]) and asked[-1].usage is not None

    async def streamed() -> list[Any]:
        async with _CountingAsyncClient(base_url=fake_openai.base_url, api_key="test", max_retries=0) as aclient:
            stream = await aclient.chat.completions.create(model="gpt-4o-mini", messages=HELLO, stream=True)
            items = [c async for c in stream]
            assert len(aclient.built) == len(items) and not any(_usage_only(d) for d in aclient.built)
            return items

    assert all(c.choices for c in asyncio.run(streamed()))
    assert fake_openai.requests[-1][1]["stream_options"] == {"include_usage": True}
    assert _span().attributes["gen_ai.usage.output_tokens"] == 3


def _other_iter_events(self: Any) -> Any:
    """``Stream._iter_events`` of another SDK version: the same events, read through another line of code."""
    raw = self.response.iter_bytes()
    yield from self._decoder.iter_bytes(raw)


def _plain_then_traced(client: _CountingClient) -> tuple[list[Any], list[Any]]:
    """The chunks of one stream without autolog, then of one with it (``client.built`` counts the second)."""
    plain = _stream_chunks(client)
    client.built.clear()
    heron.openai.autolog()
    try:
        return plain, _stream_chunks(client)
    finally:
        heron.openai.autolog(disable=True)


def test_an_sdk_heron_cannot_hook_at_all_still_gives_the_caller_the_same_chunks(
    store: str, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """Where the SDK neither feeds the response's bytes to its decoder nor builds each chunk through its
    client as Heron expects (another version), the usage-only chunk is built and then hidden, and the
    `"usage": null` Heron's request makes the server add is still not in what the caller gets."""
    original_stream = openai.Stream.__stream__

    def other_stream(self: Any) -> Any:  # builds each chunk through a line Heron does not recognise
        yield from original_stream(self)

    monkeypatch.setattr(openai.Stream, "_iter_events", _other_iter_events)
    monkeypatch.setattr(openai.Stream, "__stream__", other_stream)
    client = _CountingClient(base_url=fake_openai.base_url, api_key="test", max_retries=0)
    plain, chunks = _plain_then_traced(client)
    assert fake_openai.requests[-1][1]["stream_options"] == {"include_usage": True}
    assert _usage_only(client.built[-1]) and any(d.get("usage", 0) is None for d in client.built)  # built as sent
    assert _no_ids(chunks) == _no_ids(plain) and _as_sent(chunks) == _as_sent(plain)
    assert all("usage" not in c.model_fields_set for c in chunks)
    assert _span().attributes["gen_ai.usage.output_tokens"] == 3


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")  # model_dump of the odd chunk
def test_a_chunk_heron_cannot_read_never_breaks_the_callers_stream(
    store: str, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    """A chunk Heron's accumulator fails on (``tool_calls`` that is not a list): the caller still
    iterates every chunk, the failure is logged, and the span still ends with what came before."""
    request = {"model": "gpt-4o-mini", "messages": HELLO, "stream": True}
    body = httpx2.post(f"{fake_openai.base_url}/chat/completions", timeout=30, json=request).content
    odd = (b'data: {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini", '
           b'"choices": [{"index": 0, "delta": {"tool_calls": 5}, "finish_reason": null}]}\n\n')
    first = body.index(b"\n\n") + 2
    body = body[:first] + odd + body[first:]
    expected = _no_ids(list(_replaying(body, [], []).chat.completions.create(**request)))
    heron.openai.autolog()
    try:
        with caplog.at_level(logging.DEBUG, logger="heron"):  # a warning the first time in a process, then debug
            chunks = list(_replaying(body, [], []).chat.completions.create(**request))
    finally:
        heron.openai.autolog(disable=True)
    assert _no_ids(chunks) == expected and any(c.choices[0].delta.tool_calls == 5 for c in chunks)
    assert [r for r in caplog.records if "stream chunk" in r.getMessage()]
    heron.flush_traces()
    span = _span()
    assert span.status.status_code == "OK" and span.attributes["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert span.outputs == [{"role": "assistant", "content": None}]  # the chunks before the odd one


def test_an_sdk_that_reads_stream_bytes_otherwise_still_never_builds_the_usage_chunk(
    store: str, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """Where the SDK does not feed the response's bytes to its decoder as this one does (another version),
    Heron cannot take the usage event from the bytes; it takes the event's JSON before the SDK builds a
    model of it instead. The caller sees the same chunks either way."""
    seen: list[str] = []

    class Client(_CountingClient):
        def _make_sse_decoder(self) -> Any:
            return _RecordingDecoder(seen)

    monkeypatch.setattr(openai.Stream, "_iter_events", _other_iter_events)
    client = Client(base_url=fake_openai.base_url, api_key="test", max_retries=0)
    plain, chunks = _plain_then_traced(client)
    assert fake_openai.requests[-1][1]["stream_options"] == {"include_usage": True}
    assert _no_ids(chunks) == _no_ids(plain) and _as_sent(chunks) == _as_sent(plain)
    assert any('"choices": []' in data for data in seen)  # the SDK decoded the usage event ...
    assert len(client.built) == len(chunks) and not any(_usage_only(d) for d in client.built)  # ... unbuilt
    span = _span()
    assert (span.attributes["gen_ai.usage.input_tokens"], span.attributes["gen_ai.usage.output_tokens"]) == (4, 3)
    assert span.outputs == [{"role": "assistant", "content": "echo: hello there"}]


class _RecordingDecoder(SSEDecoder):
    """The SDK's own SSE decoder, noting the data of every event it decodes."""

    def __init__(self, seen: list[str]) -> None:
        super().__init__()
        self.seen = seen

    def decode(self, line: str) -> Any:
        sse = super().decode(line)
        if sse is not None:
            self.seen.append(sse.data)
        return sse


def _replaying(body: bytes, cuts: list[int], seen: list[str]) -> openai.OpenAI:
    """A client whose transport replays ``body`` in network chunks cut at ``cuts``, and whose SSE decoder
    notes each event it decodes."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        edges = [0, *cuts, len(body)]
        parts = [body[a:b] for a, b in zip(edges, edges[1:], strict=False)]
        return httpx2.Response(200, content=iter(parts), headers={"content-type": "text/event-stream"})

    class Client(openai.OpenAI):
        def _make_sse_decoder(self) -> Any:
            return _RecordingDecoder(seen)

    return Client(base_url="http://127.0.0.1:9/v1", api_key="test", max_retries=0,
                  http_client=openai.DefaultHttpxClient(transport=httpx2.MockTransport(handler)))


def _respelled(body: bytes, spelling: str) -> bytes:
    """The fake server's SSE ``body`` (spaced JSON, as Python writes it) with each event written spaced or
    compactly (as OpenAI writes it), and with or without the null usage keys (some OpenAI-compatible
    servers send none)."""
    events = []
    for event in body.split(b"\n\n"):
        if event.startswith(b"data: {"):
            data = json.loads(event[len(b"data: "):])
            if spelling.endswith("no null usage") and data.get("usage", 0) is None:
                del data["usage"]
            separators = (",", ":") if spelling.startswith("compact") else (", ", ": ")
            event = b"data: " + json.dumps(data, separators=separators).encode()
        events.append(event)
    return b"\n\n".join(events)


@pytest.mark.parametrize("spelling", ["spaced", "compact", "spaced, no null usage", "compact, no null usage"])
@pytest.mark.parametrize("cut", ["whole", "per event", "after the first choices key"])
def test_the_usage_event_is_taken_from_the_bytes_however_the_server_spells_its_json(
    store: str, fake_openai: FakeOpenAI, spelling: str, cut: str  # noqa: F811
) -> None:
    """OpenAI writes compact JSON (`"usage":null`), Python's json.dumps spaced JSON, and some servers send
    no null usage at all: each way, the usage-only event never reaches the SDK's decoder, the caller's
    chunks are sent-for-sent those of the same call without Heron, and the usage is recorded."""
    request = {"model": "gpt-4o-mini", "messages": HELLO, "stream": True}
    with_usage = _respelled(httpx2.post(f"{fake_openai.base_url}/chat/completions", timeout=30,
                                        json={**request, "stream_options": {"include_usage": True}}).content, spelling)
    without = _respelled(httpx2.post(f"{fake_openai.base_url}/chat/completions", timeout=30, json=request).content,
                         spelling)
    assert (b'"usage":null' in with_usage) is (spelling == "compact")
    assert (b'"usage": null' in with_usage) is (spelling == "spaced")
    cuts = {"whole": [], "per event": [m.end() for m in re.finditer(b"\n\n", with_usage)][:-1],
            "after the first choices key": [with_usage.index(b'"choices":') + len(b'"choices":')]}[cut]
    expected = _as_sent(list(_replaying(without, [], []).chat.completions.create(**request)))
    heron.openai.autolog()
    try:
        seen: list[str] = []
        chunks = list(_replaying(with_usage, cuts, seen).chat.completions.create(**request))
    finally:
        heron.openai.autolog(disable=True)
    assert _as_sent(chunks) == expected
    assert seen and not any('"choices":[]' in data or '"choices": []' in data for data in seen)
    # the null usage keys Heron's request added are taken out of the bytes too: the SDK never decodes them
    assert not any('"usage":null' in data or '"usage": null' in data for data in seen)
    heron.flush_traces()
    assert _span().attributes["gen_ai.usage.output_tokens"] == 3


def test_text_that_looks_like_a_null_usage_key_reaches_the_caller_and_the_span_unchanged(
    store: str, fake_openai: FakeOpenAI  # noqa: F811
) -> None:
    """Heron takes `, "usage": null` out of a stream's bytes; inside a JSON string the quotes are escaped,
    so a reply whose text holds those characters is streamed and recorded as it was written."""
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key="test", max_retries=0)
    messages = [{"role": "user", "content": 'copy {"a",  "usage": null,"usage":null} verbatim'}]
    plain = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, stream=True))
    assert '"usage": null,"usage":null' in plain
    heron.openai.autolog()
    try:
        traced = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
            model="gpt-4o-mini", messages=messages, stream=True) if c.choices)
    finally:
        heron.openai.autolog(disable=True)
    assert traced == plain
    heron.flush_traces()
    span = _span()
    assert span.outputs == [{"role": "assistant", "content": plain}]
    assert span.attributes["gen_ai.usage.output_tokens"] == len(plain.split())


def test_the_usage_event_is_taken_from_the_bytes_wherever_the_network_cuts_them(
    store: str, fake_openai: FakeOpenAI  # noqa: F811
) -> None:
    """When the usage-only event Heron asked for arrives whole in one network chunk, Heron takes it before
    the SDK decodes it; cut anywhere else, the SDK decodes and builds it and Heron hides it. Either way the
    caller iterates the same chunks as without autolog and the usage is recorded."""
    request = {"model": "gpt-4o-mini", "messages": HELLO, "stream": True}
    with_usage = httpx2.post(f"{fake_openai.base_url}/chat/completions", timeout=30,
                             json={**request, "stream_options": {"include_usage": True}}).content
    without = httpx2.post(f"{fake_openai.base_url}/chat/completions", timeout=30, json=request).content
    usage_at = with_usage.index(b'"choices": []')
    event_start = with_usage.rindex(b"data:", 0, usage_at)
    event_end = with_usage.index(b"\n\n", usage_at) + 2
    plain = list(_replaying(without, [], []).chat.completions.create(**request))
    expected, expected_sent = _no_ids(plain), _as_sent(plain)
    null_keys = [m.start() for m in re.finditer(rb', "usage": null', with_usage)]
    assert null_keys  # the fake server sends them as OpenAI does, once usage is asked for
    cut_points = sorted({*range(1, len(with_usage), 97), event_start - 1, event_start, event_start + 3, usage_at,
                         event_end - 1, event_end, event_end + 1, null_keys[0] + 7, null_keys[-1] + 1})
    heron.openai.autolog()
    try:
        for cuts in [[], [event_start], [event_end], [event_start, event_end], *([c] for c in cut_points)]:
            seen: list[str] = []
            chunks = list(_replaying(with_usage, cuts, seen).chat.completions.create(**request))
            assert _no_ids(chunks) == expected, cuts
            assert _as_sent(chunks) == expected_sent, cuts  # a null usage key cut in two included
            whole = not any(event_start < c < event_end for c in cuts)
            decoded_usage = any('"choices": []' in data for data in seen)
            assert decoded_usage is not whole, cuts  # taken from the bytes exactly when it arrived whole
            heron.flush_traces()
            assert _span().attributes["gen_ai.usage.output_tokens"] == 3, cuts
            tracing.reset_for_tests()
            heron.openai.autolog()

        seen = []

        async def streamed() -> list[Any]:
            def handler(request: httpx2.Request) -> httpx2.Response:
                async def body() -> Any:
                    yield with_usage

                return httpx2.Response(200, content=body(), headers={"content-type": "text/event-stream"})

            class Client(openai.AsyncOpenAI):
                def _make_sse_decoder(self) -> Any:
                    return _RecordingDecoder(seen)

            async with Client(base_url="http://127.0.0.1:9/v1", api_key="test", max_retries=0,
                              http_client=openai.DefaultAsyncHttpxClient(transport=httpx2.MockTransport(handler))) as c:
                return [chunk async for chunk in await c.chat.completions.create(**request)]

        async_chunks = asyncio.run(streamed())
        assert _no_ids(async_chunks) == expected and _as_sent(async_chunks) == expected_sent
        assert seen and not any('"choices": []' in data for data in seen)  # async streams: taken from the bytes too
        heron.flush_traces()
        assert _span().attributes["gen_ai.usage.output_tokens"] == 3
    finally:
        heron.openai.autolog(disable=True)


def test_stream_tool_calls_are_assembled(autolog: None, client: openai.OpenAI) -> None:
    messages: Any = [{"role": "user", "content": "weather in Paris?"}]
    list(client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS, stream=True))
    (message,) = _span().outputs
    assert message["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert message["tool_calls"][0]["id"].startswith("call_")


def test_stream_closed_early_with_a_with_block(autolog: None, client: openai.OpenAI) -> None:
    with client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, stream=True) as stream:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                break
    span = _span()
    assert span.status.status_code == "OK"
    assert span.outputs == [{"role": "assistant", "content": "echo: "}]


def test_stream_abandoned_after_a_break_ends_when_collected(autolog: None, client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, stream=True)
    next(iter(stream))
    del stream
    gc.collect()
    assert _span().name == "chat gpt-4o-mini"


def test_stream_never_iterated_ends_when_collected(autolog: None, client: openai.OpenAI) -> None:
    client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, stream=True)
    gc.collect()
    assert _span().status.status_code == "OK"


def test_stream_async_closed_early(autolog: None, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    async def call() -> None:
        async with _aclient(fake_openai) as client:
            stream = await client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, stream=True)
            async for _ in stream:
                break
            await stream.close()

    asyncio.run(call())
    assert _span().status.status_code == "OK"


def test_chat_stream_helper(autolog: None, client: openai.OpenAI) -> None:
    with client.chat.completions.stream(model="gpt-4o-mini", messages=HELLO) as stream:
        events = [e.type for e in stream]
        final = stream.get_final_completion()
    assert "content.done" in events
    assert final.choices[0].message.content == "echo: hello there"
    assert final.usage is None  # as without Heron: the caller did not ask for usage
    span = _span()
    assert span.outputs == [{"role": "assistant", "content": "echo: hello there"}]
    assert span.attributes["gen_ai.usage.input_tokens"] == 4


# ------------------------------------------------------------------------------------------ responses


def test_responses_sync(autolog: None, client: openai.OpenAI, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    fake_openai.reasoning_tokens = 2
    result = client.responses.create(model="gpt-4.1", input="hi there", instructions="be brief", max_output_tokens=40)
    assert result.output_text == "echo: hi there"
    span = _span()
    _assert_chat_span(span, "gpt-4.1")
    assert span.attributes["openai.api.type"] == "responses"
    assert span.inputs == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi there"}]
    assert span.outputs == [{"role": "assistant", "content": "echo: hi there"}]
    a = span.attributes
    assert a["gen_ai.request.max_tokens"] == 40
    assert a["gen_ai.response.id"] == result.id
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (4, 5)
    assert a["gen_ai.usage.reasoning.output_tokens"] == 2


def test_responses_tool_call_and_tool_output(autolog: None, client: openai.OpenAI) -> None:
    tools: Any = [{"type": "function", "name": "get_weather", "parameters": TOOLS[0]["function"]["parameters"]}]
    first = client.responses.create(model="gpt-4.1", input="weather in Paris?", tools=tools)
    (call,) = [i for i in first.output if i.type == "function_call"]
    (message,) = _span().outputs
    assert message["tool_calls"] == [{"id": call.call_id, "type": "function",
                                      "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]
    second: Any = [{"role": "user", "content": "weather in Paris?"}, call,
                   {"type": "function_call_output", "call_id": call.call_id, "output": "20C"}]
    client.responses.create(model="gpt-4.1", input=second, tools=tools)
    inputs = _span().inputs
    assert inputs[1]["tool_calls"][0]["id"] == call.call_id
    assert inputs[2] == {"role": "tool", "tool_call_id": call.call_id, "content": "20C"}


def test_responses_async(autolog: None, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    async def call() -> str:
        async with _aclient(fake_openai) as client:
            return (await client.responses.create(model="gpt-4.1", input="hi there")).output_text

    assert asyncio.run(call()) == "echo: hi there"
    assert _span().outputs == [{"role": "assistant", "content": "echo: hi there"}]


def test_responses_stream_sync_and_async(store: str, client: openai.OpenAI, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    plain = list(client.responses.create(model="gpt-4.1", input="hi there", stream=True))
    heron.openai.autolog()
    try:
        traced = list(client.responses.create(model="gpt-4.1", input="hi there", stream=True))
        span = _span()
        assert [e.type for e in traced] == [e.type for e in plain]
        assert span.outputs == [{"role": "assistant", "content": "echo: hi there"}]
        assert span.attributes["gen_ai.usage.output_tokens"] == 3

        async def call() -> list[str]:
            async with _aclient(fake_openai) as aclient:
                stream = await aclient.responses.create(model="gpt-4.1", input="async there", stream=True)
                return [e.type async for e in stream]

        assert asyncio.run(call())[-1] == "response.completed"
        span = _span()
        assert span.outputs == [{"role": "assistant", "content": "echo: async there"}]
        assert span.attributes["gen_ai.usage.input_tokens"] == 2
        with client.responses.stream(model="gpt-4.1", input="helper") as helper:
            assert helper.get_final_response().output_text == "echo: helper"
        assert _span().outputs == [{"role": "assistant", "content": "echo: helper"}]
    finally:
        heron.openai.autolog(disable=True)


# ----------------------------------------------------------------------------------------- embeddings


def test_embeddings_sync_and_async(autolog: None, client: openai.OpenAI, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    result = client.embeddings.create(model="text-embedding-3-small", input=["one two", "three"], dimensions=16)
    assert len(result.data[0].embedding) == 16
    span = _span()
    assert (span.name, span.span_type) == ("embeddings text-embedding-3-small", "EMBEDDING")
    assert span.inputs == ["one two", "three"]
    assert span.outputs == {"count": 2, "dimensions": 16}  # never the vectors
    assert span.attributes["gen_ai.operation.name"] == "embeddings"
    assert span.attributes["gen_ai.usage.input_tokens"] == 3
    assert span.attributes["gen_ai.embeddings.dimension.count"] == 16
    assert _trace().info.cost == pytest.approx(3 * 0.02 / 1e6)

    async def call() -> None:
        async with _aclient(fake_openai) as aclient:
            await aclient.embeddings.create(model="text-embedding-3-large", input="x", encoding_format="base64")

    asyncio.run(call())
    span = _span()
    assert span.inputs == ["x"] and span.outputs == {"count": 1, "dimensions": 8}


# --------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("status", "error"), [(429, openai.RateLimitError), (500, openai.InternalServerError)])
def test_api_errors_reach_the_caller_and_mark_the_span(
    autolog: None, client: openai.OpenAI, fake_openai: FakeOpenAI, status: int, error: type[Exception]  # noqa: F811
) -> None:
    fake_openai.fail_next(status)
    with pytest.raises(error) as raised:
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert raised.value.status_code == status  # type: ignore[attr-defined]
    trace = _trace()
    assert trace.info.status == "ERROR"
    (span,) = trace.data.spans
    assert span.status.status_code == "ERROR"
    assert span.attributes["http.response.status_code"] == status
    assert span.attributes["error.type"] == f"openai.{error.__name__}"
    assert any(e.name == "exception" for e in span.events)


def test_async_stream_error_reaches_the_caller(autolog: None, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    async def call() -> None:
        async with _aclient(fake_openai) as client:
            await client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, stream=True)

    fake_openai.fail_next(500)
    with pytest.raises(openai.InternalServerError):
        asyncio.run(call())
    assert _span().status.status_code == "ERROR"


def test_raw_responses_are_returned_untouched(autolog: None, client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=HELLO)
    assert raw.parse().choices[0].message.content == "echo: hello there"
    span = _span()
    assert span.attributes["http.response.status_code"] == 200
    assert span.inputs == HELLO


class Exploding(BaseModel):
    city: str

    @model_serializer
    def _explode(self) -> dict[str, Any]:
        raise RuntimeError("this model cannot be serialised")


def test_a_failure_inside_heron_does_not_reach_the_caller(
    autolog: None, client: openai.OpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="heron"):
        for _ in range(2):
            result = client.chat.completions.parse(model="gpt-4o", messages=HELLO, response_format=Exploding)
            assert result.choices[0].message.parsed is not None
            assert result.choices[0].message.parsed.city == "x"
    warnings = [r for r in caplog.records if "autolog could not record" in r.getMessage()]
    assert len(warnings) == 1  # logged once
    span = _span()  # the span is still there, without the outputs Heron could not record
    assert span.status.status_code == "OK" and span.outputs is None


# ---------------------------------------------------------------------------------- patching and nesting


def test_disable_restores_the_original_methods(store: str, client: openai.OpenAI) -> None:
    heron.openai.autolog()
    assert all(cls.__dict__[name] is not ORIGINALS[(cls, name)] for cls, name in PATCHED)
    heron.openai.autolog(disable=True)
    assert all(cls.__dict__[name] is ORIGINALS[(cls, name)] for cls, name in PATCHED)
    client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert tracing.get_last_active_trace_id() is None


def test_enabling_twice_patches_once(store: str, client: openai.OpenAI) -> None:
    heron.openai.autolog()
    heron.openai.autolog()
    try:
        assert Completions.__dict__["create"].__wrapped__ is ORIGINALS[(Completions, "create")]
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
        assert len(_trace().data.spans) == 1
    finally:
        heron.openai.autolog(disable=True)
    assert Completions.__dict__["create"] is ORIGINALS[(Completions, "create")]


def test_calls_nest_under_the_current_span(autolog: None, client: openai.OpenAI) -> None:
    with start_span("answer", span_type="CHAIN") as outer:
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
        client.embeddings.create(model="text-embedding-3-small", input="x")
    trace = tracing.get_trace(outer.trace_id)
    assert trace is not None and len(trace.data.spans) == 3
    children = [s for s in trace.data.spans if s.parent_id == outer.span_id]
    assert sorted(s.span_type for s in children) == ["CHAT_MODEL", "EMBEDDING"]
    assert trace.info.input_tokens == 4 + 1


def test_importing_heron_openai_does_not_import_the_sdk() -> None:
    code = "import sys, heron, heron.openai; print('openai' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_library_patching_over_heron_keeps_working_after_disable(
    store: str, client: openai.OpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    heron.openai.autolog()
    ours = Completions.__dict__["create"]

    def theirs(self: Any, *args: Any, **kwargs: Any) -> Any:
        return ours(self, *args, **kwargs)

    Completions.create = theirs  # type: ignore[method-assign]
    try:
        with caplog.at_level(logging.DEBUG, logger="heron"):  # a warning the first time in a process, then debug
            heron.openai.autolog(disable=True)
        assert Completions.__dict__["create"] is theirs  # theirs is left in place
        assert any("could not restore" in r.getMessage() for r in caplog.records)
        assert client.chat.completions.create(model="gpt-4o-mini", messages=HELLO).choices
        assert tracing.get_last_active_trace_id() is None  # Heron's wrapper records nothing any more
    finally:
        Completions.create = ORIGINALS[(Completions, "create")]  # type: ignore[method-assign]
