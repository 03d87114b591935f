"""normalize_attributes on spans written by the real OpenInference and OpenLLMetry OpenAI instrumentations.

The instrumentations run on a private TracerProvider with an in-memory exporter, around the real
`openai` SDK talking to the fake OpenAI server. OpenLLMetry before its move to the GenAI message
conventions (gen_ai.prompt.N.*, gen_ai.usage.prompt_tokens) cannot be installed beside the current one,
so its spans were recorded once from opentelemetry-instrumentation-openai 0.40.14 against the same fake
server (tests/tracing/data/openllmetry_0_40_spans.json).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from heron.tracing.otel_mapping import detect_span_type, normalize_attributes
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.fakes.openai_server import FakeOpenAI

DATA = Path(__file__).with_name("data")
TOOLS: Any = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
CHAT: Any = [{"role": "system", "content": "be nice"}, {"role": "user", "content": "hello there friend"}]


def _record(instrumentor: Any, fake: FakeOpenAI) -> list[dict[str, Any]]:
    """Attributes of the spans the instrumentation writes for a chat, a tool call, a stream and embeddings."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor.instrument(tracer_provider=provider)
    try:
        fake.cached_tokens = 2
        client = openai.OpenAI(base_url=fake.base_url, api_key="test", max_retries=0)
        client.chat.completions.create(model="gpt-4o-mini", messages=CHAT, temperature=0.2, max_tokens=50)
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "weather in Paris?"}],
                                       tools=TOOLS)
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "stream me"}],
                                                stream=True, stream_options={"include_usage": True})
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "echo: stream me"
        client.embeddings.create(model="text-embedding-3-small", input=["a b", "c"])
    finally:
        instrumentor.uninstrument()
    return [dict(s.attributes or {}) for s in exporter.get_finished_spans()]


@pytest.fixture
def openinference_spans(fake_openai: FakeOpenAI) -> list[dict[str, Any]]:  # noqa: F811
    module = pytest.importorskip("openinference.instrumentation.openai")
    return _record(module.OpenAIInstrumentor(), fake_openai)


@pytest.fixture
def openllmetry_spans(fake_openai: FakeOpenAI) -> list[dict[str, Any]]:  # noqa: F811
    module = pytest.importorskip("opentelemetry.instrumentation.openai")
    return _record(module.OpenAIInstrumentor(), fake_openai)


def _json(attrs: dict[str, Any], key: str) -> Any:
    return json.loads(attrs[key])


