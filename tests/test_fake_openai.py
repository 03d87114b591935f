"""The fake OpenAI server, driven by the real `openai` SDK (sync and async) over real HTTP."""

from __future__ import annotations

import asyncio
import json
import time

import openai
import pytest
from openai.types.chat import (
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
)
from openai.types.responses import (
    FunctionToolParam,
    ResponseCompletedEvent,
    ResponseFunctionToolCall,
    ResponseTextDeltaEvent,
)
from pydantic import BaseModel

from tests.fakes.openai_server import FakeOpenAI, example_from_schema

pytest_plugins = ["tests.fakes.fixtures"]

WEATHER_TOOL: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def _client(fake: FakeOpenAI, max_retries: int = 0) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.base_url, api_key="test", max_retries=max_retries)


def _user(text: str) -> list[ChatCompletionMessageParam]:
    return [{"role": "user", "content": text}]


class Address(BaseModel):
    street: str
    number: int


class Person(BaseModel):
    name: str
    age: int
    height: float
    active: bool
    tags: list[str]
    nickname: str | None
    address: Address


def test_chat_completion_echoes_the_last_user_message(fake_openai: FakeOpenAI) -> None:
    client = _client(fake_openai)
    completion = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": [{"type": "text", "text": "hello there"}]},
        ],
    )
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o-mini-2024-07-18"
    choice = completion.choices[0]
    assert (choice.message.role, choice.message.content, choice.finish_reason) == (
        "assistant",
        "echo: hello there",
        "stop",
    )
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (5, 3, 8)
    assert usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens == 0
    assert (
        usage.completion_tokens_details is not None and usage.completion_tokens_details.reasoning_tokens == 0
    )
    assert [path for path, _ in fake_openai.requests] == ["/v1/chat/completions"]
    assert fake_openai.requests[0][1]["model"] == "gpt-4o-mini"
    # an unknown model is echoed as is
    assert client.chat.completions.create(model="my-model", messages=_user("x")).model == "my-model"


def test_chat_stream_sends_usage_only_when_asked(fake_openai: FakeOpenAI) -> None:
    client = _client(fake_openai)
    plain = list(
        client.chat.completions.create(model="gpt-4o-mini", messages=_user("one two three"), stream=True)
    )
    assert all(chunk.usage is None and chunk.choices for chunk in plain)
    assert plain[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in plain) == "echo: one two three"
    assert len(plain) >= 5  # role, several content pieces, finish
    assert plain[-1].choices[0].finish_reason == "stop"

    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=_user("one two three"),
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    *body, last = chunks
    assert all(chunk.usage is None for chunk in body)
    assert last.choices == [] and last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (3, 4, 7)
    assert len({chunk.id for chunk in chunks}) == 1


def test_chat_tool_call_then_final_answer(fake_openai: FakeOpenAI) -> None:
    client = _client(fake_openai)
    messages = _user("What is the weather in Paris?")
    completion = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER_TOOL])
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    assert choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert isinstance(call, ChatCompletionMessageFunctionToolCall) and call.id.startswith("call_")
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Paris"})

    # after the tool answers, the model answers in text
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},  # type: ignore[list-item]
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    final = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER_TOOL])
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.content == "echo: What is the weather in Paris?"

    # streamed, the SDK's stream helper reassembles the call
    with client.chat.completions.stream(
        model="gpt-4o", messages=_user("weather?"), tools=[WEATHER_TOOL]
    ) as stream:
        streamed = stream.get_final_completion()
    streamed_calls = streamed.choices[0].message.tool_calls
    assert streamed.choices[0].finish_reason == "tool_calls" and streamed_calls is not None
    assert (streamed_calls[0].function.name, streamed_calls[0].function.parsed_arguments) == (
        "get_weather",
        None,
    )
    assert json.loads(streamed_calls[0].function.arguments) == {"city": "Paris"}


def test_chat_parse_fills_a_pydantic_model(fake_openai: FakeOpenAI) -> None:
    client = _client(fake_openai)
    completion = client.chat.completions.parse(
        model="gpt-4o-mini", messages=_user("who?"), response_format=Person
    )
    assert completion.choices[0].message.parsed == Person(
        name="x", age=1, height=1.0, active=True, tags=[], nickname="x", address=Address(street="x", number=1)
    )
    assert example_from_schema({"type": "string", "enum": ["a", "b"]}) == "a"


def test_chat_length_limit_and_legacy_completions(fake_openai: FakeOpenAI) -> None:
    client = _client(fake_openai)
    cut = client.chat.completions.create(
        model="gpt-4o-mini", messages=_user("a b c d e"), max_completion_tokens=2
    )
    assert (cut.choices[0].message.content, cut.choices[0].finish_reason) == ("echo: a", "length")
    legacy = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="say hi")
    assert (
        legacy.choices[0].text == "echo: say hi"
        and legacy.usage is not None
        and legacy.usage.total_tokens == 5
    )


def test_responses_create_with_string_and_message_input(fake_openai: FakeOpenAI) -> None:
    client = _client(fake_openai)
    response = client.responses.create(model="gpt-4o-mini", input="hi you")
    assert response.status == "completed" and response.model == "gpt-4o-mini-2024-07-18"
    assert response.output_text == "echo: hi you"
    assert response.output[0].type == "message"
    usage = response.usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (2, 3, 5)
    assert usage.input_tokens_details.cached_tokens == 0 and usage.output_tokens_details.reasoning_tokens == 0

    listed = client.responses.create(
        model="gpt-4o-mini",
        instructions="be brief",
        input=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "echo: first"},
            {"role": "user", "content": [{"type": "input_text", "text": "second one"}]},
        ],
    )
    assert listed.output_text == "echo: second one"
    assert listed.usage is not None and listed.usage.input_tokens == 7

    tool: FunctionToolParam = {
        "type": "function",
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        "strict": False,
    }
    called = client.responses.create(model="gpt-4o", input="weather in Paris?", tools=[tool])
    item = called.output[0]
    assert isinstance(item, ResponseFunctionToolCall) and item.name == "get_weather"
    assert json.loads(item.arguments) == {"city": "Paris"}

    parsed = client.responses.parse(model="gpt-4o", input="who?", text_format=Person)
    assert parsed.output_parsed is not None and parsed.output_parsed.address.number == 1


