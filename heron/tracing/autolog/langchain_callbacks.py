"""``HeronCallbackHandler``: LangChain's callbacks as Heron spans, one per run, nested as LangChain nests
its runs.

- **Parent.** A run's span is the child of its parent run's span (``parent_run_id``), or of a span opened
  inside that run (a ``@heron.trace`` function that invokes a chain). A run without a parent Heron knows
  nests under the current OpenTelemetry span, so a chain invoked in ``@heron.trace`` is part of its trace.
- **Current span.** While a run works its span is current (see callback_spans.py), so an OpenAI call
  made by a chat model (traced by the OpenAI autolog) and a traced function called by a tool nest under
  it. The handler runs inline (``run_inline``): LangChain would otherwise run a sync handler's async
  callbacks in an executor thread, where making a span current has no effect on the run.
- **State** is a dict keyed by run id (one add at start, one pop at end): no lock, safe across threads
  and tasks, one handler instance for every run in the process.
- **Never in the way.** Every callback catches its own failures, logs them once and returns; errors of
  the run are recorded on its span (status ERROR, an ``exception`` event) and LangChain re-raises them
  unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult
from opentelemetry import trace as otel_trace

from heron.tracing.attributes import GEN_AI_OPERATION_NAME, GEN_AI_TOOL_CALL_ID, GEN_AI_TOOL_NAME
from heron.tracing.autolog.callback_spans import (
    CallbackSpan,
    enter,
    leave,
    live_context,
    siblings,
    started_within,
)
from heron.tracing.autolog.langchain import report_failure
from heron.tracing.autolog.langchain_values import (
    chat_inputs,
    documents,
    llm_outputs,
    model_attributes,
    render,
    response_attributes,
)
from heron.tracing.provider import settings
from heron.tracing.span_types import SpanType
from heron.tracing.spans import LiveSpan, start_detached_span

__all__ = ["HeronCallbackHandler"]

F = TypeVar("F", bound=Callable[..., None])
_NOTHING: Any = object()
_CHAIN_TYPES = {"parser": SpanType.PARSER, "prompt": SpanType.CHAIN}
_INTERNAL_TAGS = ("seq:step:", "map:key:", "branch:", "condition:", "retry:attempt:")  # LangChain's own tags for a step's place


class _Run:
    """One LangChain run being recorded."""

    __slots__ = ("span", "holder", "streamed")

    def __init__(self, span: LiveSpan, holder: CallbackSpan) -> None:
        self.span = span
        self.holder = holder
        self.streamed = False


def _guarded(where: str) -> Callable[[F], F]:
    """A callback that logs its own failures once and returns: LangChain would log a warning per call."""

    def wrap(method: F) -> F:
        @functools.wraps(method)
        def guarded(*args: Any, **kwargs: Any) -> None:
            try:
                method(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - tracing never breaks the run
                report_failure(where, exc)

        return cast(F, guarded)

    return wrap


class HeronCallbackHandler(BaseCallbackHandler):
    """Records LangChain runs as Heron spans. ``heron.langchain.autolog()`` adds one to every run; pass
    one yourself with ``config={"callbacks": [HeronCallbackHandler()]}`` to trace chosen runs only.
    Thread-safe; one instance can serve any number of concurrent runs."""

    run_inline = True
    raise_error = False

    def __init__(self) -> None:
        super().__init__()
        self._runs: dict[UUID, _Run] = {}

    # ------------------------------------------------------------------------------------------ chains

    @_guarded("chain start")
    def on_chain_start(self, serialized: dict[str, Any], inputs: dict[str, Any], *, run_id: UUID,
                       parent_run_id: UUID | None = None, tags: list[str] | None = None,
                       metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        name = _name(serialized, kwargs, "chain")
        run_type = kwargs.get("run_type")
        attrs = _run_attributes(tags, metadata)
        if isinstance(run_type, str):
            attrs["langchain.run.type"] = run_type
        self._start(run_id, parent_run_id, name, _chain_type(run_type, name), inputs, render, attrs)

    @_guarded("chain end")
    def on_chain_end(self, outputs: dict[str, Any], *, run_id: UUID, parent_run_id: UUID | None = None,
                     **kwargs: Any) -> None:
        run = self._runs.get(run_id)
        if run is not None and "inputs" in kwargs and _capture():  # streamed: the input LangChain gathered
            run.span.set_inputs(render(kwargs["inputs"]))
        self._end(run_id, outputs, render)

    @_guarded("chain error")
    def on_chain_error(self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None,
                       **kwargs: Any) -> None:
        self._fail(run_id, error)

    # ------------------------------------------------------------------------------ chat models, LLMs

    @_guarded("chat model start")
    def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list[BaseMessage]], *,
                            run_id: UUID, parent_run_id: UUID | None = None, tags: list[str] | None = None,
                            metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        attrs = _run_attributes(tags, metadata) | model_attributes("chat", metadata, kwargs)
        self._start(run_id, parent_run_id, _name(serialized, kwargs, "chat_model"), SpanType.CHAT_MODEL,
                    messages, chat_inputs, attrs)

    @_guarded("LLM start")
    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID,
                     parent_run_id: UUID | None = None, tags: list[str] | None = None,
                     metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        attrs = _run_attributes(tags, metadata) | model_attributes("text_completion", metadata, kwargs)
        self._start(run_id, parent_run_id, _name(serialized, kwargs, "llm"), SpanType.LLM,
                    prompts[0] if len(prompts) == 1 else prompts, None, attrs)

    @_guarded("streamed token")
    def on_llm_new_token(self, token: str | list[str | dict[str, Any]], *, chunk: Any = None, run_id: UUID,
                         parent_run_id: UUID | None = None, tags: list[str] | None = None,
                         **kwargs: Any) -> None:
        # LangChain assembles the streamed answer for on_llm_end; Heron notes when it began to arrive
        run = self._runs.get(run_id)
        if run is not None and not run.streamed:
            run.streamed = True
            run.span.add_event("first_token")

    @_guarded("LLM end")
    def on_llm_end(self, response: LLMResult, *, run_id: UUID, parent_run_id: UUID | None = None,
                   tags: list[str] | None = None, **kwargs: Any) -> None:
        run = self._runs.get(run_id)
        if run is not None:
            run.span.set_attributes(response_attributes(response))
        self._end(run_id, response, llm_outputs)

    @_guarded("LLM error")
    def on_llm_error(self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None,
                     tags: list[str] | None = None, **kwargs: Any) -> None:
        partial = kwargs.get("response")  # what a stream produced before it failed
        outputs = _NOTHING
        if isinstance(partial, LLMResult) and partial.generations and partial.generations[0]:
            outputs = llm_outputs(LLMResult(generations=[partial.generations[0]]))
        self._fail(run_id, error, outputs)

    # ------------------------------------------------------------------------------ tools, retrievers

    @_guarded("tool start")
    def on_tool_start(self, serialized: dict[str, Any], input_str: str, *, run_id: UUID,
                      parent_run_id: UUID | None = None, tags: list[str] | None = None,
                      metadata: dict[str, Any] | None = None, inputs: dict[str, Any] | None = None,
                      **kwargs: Any) -> None:
        name = _name(serialized, kwargs, "tool")
        attrs = _run_attributes(tags, metadata)
        attrs[GEN_AI_OPERATION_NAME] = "execute_tool"
        attrs[GEN_AI_TOOL_NAME] = name
        description = (serialized or {}).get("description")
        if isinstance(description, str) and description:
            attrs["gen_ai.tool.description"] = description
        call_id = kwargs.get("tool_call_id")
        if isinstance(call_id, str):
            attrs[GEN_AI_TOOL_CALL_ID] = call_id
        self._start(run_id, parent_run_id, name, SpanType.TOOL, input_str if inputs is None else inputs,
                    render, attrs)

    @_guarded("tool end")
    def on_tool_end(self, output: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                    **kwargs: Any) -> None:
        self._end(run_id, output, render)

    @_guarded("tool error")
    def on_tool_error(self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None,
                      **kwargs: Any) -> None:
        self._fail(run_id, error)

    @_guarded("retriever start")
    def on_retriever_start(self, serialized: dict[str, Any], query: str, *, run_id: UUID,
                           parent_run_id: UUID | None = None, tags: list[str] | None = None,
                           metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self._start(run_id, parent_run_id, _name(serialized, kwargs, "retriever"), SpanType.RETRIEVER, query,
                    None, _run_attributes(tags, metadata))

    @_guarded("retriever end")
    def on_retriever_end(self, documents: Sequence[Document], *, run_id: UUID,
                         parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._end(run_id, documents, _documents)

    @_guarded("retriever error")
    def on_retriever_error(self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None,
                           **kwargs: Any) -> None:
        self._fail(run_id, error)

    # ------------------------------------------------------------------------------ events on a run

    @_guarded("text event")
    def on_text(self, text: str, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._event(run_id, "text", {"text": text})

    @_guarded("retry event")
    def on_retry(self, retry_state: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                 **kwargs: Any) -> None:
        outcome = getattr(retry_state, "outcome", None)
        failure = outcome.exception() if outcome is not None and outcome.failed else None
        self._event(run_id, "retry", {"attempt": getattr(retry_state, "attempt_number", None),
                                      "exception": None if failure is None else repr(failure)})

    @_guarded("agent action")
    def on_agent_action(self, action: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                        **kwargs: Any) -> None:
        self._event(run_id, "agent_action", {"tool": getattr(action, "tool", None),
                                             "tool_input": render(getattr(action, "tool_input", None)),
                                             "log": getattr(action, "log", None)})

    @_guarded("agent finish")
    def on_agent_finish(self, finish: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                        **kwargs: Any) -> None:
        self._event(run_id, "agent_finish", {"return_values": render(getattr(finish, "return_values", None))})

    @_guarded("custom event")
    def on_custom_event(self, name: str, data: Any, *, run_id: UUID, tags: list[str] | None = None,
                        metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self._event(run_id, str(name), {"data": render(data)})

    # ------------------------------------------------------------------------------------- spans

    def _start(self, run_id: UUID, parent_run_id: UUID | None, name: str, span_type: str, inputs: Any,
               shape: Callable[[Any], Any] | None, attributes: dict[str, Any]) -> None:
        parent = self._parent(parent_run_id)
        span = start_detached_span(name, span_type, parent=LiveSpan(parent), attributes=attributes)
        if _capture():
            try:
                span.set_inputs(inputs if shape is None else shape(inputs))
            except Exception as exc:  # noqa: BLE001 - the span goes on without its inputs
                report_failure("inputs", exc)
        self._runs[run_id] = _Run(span, enter(span.otel_span, parent_run_id))

    def _parent(self, parent_run_id: UUID | None) -> otel_trace.Span:
        """The span a new run's span goes under (INVALID_SPAN: a trace of its own)."""
        current = otel_trace.get_current_span(live_context())
        parent = None if parent_run_id is None else self._runs.get(parent_run_id)
        if parent is None:  # LangChain's root, or a parent run this handler did not see
            found = siblings(current, parent_run_id)
            return found.span if isinstance(found, CallbackSpan) else found
        if current is parent.holder:
            return parent.span.otel_span
        if not isinstance(current, CallbackSpan) and started_within(current, parent.span.otel_span):
            return current  # a span the parent run opened (a traced function that invoked this runnable)
        return parent.span.otel_span

    def _end(self, run_id: UUID, outputs: Any, shape: Callable[[Any], Any]) -> None:
        run = self._runs.pop(run_id, None)
        if run is None:
            return
        try:
            if _capture():
                run.span.set_outputs(shape(outputs))
        finally:
            leave(run.holder)
            run.span.end()

    def _fail(self, run_id: UUID, error: BaseException, outputs: Any = _NOTHING) -> None:
        run = self._runs.pop(run_id, None)
        if run is None:
            return
        span = run.span
        try:
            if outputs is not _NOTHING and _capture():
                span.set_outputs(outputs)
            if isinstance(error, GeneratorExit):  # the caller stopped reading a stream: not a failure
                span.add_event("stream_closed")
            else:
                span.set_attribute("error.type", _error_type(error))
                span.record_exception(error)
        finally:
            leave(run.holder)
            span.end()

    def _event(self, run_id: UUID, name: str, attributes: Mapping[str, Any]) -> None:
        run = self._runs.get(run_id)
        if run is not None:
            run.span.add_event(name, {k: v for k, v in attributes.items() if v is not None})