def _assert_chat(n: dict[str, Any]) -> None:
    assert n["heron.span.type"] == "CHAT_MODEL"
    assert n["gen_ai.operation.name"] == "chat"
    assert n["gen_ai.provider.name"] == "openai"
    assert n["gen_ai.request.model"] == "gpt-4o-mini"
    assert n["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert (n["gen_ai.usage.input_tokens"], n["gen_ai.usage.output_tokens"]) == (5, 4)
    assert n["gen_ai.usage.cache_read.input_tokens"] == 2
    assert n["gen_ai.request.temperature"] == 0.2
    assert list(n["gen_ai.response.finish_reasons"]) == ["stop"]
    assert _json(n, "heron.span.inputs") == CHAT
    assert _json(n, "heron.span.outputs") == [{"role": "assistant", "content": "echo: hello there friend"}]


def _assert_tool_call(n: dict[str, Any]) -> None:
    assert n["heron.span.type"] == "CHAT_MODEL"
    assert n["gen_ai.request.model"] == "gpt-4o"
    (message,) = _json(n, "heron.span.outputs")
    assert message["role"] == "assistant" and message["content"] is None
    (call,) = message["tool_calls"]
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    assert "get_weather" in n["gen_ai.tool.definitions"]


def _assert_embeddings(n: dict[str, Any]) -> None:
    assert n["heron.span.type"] == "EMBEDDING"
    assert n["gen_ai.operation.name"] == "embeddings"
    assert n["gen_ai.request.model"] == "text-embedding-3-small"
    assert n["gen_ai.usage.input_tokens"] == 3
    assert _json(n, "heron.span.inputs") == ["a b", "c"]


def test_openinference_spans(openinference_spans: list[dict[str, Any]]) -> None:
    chat, tool, stream, embeddings = (normalize_attributes(a) for a in openinference_spans)
    assert openinference_spans[0]["openinference.span.kind"] == "LLM"
    _assert_chat(chat)
    assert chat["gen_ai.request.max_tokens"] == 50  # from llm.invocation_parameters
    _assert_tool_call(tool)
    assert (stream["gen_ai.usage.input_tokens"], stream["gen_ai.usage.output_tokens"]) == (2, 3)
    assert _json(stream, "heron.span.outputs") == [{"role": "assistant", "content": "echo: stream me"}]
    _assert_embeddings(embeddings)
    # the vectors are summarised, not copied
    assert _json(embeddings, "heron.span.outputs") == {"count": 2, "dimensions": 8}
    assert not any(k.startswith("embedding.embeddings.") for k in embeddings)
    # OpenInference names are gone once translated
    for old in ("llm.model_name", "llm.token_count.prompt", "llm.token_count.completion", "llm.input_messages.0.message.role",
                "input.value", "output.value"):
        assert old not in chat, old


def test_openllmetry_spans(openllmetry_spans: list[dict[str, Any]]) -> None:
    chat, tool, stream, embeddings = (normalize_attributes(a) for a in openllmetry_spans)
    _assert_chat(chat)
    _assert_tool_call(tool)
    assert _json(stream, "heron.span.outputs") == [{"role": "assistant", "content": "echo: stream me"}]
    _assert_embeddings(embeddings)


def test_openllmetry_0_40_spans_with_the_older_gen_ai_names() -> None:
    recorded = json.loads((DATA / "openllmetry_0_40_spans.json").read_text())
    assert recorded["package"] == "opentelemetry-instrumentation-openai==0.40.14"
    chat, tool, embeddings = (normalize_attributes(s["attributes"]) for s in recorded["spans"])
    _assert_chat(chat)
    assert chat["gen_ai.request.max_tokens"] == 50
    for old in ("gen_ai.system", "gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens",
                "gen_ai.prompt.0.content", "gen_ai.completion.0.content", "llm.request.type"):
        assert old not in chat, old
    _assert_tool_call(tool)
    assert json.loads(tool["gen_ai.tool.definitions"])[0]["function"]["parameters"]["type"] == "object"
    _assert_embeddings(embeddings)


def test_spans_already_in_heron_names_are_unchanged() -> None:
    attrs = {"heron.span.type": "CHAIN", "heron.span.inputs": '{"q": 1}', "heron.span.outputs": '"a"',
             "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 3}
    assert normalize_attributes(attrs) == attrs
    once = normalize_attributes({"gen_ai.system": "OpenAI", "gen_ai.usage.prompt_tokens": 2,
                                 "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "hi"})
    assert normalize_attributes(once) == once


def test_heron_names_win_over_older_ones() -> None:
    n = normalize_attributes({"gen_ai.usage.input_tokens": 10, "gen_ai.usage.prompt_tokens": 99,
                              "llm.token_count.prompt": 98})
    assert n["gen_ai.usage.input_tokens"] == 10
    assert "gen_ai.usage.prompt_tokens" not in n and "llm.token_count.prompt" not in n


def test_genai_message_parts_with_tool_calls_and_responses() -> None:
    n = normalize_attributes({
        "gen_ai.operation.name": "chat",
        "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "be brief"}]),
        "gen_ai.input.messages": json.dumps([
            {"role": "user", "parts": [{"type": "text", "content": "weather?"}]},
            {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "w", "arguments": {"city": "Paris"}}]},
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": {"temp": 20}}]},
        ]),
        "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "20C"}],
                                               "finish_reason": "stop"}]),
        "gen_ai.usage.reasoning_tokens": 7,
    })
    assert n["heron.span.type"] == "CHAT_MODEL"
    assert _json(n, "heron.span.inputs") == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "w", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "content": '{"temp": 20}', "tool_call_id": "c1"},
    ]
    assert _json(n, "heron.span.outputs") == [{"role": "assistant", "content": "20C"}]
    assert n["gen_ai.response.finish_reasons"] == ["stop"]
    assert n["gen_ai.usage.reasoning.output_tokens"] == 7


