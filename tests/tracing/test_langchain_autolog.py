"""heron.langchain.autolog with real langchain-core runnables and fake models, stored in a real store;
ChatOpenAI (langchain-openai) with the OpenAI autolog against the fake OpenAI server."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun, CallbackManagerForRetrieverRun
from langchain_core.callbacks.manager import dispatch_custom_event
from langchain_core.documents import Document
from langchain_core.language_models import LLM, BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.output_parsers import JsonOutputParser, StrOutputParser
from langchain_core.outputs import ChatGeneration, ChatResult, Generation, LLMResult
from langchain_core.prompts import ChatPromptTemplate, PromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda, RunnableParallel
from langchain_core.tools import tool

import heron
import heron.langchain
import heron.openai
from heron.langchain import HeronCallbackHandler
from heron.tracing import Span, Trace
from heron.tracing.autolog import langchain as lc_autolog
from heron.tracing.autolog import openai as oai_autolog
from tests.fakes.openai_server import FakeOpenAI

REPO = Path(__file__).resolve().parents[2]
LOGGER = "heron.tracing.autolog.langchain"


# ------------------------------------------------------------------------------------------ helpers


class UsageChatModel(BaseChatModel):
    """A chat model that answers "four" and reports usage as real providers do."""

    model: str = "gpt-4o-mini"

    @property
    def _llm_type(self) -> str:
        return "usage-chat"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        return {"ls_provider": "openai", "ls_model_name": self.model, "ls_model_type": "chat",
                "ls_temperature": 0.2}

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        message = AIMessage(
            content="four",
            usage_metadata={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15,
                            "input_token_details": {"cache_read": 4},
                            "output_token_details": {"reasoning": 2}},
            response_metadata={"model_name": "gpt-4o-mini-2024-07-18", "finish_reason": "stop", "id": "r-1"},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


class TokenUsageLLM(LLM):
    """A text-completion LLM that reports usage the old way, in ``llm_output["token_usage"]``."""

    @property
    def _llm_type(self) -> str:
        return "token-usage-llm"

    def _call(self, prompt: str, stop: list[str] | None = None,
              run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> str:
        return prompt.upper()

    def _generate(self, prompts: list[str], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> LLMResult:
        return LLMResult(generations=[[Generation(text=p.upper())] for p in prompts],
                         llm_output={"token_usage": {"prompt_tokens": 7, "completion_tokens": 3},
                                     "model_name": "legacy-model"})


class TinyRetriever(BaseRetriever):
    """Documents whose text contains the query."""

    docs: list[Document]

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [d for d in self.docs if query in d.page_content]


DOCS = [Document(page_content="refunds take 5 days", metadata={"source": "faq.md"}),
        Document(page_content="shipping is free", metadata={"source": "faq.md"})]


@pytest.fixture
def autolog(sqlite_uri: str) -> Iterator[None]:
    heron.langchain.autolog()
    yield
    heron.langchain.autolog(disable=True)


def _chain() -> Any:
    prompt = ChatPromptTemplate.from_messages([("system", "be brief"), ("user", "{q}")])
    return prompt | FakeListChatModel(responses=["hello world"]) | StrOutputParser()


def _trace(trace_id: str | None = None) -> Trace:
    found = heron.get_trace(trace_id or heron.get_last_active_trace_id() or "")
    assert found is not None
    return found


def _tree(trace: Trace) -> list[Any]:
    """The trace's spans as nested ``(name, type, [children])``, children in start order."""
    spans = sorted(trace.data.spans, key=lambda s: s.start_time_ns)
    ids = {s.span_id for s in spans}

    def node(span: Span) -> Any:
        children = [node(s) for s in spans if s.parent_id == span.span_id]
        return (span.name, span.span_type, children) if children else (span.name, span.span_type)

    return [node(s) for s in spans if s.parent_id not in ids]


def _span(trace: Trace, name: str) -> Span:
    (found,) = [s for s in trace.data.spans if s.name == name]
    return found


def _traces() -> list[Trace]:
    return list(heron.search_traces(return_type="list"))