def _capture() -> bool:
    return settings().capture_content


def _documents(docs: Any) -> Any:
    return documents(docs) if isinstance(docs, Sequence) else render(docs)


def _name(serialized: Mapping[str, Any] | None, kwargs: Mapping[str, Any], default: str) -> str:
    name = kwargs.get("name")
    if isinstance(name, str) and name:
        return name
    if serialized:
        found = serialized.get("name")
        if isinstance(found, str) and found:
            return found
        ids = serialized.get("id")
        if isinstance(ids, list) and ids and isinstance(ids[-1], str):
            return ids[-1]
    return default


def _chain_type(run_type: Any, name: str) -> str:
    found = _CHAIN_TYPES.get(run_type) if isinstance(run_type, str) else None
    if found is not None:
        return found
    if "Agent" in name or name == "agent":  # AgentExecutor, RunnableAgent, a LangGraph agent ...
        return SpanType.AGENT
    return SpanType.CHAIN


def _run_attributes(tags: list[str] | None, metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """The user's tags and metadata (not LangChain's step tags; LangSmith's ``ls_*`` keys are read as GenAI
    attributes instead)."""
    attrs: dict[str, Any] = {}
    if tags:
        own_tags = [str(t) for t in tags if not str(t).startswith(_INTERNAL_TAGS)]
        if own_tags:
            attrs["langchain.tags"] = own_tags
    if metadata:
        own = {k: v for k, v in metadata.items() if not k.startswith("ls_") and k != "lc_versions"}
        if own:
            attrs["langchain.metadata"] = own
    return attrs


def _error_type(error: BaseException) -> str:
    cls = type(error)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