def test_responses_stream(fake_openai: FakeOpenAI) -> None:
    client = _client(fake_openai)
    events = list(client.responses.create(model="gpt-4o-mini", input="stream me please", stream=True))
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    deltas = [e.delta for e in events if isinstance(e, ResponseTextDeltaEvent)]
    assert len(deltas) >= 3 and "".join(deltas) == "echo: stream me please"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    completed = events[-1]
    assert isinstance(completed, ResponseCompletedEvent)
    assert completed.response.usage is not None and completed.response.usage.total_tokens == 7

    with client.responses.stream(
        model="gpt-4o-mini", input=[{"role": "user", "content": "hi stream"}]
    ) as stream:
        final = stream.get_final_response()
    assert final.output_text == "echo: hi stream"


def test_embeddings_are_deterministic_in_both_encodings(fake_openai: FakeOpenAI) -> None:
    client = _client(fake_openai)
    default = client.embeddings.create(
        model="text-embedding-3-small", input=["a b", "c"]
    )  # SDK asks for base64
    floats = client.embeddings.create(
        model="text-embedding-3-small", input=["a b", "c"], encoding_format="float"
    )
    assert fake_openai.requests[0][1]["encoding_format"] == "base64"
    assert [d.embedding for d in default.data] == [d.embedding for d in floats.data]
    assert len(default.data) == 2 and len(default.data[0].embedding) == 8
    assert default.data[0].embedding != default.data[1].embedding
    assert abs(sum(v * v for v in default.data[0].embedding) - 1.0) < 1e-5
    assert (default.usage.prompt_tokens, default.usage.total_tokens) == (3, 3)
    single = client.embeddings.create(model="text-embedding-3-small", input="a b", dimensions=20)
    assert len(single.data[0].embedding) == 20 and single.model == "text-embedding-3-small"


def test_errors_are_openai_shaped(fake_openai: FakeOpenAI) -> None:
    client = _client(fake_openai)
    fake_openai.fail_next(status=429)
    with pytest.raises(openai.RateLimitError) as rate_limited:
        client.chat.completions.create(model="gpt-4o-mini", messages=_user("x"))
    assert rate_limited.value.status_code == 429 and rate_limited.value.code == "rate_limit_exceeded"

    fake_openai.fail_next(status=500, times=2, message="boom")
    for _ in range(2):
        with pytest.raises(openai.InternalServerError, match="boom"):
            client.responses.create(model="gpt-4o-mini", input="x")
    assert client.responses.create(model="gpt-4o-mini", input="x").output_text == "echo: x"

    with pytest.raises(openai.NotFoundError):
        client.models.list()
    with pytest.raises(ValueError, match="error status"):
        fake_openai.fail_next(status=200)

    # with retries on, the SDK retries past a transient failure (fast: the fake sends retry-after-ms)
    retrying = _client(fake_openai, max_retries=2)
    fake_openai.requests.clear()
    fake_openai.fail_next(status=503)
    assert retrying.embeddings.create(model="text-embedding-3-small", input="x").data
    assert len(fake_openai.requests) == 2


def test_async_client(fake_openai: FakeOpenAI) -> None:
    async def run() -> None:
        client = openai.AsyncOpenAI(base_url=fake_openai.base_url, api_key="test", max_retries=0)
        completion = await client.chat.completions.create(model="gpt-4o-mini", messages=_user("async hi"))
        assert completion.choices[0].message.content == "echo: async hi"
        stream = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=_user("async stream"),
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
        assert chunks[-1].usage is not None and chunks[-1].choices == []
        response = await client.responses.create(model="gpt-4o-mini", input="async resp")
        assert response.output_text == "echo: async resp"
        async with client.responses.stream(model="gpt-4o-mini", input="async resp stream") as events:
            final = await events.get_final_response()
        assert final.output_text == "echo: async resp stream"
        embedded = await client.embeddings.create(model="text-embedding-3-small", input="x")
        assert len(embedded.data[0].embedding) == 8
        fake_openai.fail_next(status=429)
        with pytest.raises(openai.RateLimitError):
            await client.chat.completions.create(model="gpt-4o-mini", messages=_user("x"))
        await client.close()

    asyncio.run(run())


def test_knobs_and_lifecycle() -> None:
    with FakeOpenAI(delay_s=0.2, cached_tokens=2, reasoning_tokens=5) as fake:
        client = _client(fake)
        started = time.monotonic()
        completion = client.chat.completions.create(model="o3-mini", messages=_user("think about this"))
        assert time.monotonic() - started >= 0.2
        usage = completion.usage
        assert completion.model == "o3-mini-2025-01-31" and usage is not None
        assert usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens == 2
        assert (
            usage.completion_tokens_details is not None
            and usage.completion_tokens_details.reasoning_tokens == 5
        )
        assert usage.completion_tokens == 4 + 5  # "echo: think about this" plus the reasoning tokens
        fake.reset()
        assert fake.requests == [] and fake.delay_s == 0.2
    fake.stop()  # idempotent
    with pytest.raises(RuntimeError, match="not started"):
        _ = FakeOpenAI().base_url