CHAIN_TREE = [("RunnableSequence", "CHAIN", [("ChatPromptTemplate", "CHAIN"), ("FakeListChatModel", "CHAT_MODEL"),
                                             ("StrOutputParser", "PARSER")])]


# ------------------------------------------------------------------------------- one span per step


def test_invoke_records_one_span_per_step_with_messages(tracking_uri: str) -> None:
    heron.langchain.autolog()
    try:
        assert _chain().invoke({"q": "hi"}) == "hello world"
    finally:
        heron.langchain.autolog(disable=True)
    trace = _trace()
    assert _tree(trace) == CHAIN_TREE
    assert trace.info.status == "OK"
    assert trace.info.name == "RunnableSequence"
    root = _span(trace, "RunnableSequence")
    assert (root.inputs, root.outputs) == ({"q": "hi"}, "hello world")
    prompt = _span(trace, "ChatPromptTemplate")
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    assert prompt.outputs == messages
    assert prompt.attributes["langchain.run.type"] == "prompt"
    model = _span(trace, "FakeListChatModel")
    assert model.inputs == messages
    assert model.outputs == {"role": "assistant", "content": "hello world"}
    assert model.attributes["gen_ai.operation.name"] == "chat"
    parser = _span(trace, "StrOutputParser")
    assert parser.inputs == {"role": "assistant", "content": "hello world"}
    assert parser.outputs == "hello world"
    assert all(s.status.status_code == "OK" for s in trace.data.spans)