def test_openinference_non_llm_kinds() -> None:
    retriever = normalize_attributes({
        "openinference.span.kind": "RETRIEVER", "input.value": "refund policy",
        "retrieval.documents.0.document.id": "d1", "retrieval.documents.0.document.content": "30 days",
        "retrieval.documents.0.document.score": 0.9,
        "retrieval.documents.0.document.metadata": '{"source": "faq"}',
    })
    assert retriever["heron.span.type"] == "RETRIEVER"
    assert _json(retriever, "heron.span.inputs") == "refund policy"
    assert _json(retriever, "heron.span.outputs") == [
        {"id": "d1", "content": "30 days", "score": 0.9, "metadata": {"source": "faq"}}]

    tool = normalize_attributes({"openinference.span.kind": "TOOL", "tool.name": "search",
                                 "input.value": '{"q": "x"}', "input.mime_type": "application/json",
                                 "output.value": "found"})
    assert (tool["heron.span.type"], tool["gen_ai.tool.name"]) == ("TOOL", "search")
    assert _json(tool, "heron.span.inputs") == {"q": "x"}
    assert _json(tool, "heron.span.outputs") == "found"

    for kind, expected in (("CHAIN", "CHAIN"), ("AGENT", "AGENT"), ("RERANKER", "RERANKER"), ("GUARDRAIL", "GUARDRAIL"),
                           ("EMBEDDING", "EMBEDDING"), ("LLM", "LLM"), ("unknown", "UNKNOWN")):
        assert detect_span_type({"openinference.span.kind": kind}) == expected


def test_openinference_multimodal_content_and_cost() -> None:
    n = normalize_attributes({
        "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o", "llm.provider": "openai",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.contents.0.message_content.type": "text",
        "llm.input_messages.0.message.contents.0.message_content.text": "what is this?",
        "llm.input_messages.0.message.contents.1.message_content.type": "image",
        "llm.input_messages.0.message.contents.1.message_content.image.image.url": "https://x/y.png",
        "llm.cost.total": 0.0123, "llm.token_count.prompt": "12",
    })
    (message,) = _json(n, "heron.span.inputs")
    assert message["content"] == [{"type": "text", "text": "what is this?"},
                                  {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]
    assert n["heron.cost.usd"] == 0.0123
    assert n["gen_ai.usage.input_tokens"] == 12
    assert n["gen_ai.request.model"] == "gpt-4o" and n["gen_ai.provider.name"] == "openai"


def test_token_counts_that_are_not_numbers_are_kept_as_written_never_raised() -> None:
    n = normalize_attributes({"llm.model_name": "gpt-4o", "llm.token_count.prompt": "\u00b2",
                              "llm.token_count.completion": "1.5"})
    assert n["gen_ai.usage.input_tokens"] == "\u00b2"  # a digit that is not a decimal: int() refuses it
    assert n["gen_ai.usage.output_tokens"] == "1.5"
    assert normalize_attributes({"llm.token_count.prompt": 7.0})["gen_ai.usage.input_tokens"] == 7
    assert normalize_attributes({"gen_ai.usage.prompt_tokens": True})["gen_ai.usage.input_tokens"] is True


def test_traceloop_workflow_and_task_spans() -> None:
    n = normalize_attributes({"traceloop.span.kind": "workflow", "traceloop.entity.name": "qa",
                              "traceloop.entity.input": '{"args": ["q"], "kwargs": {}}',
                              "traceloop.entity.output": "not json"})
    assert n["heron.span.type"] == "CHAIN"
    assert _json(n, "heron.span.inputs") == {"args": ["q"], "kwargs": {}}
    assert _json(n, "heron.span.outputs") == "not json"
    assert detect_span_type({"traceloop.span.kind": "tool"}) == "TOOL"


def test_plain_otel_spans_are_unknown_and_keep_their_attributes() -> None:
    attrs = {"http.request.method": "GET", "url.full": "http://x"}
    assert normalize_attributes(attrs) == {**attrs, "heron.span.type": "UNKNOWN"}


def test_odd_values_do_not_raise() -> None:
    for attrs in (
        {"llm.input_messages.x.message.role": "user", "llm.input_messages.0": "flat"},
        {"gen_ai.input.messages": "not json", "gen_ai.output.messages": "[1, 2]"},
        {"llm.invocation_parameters": "{bad", "openinference.span.kind": "LLM"},
        {"gen_ai.prompt.0.content": "[not json", "llm.request.type": "chat"},
        {"retrieval.documents.0.document.metadata": "{bad", "openinference.span.kind": "RETRIEVER"},
    ):
        assert isinstance(normalize_attributes(attrs), dict)