def test_usage_model_and_request_attributes_from_a_chat_model(autolog: None) -> None:
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | UsageChatModel()
    answer = chain.invoke({"q": "2+2?"})
    assert answer.content == "four"
    trace = _trace()
    model = _span(trace, "UsageChatModel")
    attrs = model.attributes
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
    assert attrs["gen_ai.request.temperature"] == 0.2
    assert attrs["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert attrs["gen_ai.response.id"] == "r-1"
    assert attrs["gen_ai.response.finish_reasons"] == ["stop"]
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (10, 5)
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 4
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == 2
    info = trace.info
    assert (info.input_tokens, info.output_tokens, info.total_tokens, info.cached_input_tokens) == (10, 5, 15, 4)
    assert info.cost is not None and info.cost > 0 and not info.unpriced  # gpt-4o-mini has a price


def test_llm_usage_from_llm_output_and_text_io(autolog: None) -> None:
    chain = PromptTemplate.from_template("say {word}") | TokenUsageLLM()
    assert chain.invoke({"word": "yes"}) == "SAY YES"
    trace = _trace()
    llm = _span(trace, "TokenUsageLLM")
    assert llm.span_type == "LLM"
    assert (llm.inputs, llm.outputs) == ("say yes", "SAY YES")
    assert llm.attributes["gen_ai.operation.name"] == "text_completion"
    assert llm.attributes["gen_ai.response.model"] == "legacy-model"
    assert (trace.info.input_tokens, trace.info.output_tokens) == (7, 3)
    assert trace.info.unpriced  # a model without a price is unpriced, not $0
    assert _span(trace, "PromptTemplate").outputs == "say yes"


def test_retriever_documents_and_json_parser(autolog: None) -> None:
    retriever = TinyRetriever(docs=DOCS)
    chain = RunnableParallel(docs=retriever, question=RunnableLambda(lambda q: q)) | RunnableLambda(
        lambda d: '{"n": ' + str(len(d["docs"])) + "}") | JsonOutputParser()
    assert chain.invoke("refunds") == {"n": 1}
    trace = _trace()
    ((_, _, steps),) = _tree(trace)
    assert [step[:2] for step in steps] == [("RunnableParallel<docs,question>", "CHAIN"), ("RunnableLambda", "CHAIN"),
                                            ("JsonOutputParser", "PARSER")]
    assert sorted(steps[0][2]) == [("RunnableLambda", "CHAIN"), ("TinyRetriever", "RETRIEVER")]  # in threads
    found = _span(trace, "TinyRetriever")
    assert found.inputs == "refunds"
    assert found.outputs == [{"page_content": "refunds take 5 days", "metadata": {"source": "faq.md"}}]
    assert _span(trace, "JsonOutputParser").outputs == {"n": 1}


def test_tools_and_tool_calls(autolog: None) -> None:
    @tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    assert get_weather.invoke({"city": "Paris"}) == "sunny in Paris"
    span = _span(_trace(), "get_weather")
    assert span.span_type == "TOOL"
    assert (span.inputs, span.outputs) == ({"city": "Paris"}, "sunny in Paris")
    assert span.attributes["gen_ai.tool.name"] == "get_weather"
    assert span.attributes["gen_ai.operation.name"] == "execute_tool"
    assert span.attributes["gen_ai.tool.description"] == "The weather in a city."

    message = get_weather.invoke({"name": "get_weather", "args": {"city": "Oslo"}, "id": "call-1", "type": "tool_call"})
    span = _span(_trace(), "get_weather")
    assert span.attributes["gen_ai.tool.call.id"] == "call-1"
    assert span.outputs == {"role": "tool", "content": "sunny in Oslo", "tool_call_id": "call-1",
                            "name": "get_weather"}
    assert message.content == "sunny in Oslo"

    calling = GenericFakeChatModel(messages=iter([AIMessage(content="", tool_calls=[
        {"name": "get_weather", "args": {"city": "Rome"}, "id": "call-2", "type": "tool_call"}])]))
    calling.invoke("weather in Rome?")
    assert _span(_trace(), "GenericFakeChatModel").outputs == {
        "role": "assistant", "content": "",
        "tool_calls": [{"id": "call-2", "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}}]}


def test_agents_and_run_names(autolog: None) -> None:
    agent = RunnableLambda(lambda x: x).with_config(run_name="AgentExecutor")
    agent.invoke("go")
    assert _tree(_trace()) == [("AgentExecutor", "AGENT")]


def test_custom_events_are_span_events(autolog: None) -> None:
    def step(x: str) -> str:
        dispatch_custom_event("progress", {"done": 1})
        return x

    RunnableLambda(step).invoke("a")
    (event,) = [e for e in _span(_trace(), "step").events if e.name == "progress"]
    assert event.attributes["data"] == '{"done":1}'


# ---------------------------------------------------------------------------------------- nesting


def test_nests_under_an_enclosing_heron_trace_and_a_traced_function_nests_under_its_step(autolog: None) -> None:
    @heron.trace
    def lookup(q: str) -> str:
        return q.upper()

    chain = RunnableLambda(lambda q: lookup(q)).with_config(run_name="lookup_step") | StrOutputParser()

    @heron.trace(span_type=heron.SpanType.AGENT)
    def answer(q: str) -> str:
        return chain.invoke(q)

    assert answer("hi") == "HI"
    trace = _trace()
    assert _tree(trace) == [("answer", "AGENT", [("RunnableSequence", "CHAIN", [
        ("lookup_step", "CHAIN", [("lookup", "UNKNOWN")]), ("StrOutputParser", "PARSER")])])]
    assert trace.info.name == "answer"


def test_a_chain_invoked_inside_a_traced_function_inside_a_step_nests_under_that_function(autolog: None) -> None:
    inner = RunnableLambda(lambda x: x + "!").with_config(run_name="inner")

    @heron.trace
    def helper(x: str) -> str:
        return inner.invoke(x)

    outer = RunnableLambda(lambda x: helper(x)).with_config(run_name="outer")
    assert outer.invoke("a") == "a!"
    assert _tree(_trace()) == [("outer", "CHAIN", [("helper", "UNKNOWN", [("inner", "CHAIN")])])]


def test_explicit_handler_traces_without_autolog_and_never_twice_with_it(sqlite_uri: str) -> None:
    handler = HeronCallbackHandler()
    _chain().invoke({"q": "hi"}, config={"callbacks": [handler]})
    assert _tree(_trace()) == CHAIN_TREE
    first = heron.get_last_active_trace_id()
    _chain().invoke({"q": "hi"})  # no autolog, no handler: no trace
    assert heron.get_last_active_trace_id() == first

    heron.langchain.autolog()
    heron.langchain.autolog()  # enabling twice registers once
    try:
        _chain().invoke({"q": "hi"}, config={"callbacks": [handler]})
        assert _tree(_trace()) == CHAIN_TREE
        _chain().invoke({"q": "again"})
        assert _tree(_trace()) == CHAIN_TREE
    finally:
        heron.langchain.autolog(disable=True)
    assert len(_traces()) == 3


def test_disable_removes_the_hook_and_enable_brings_it_back(sqlite_uri: str) -> None:
    heron.langchain.autolog()
    assert heron.langchain.autolog.__module__ == "heron.tracing.autolog.langchain"
    heron.langchain.autolog(disable=True)
    _chain().invoke({"q": "hi"})
    heron.flush_traces()
    assert heron.get_last_active_trace_id() is None
    heron.langchain.autolog(log_traces=False)
    _chain().invoke({"q": "hi"})
    assert heron.get_last_active_trace_id() is None
    heron.langchain.autolog()
    try:
        _chain().invoke({"q": "hi"})
    finally:
        heron.langchain.autolog(disable=True)
    assert _tree(_trace()) == CHAIN_TREE


def test_heron_autolog_turns_on_every_installed_integration(sqlite_uri: str, fake_openai: FakeOpenAI) -> None:
    import openai
    from openai.resources.chat.completions import Completions

    original = Completions.__dict__["create"]
    try:
        heron.autolog(exclude_flavors=["openai"])
        assert lc_autolog.is_enabled() and not oai_autolog.is_enabled()
        heron.autolog(silent=True)
        assert lc_autolog.is_enabled() and oai_autolog.is_enabled()
        assert Completions.__dict__["create"] is not original
        with openai.OpenAI(base_url=fake_openai.base_url, api_key="t", max_retries=0) as client:
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert _tree(_trace()) == [("chat gpt-4o-mini", "CHAT_MODEL")]
    finally:
        heron.autolog(disable=True)
    assert not lc_autolog.is_enabled() and not oai_autolog.is_enabled()
    assert Completions.__dict__["create"] is original


def test_update_current_trace_from_inside_a_step(autolog: None) -> None:
    def step(x: str) -> str:
        heron.update_current_trace(tags={"team": "support"}, session_id="s-1")
        span = heron.get_current_active_span()
        assert span is not None and span.name == "step"
        return x

    (RunnableLambda(step) | StrOutputParser()).invoke("a")
    info = _trace().info
    assert (info.tags["team"], info.session_id) == ("support", "s-1")


def test_unsampled_runs_are_not_stored(autolog: None) -> None:
    heron.tracing.configure(sampling_ratio=0.0)
    assert _chain().invoke({"q": "hi"}) == "hello world"
    heron.flush_traces()
    assert _traces() == []
    assert heron.get_current_active_span() is None


# ------------------------------------------------------------------------------------------ errors


def test_errors_give_error_spans_and_reach_the_caller_unchanged(autolog: None) -> None:
    boom = ValueError("no such city")

    def fail(_: Any) -> str:
        raise boom

    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | RunnableLambda(fail) | StrOutputParser()
    with pytest.raises(ValueError) as caught:
        chain.invoke({"q": "x"})
    assert caught.value is boom
    trace = _trace()
    assert trace.info.status == "ERROR"
    assert _tree(trace) == [("RunnableSequence", "CHAIN", [("ChatPromptTemplate", "CHAIN"), ("fail", "CHAIN")])]
    for name in ("fail", "RunnableSequence"):
        span = _span(trace, name)
        assert span.status.status_code == "ERROR"
        assert "no such city" in span.status.description
        assert span.attributes["error.type"] == "ValueError"
        (event,) = [e for e in span.events if e.name == "exception"]
        assert event.attributes["exception.type"] == "ValueError"


def test_a_failing_chat_model_is_an_error_span(autolog: None) -> None:
    class Broken(UsageChatModel):
        def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
            raise RuntimeError("model down")

    with pytest.raises(RuntimeError, match="model down"):
        Broken().invoke("hi")
    (span,) = _trace().data.spans
    assert (span.span_type, span.status.status_code) == ("CHAT_MODEL", "ERROR")
    assert span.attributes["error.type"] == "RuntimeError"


def test_instrumentation_errors_are_logged_once_and_swallowed(autolog: None,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    class Unreadable(Mapping[str, Any]):
        """An input the run accepts but Heron cannot walk."""

        def __getitem__(self, key: str) -> Any:
            raise KeyError(key)

        def __iter__(self) -> Iterator[str]:
            raise RuntimeError("cannot iterate")

        def __len__(self) -> int:
            return 1

    step = RunnableLambda(lambda x: "fine").with_config(run_name="step")
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        assert step.invoke(Unreadable()) == "fine"
        assert step.invoke(Unreadable()) == "fine"
    warnings = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "inputs" in warnings[0].getMessage()
    span = _span(_trace(), "step")  # the span is kept, without its inputs
    assert (span.outputs, span.status.status_code) == ("fine", "OK")


def test_capture_content_false_keeps_usage_but_no_content(autolog: None) -> None:
    heron.tracing.configure(capture_content=False)
    UsageChatModel().invoke("secret question")
    (span,) = _trace().data.spans
    assert span.inputs is None and span.outputs is None
    assert span.attributes["gen_ai.usage.input_tokens"] == 10


# ------------------------------------------------------------------------- invoke, batch, streams


def test_stream_assembles_the_output(autolog: None) -> None:
    assert "".join(_chain().stream({"q": "hi"})) == "hello world"
    trace = _trace()
    assert _tree(trace) == CHAIN_TREE
    assert _span(trace, "RunnableSequence").inputs == {"q": "hi"}
    assert _span(trace, "RunnableSequence").outputs == "hello world"
    model = _span(trace, "FakeListChatModel")
    assert model.outputs == {"role": "assistant", "content": "hello world"}
    assert [e.name for e in model.events] == ["first_token"]


def test_a_stream_left_early_ends_its_spans_and_leaves_the_context_clean(autolog: None) -> None:
    stream = _chain().stream({"q": "hi"})
    assert next(stream) == "h"
    stream.close()
    trace = _trace()
    assert _tree(trace) == CHAIN_TREE
    assert all(s.status.status_code == "OK" for s in trace.data.spans)  # LangChain ends a closed run OK
    assert heron.get_current_active_span() is None
    with heron.start_span("after"):
        pass
    assert _tree(_trace()) == [("after", "UNKNOWN")]


def test_batch_gives_one_complete_trace_per_input(autolog: None) -> None:
    assert _chain().batch([{"q": "a"}, {"q": "b"}, {"q": "c"}]) == ["hello world"] * 3
    traces = _traces()
    assert len(traces) == 3
    for trace in traces:
        assert _tree(trace) == CHAIN_TREE
        q = _span(trace, "RunnableSequence").inputs["q"]
        assert _span(trace, "FakeListChatModel").inputs[1]["content"] == q
        assert _span(trace, "ChatPromptTemplate").inputs == {"q": q}
    assert heron.get_current_active_span() is None


def test_ainvoke_abatch_astream_and_no_finished_span_left_current(autolog: None) -> None:
    chain = _chain()

    async def main() -> list[str]:
        first = await chain.ainvoke({"q": "one"})
        # LangChain runs async end callbacks in a task of their own: the span must not stay current here
        assert heron.get_current_active_span() is None
        with heron.start_span("after"):
            pass
        batch = await chain.abatch([{"q": "two"}, {"q": "three"}])
        streamed = "".join([c async for c in chain.astream({"q": "four"})])
        return [first, *batch, streamed]

    assert asyncio.run(main()) == ["hello world"] * 4
    traces = _traces()
    assert len(traces) == 5
    by_name: dict[str, list[Trace]] = {}
    for trace in traces:
        by_name.setdefault(trace.info.name or "", []).append(trace)
    assert [_tree(t) for t in by_name["after"]] == [[("after", "UNKNOWN")]]
    assert len(by_name["RunnableSequence"]) == 4
    for trace in by_name["RunnableSequence"]:
        assert _tree(trace) == CHAIN_TREE
        q = _span(trace, "RunnableSequence").inputs["q"]
        assert _span(trace, "FakeListChatModel").inputs[1]["content"] == q


def test_an_async_step_calling_a_traced_coroutine_nests_it(autolog: None) -> None:
    @heron.trace
    async def fetch(x: str) -> str:
        await asyncio.sleep(0)
        return x * 2

    async def step(x: str) -> str:
        return await fetch(x)

    chain = RunnableLambda(step) | StrOutputParser()
    assert asyncio.run(chain.ainvoke("ab")) == "abab"
    assert _tree(_trace()) == [("RunnableSequence", "CHAIN", [("step", "CHAIN", [("fetch", "UNKNOWN")]),
                                                              ("StrOutputParser", "PARSER")])]


# ---------------------------------------------------------------------------------- concurrency


def test_eight_threads_sharing_one_chain_never_mix_traces(autolog: None) -> None:
    @heron.trace
    def tag(text: str) -> str:
        return text

    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    chain = prompt | RunnableLambda(lambda v: tag(v.to_messages()[-1].content)).with_config(run_name="echo") \
        | StrOutputParser()
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(15):
                q = f"t{n}-{i}"
                assert chain.invoke({"q": q}) == q
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    traces = _traces()
    assert len(traces) == 8 * 15
    expected = [("RunnableSequence", "CHAIN", [("ChatPromptTemplate", "CHAIN"),
                                               ("echo", "CHAIN", [("tag", "UNKNOWN")]), ("StrOutputParser", "PARSER")])]
    for trace in traces:
        assert _tree(trace) == expected
        q = _span(trace, "RunnableSequence").inputs["q"]
        assert all(s.trace_id == trace.info.trace_id for s in trace.data.spans)
        assert _span(trace, "tag").inputs == {"text": q}
        assert _span(trace, "StrOutputParser").outputs == q


def test_fifty_concurrent_tasks_never_mix_traces(autolog: None) -> None:
    async def slow(x: str) -> str:
        await asyncio.sleep(0.001)
        return x

    chain = RunnableLambda(slow) | StrOutputParser()

    async def main() -> list[str]:
        return list(await asyncio.gather(*(chain.ainvoke(f"q{i}") for i in range(50))))

    assert asyncio.run(main()) == [f"q{i}" for i in range(50)]
    traces = _traces()
    assert len(traces) == 50
    for trace in traces:
        assert _tree(trace) == [("RunnableSequence", "CHAIN", [("slow", "CHAIN"), ("StrOutputParser", "PARSER")])]
        assert _span(trace, "slow").inputs == _span(trace, "StrOutputParser").outputs


# ------------------------------------------------------------------- ChatOpenAI with OpenAI autolog


@pytest.fixture
def both_autologs(sqlite_uri: str) -> Iterator[None]:
    heron.openai.autolog()
    heron.langchain.autolog()
    yield
    heron.langchain.autolog(disable=True)
    heron.openai.autolog(disable=True)


def _chat_openai(fake: FakeOpenAI, **kwargs: Any) -> Any:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model="gpt-4o-mini", base_url=fake.base_url, api_key="test", max_retries=0, **kwargs)


OPENAI_TREE = [("RunnableSequence", "CHAIN", [("ChatPromptTemplate", "CHAIN"),
                                              ("ChatOpenAI", "CHAT_MODEL", [("chat gpt-4o-mini", "CHAT_MODEL")]),
                                              ("StrOutputParser", "PARSER")])]


def _assert_counted_once(trace: Trace) -> None:
    reported = [s for s in trace.data.spans if "gen_ai.usage.input_tokens" in s.attributes]
    assert reported
    innermost = reported[-1] if len(reported) == 1 else next(
        s for s in reported if not any(o.parent_id == s.span_id for o in reported))
    assert trace.info.input_tokens == innermost.attributes["gen_ai.usage.input_tokens"]
    assert trace.info.output_tokens == innermost.attributes["gen_ai.usage.output_tokens"]
    assert trace.info.cost is not None and trace.info.cost > 0


def test_chat_openai_call_nests_under_the_chat_model_span(both_autologs: None, fake_openai: FakeOpenAI) -> None:
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | _chat_openai(fake_openai) | StrOutputParser()
    assert chain.invoke({"q": "hello there"}) == "echo: hello there"
    trace = _trace()
    assert _tree(trace) == OPENAI_TREE
    model = _span(trace, "ChatOpenAI")
    assert model.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert model.attributes["gen_ai.response.model"].startswith("gpt-4o-mini")
    _assert_counted_once(trace)

    assert chain.batch([{"q": "a"}, {"q": "b"}]) == ["echo: a", "echo: b"]  # threads of LangChain's pool
    traces = _traces()
    assert len(traces) == 3
    for trace in traces:
        assert _tree(trace) == OPENAI_TREE
        q = _span(trace, "RunnableSequence").inputs["q"]
        assert _span(trace, "chat gpt-4o-mini").inputs == [{"role": "user", "content": q}]
        _assert_counted_once(trace)


def test_chat_openai_tool_calls(both_autologs: None, fake_openai: FakeOpenAI) -> None:
    @tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    message = _chat_openai(fake_openai).bind_tools([get_weather]).invoke("What is the weather in Paris?")
    assert message.tool_calls and message.tool_calls[0]["name"] == "get_weather"
    trace = _trace()
    model = _span(trace, "ChatOpenAI")
    assert "get_weather" in model.attributes["gen_ai.tool.definitions"]
    (call,) = model.outputs["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    assert model.attributes["gen_ai.response.finish_reasons"] == ["tool_calls"]


@pytest.mark.parametrize("stream_usage", [False, True])
def test_streamed_chat_openai_counts_tokens_once(both_autologs: None, fake_openai: FakeOpenAI,
                                                 stream_usage: bool) -> None:
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) \
        | _chat_openai(fake_openai, stream_usage=stream_usage) | StrOutputParser()
    assert "".join(chain.stream({"q": "hello there"})) == "echo: hello there"
    trace = _trace()
    assert _tree(trace) == OPENAI_TREE
    openai_span = _span(trace, "chat gpt-4o-mini")
    assert openai_span.attributes["gen_ai.usage.input_tokens"] > 0
    if stream_usage:  # both spans report the same tokens: only the innermost counts
        assert _span(trace, "ChatOpenAI").attributes["gen_ai.usage.input_tokens"] == \
            openai_span.attributes["gen_ai.usage.input_tokens"]
    _assert_counted_once(trace)
    assert trace.info.input_tokens == openai_span.attributes["gen_ai.usage.input_tokens"]


def test_async_chat_openai_nests_and_counts_once(both_autologs: None, fake_openai: FakeOpenAI) -> None:
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) \
        | _chat_openai(fake_openai, stream_usage=True) | StrOutputParser()

    async def main() -> list[str]:
        one = await chain.ainvoke({"q": "one"})
        two = "".join([c async for c in chain.astream({"q": "two"})])
        three = await chain.abatch([{"q": "three"}, {"q": "four"}])
        return [one, two, *three]

    assert asyncio.run(main()) == ["echo: one", "echo: two", "echo: three", "echo: four"]
    traces = _traces()
    assert len(traces) == 4
    for trace in traces:
        assert _tree(trace) == OPENAI_TREE
        _assert_counted_once(trace)
        q = _span(trace, "RunnableSequence").inputs["q"]
        assert _span(trace, "chat gpt-4o-mini").inputs == [{"role": "user", "content": q}]


# ------------------------------------------------------------------------------------------ import


def test_without_langchain_autolog_says_what_to_install_and_heron_autolog_skips_it() -> None:
    code = ("import sys\n"
            "sys.modules['langchain_core'] = None  # as if it were not installed\n"
            "import heron, heron.langchain\n"
            "from heron.tracing.autolog import langchain\n"
            "heron.autolog(exclude_flavors=['openai'])\n"
            "assert not langchain.is_enabled()\n"
            "try:\n"
            "    heron.langchain.autolog()\n"
            "except heron.HeronError as exc:\n"
            "    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert "pip install 'heron[langchain]'" in out.stdout


def test_importing_heron_langchain_does_not_import_langchain() -> None:
    code = ("import sys, heron, heron.langchain, heron.tracing.autolog\n"
            "print(sorted(m for m in sys.modules if m.startswith(('langchain', 'openai'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"
