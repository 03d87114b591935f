"""What LangChain's callbacks pass, as span inputs, outputs and attributes. Pure functions.

Messages become OpenAI-shaped ``{"role", "content"}`` dicts (with ``tool_calls`` in OpenAI's shape, as
the OpenAI autolog records them), prompt values become their messages or text, documents
``{"page_content", "metadata"}``. Models' request parameters, response model, finish reasons and token
usage (``usage_metadata`` on the AI message, else the provider's ``token_usage``) become the
OpenTelemetry GenAI attributes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.documents import Document
from langchain_core.messages import AIMessage, BaseMessage, ChatMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.prompt_values import ChatPromptValue, StringPromptValue

from heron.tracing.attributes import (
    GEN_AI_OPERATION_NAME,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_CHOICE_COUNT,
    GEN_AI_REQUEST_FREQUENCY_PENALTY,
    GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_REQUEST_PRESENCE_PENALTY,
    GEN_AI_REQUEST_SEED,
    GEN_AI_REQUEST_STOP_SEQUENCES,
    GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_P,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
    GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
)
from heron.tracing.autolog.openai_calls import usage_attributes

__all__ = ["render", "message", "chat_inputs", "llm_outputs", "documents", "model_attributes",
           "response_attributes"]

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "function": "function"}
_MAX_DEPTH = 6
_MAX_ITEMS = 1_000
# LangChain's ls_provider -> OpenTelemetry's gen_ai.provider.name, where they differ
_PROVIDERS = {"azure": "azure.ai.openai", "google_genai": "gcp.gen_ai", "google_vertexai": "gcp.vertex_ai",
              "amazon_bedrock": "aws.bedrock", "bedrock": "aws.bedrock", "mistral": "mistral_ai",
              "mistralai": "mistral_ai", "xai": "x_ai"}
# request parameter (invocation params, then LangSmith's ls_* metadata) -> attribute
_REQUEST = (
    (("temperature", "ls_temperature"), GEN_AI_REQUEST_TEMPERATURE),
    (("top_p",), GEN_AI_REQUEST_TOP_P),
    (("max_tokens", "max_completion_tokens", "max_output_tokens", "max_tokens_to_sample", "ls_max_tokens"),
     GEN_AI_REQUEST_MAX_TOKENS),
    (("seed",), GEN_AI_REQUEST_SEED),
    (("frequency_penalty",), GEN_AI_REQUEST_FREQUENCY_PENALTY),
    (("presence_penalty",), GEN_AI_REQUEST_PRESENCE_PENALTY),
    (("n",), GEN_AI_REQUEST_CHOICE_COUNT),
    (("top_k",), "gen_ai.request.top_k"),
)


def render(value: Any, depth: int = 0) -> Any:
    """``value`` with LangChain objects (messages, prompt values, documents) turned into plain data;
    anything else is left for the span serialiser."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, BaseMessage):
        return message(value)
    if isinstance(value, ChatPromptValue):
        return [message(m) for m in value.messages]
    if isinstance(value, StringPromptValue):
        return value.text
    if isinstance(value, Document):
        return _document(value)
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {k: render(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render(v, depth + 1) for v in value[:_MAX_ITEMS]]
    return value


def message(msg: BaseMessage) -> dict[str, Any]:
    """One message as ``{"role": ..., "content": ...}`` (plus ``tool_calls``, ``tool_call_id``, ``name``)."""
    kind = msg.type[:-12].lower() if msg.type.endswith("MessageChunk") else msg.type  # AIMessageChunk ...
    role = msg.role if isinstance(msg, ChatMessage) else _ROLES.get(kind, kind)
    if role == "system" and msg.additional_kwargs.get("__openai_role__") == "developer":
        role = "developer"
    found: dict[str, Any] = {"role": role, "content": msg.content}
    if isinstance(msg, AIMessage) and msg.tool_calls:
        found["tool_calls"] = [
            {"id": call.get("id"), "type": "function",
             "function": {"name": call["name"], "arguments": _json_text(call.get("args"))}}
            for call in msg.tool_calls
        ]
    if isinstance(msg, ToolMessage):
        found["tool_call_id"] = msg.tool_call_id
    if msg.name:
        found["name"] = msg.name
    return found


def chat_inputs(messages: Sequence[Sequence[BaseMessage]]) -> Any:
    """A chat model run's messages (LangChain passes one list per run)."""
    lists = [[message(m) for m in batch] for batch in messages]
    return lists[0] if len(lists) == 1 else lists


def llm_outputs(response: LLMResult) -> Any:
    """The run's answer: the AI message (one per choice) of a chat model, the text of an LLM."""
    choices = response.generations[0] if len(response.generations) == 1 else \
        [g for batch in response.generations for g in batch]
    found = [message(g.message) if isinstance(g, ChatGeneration) else g.text for g in choices]
    return found[0] if len(found) == 1 else found


def documents(docs: Sequence[Any]) -> list[Any]:
    return [_document(d) if isinstance(d, Document) else render(d) for d in docs[:_MAX_ITEMS]]


def _document(doc: Document) -> dict[str, Any]:
    found: dict[str, Any] = {"page_content": doc.page_content, "metadata": doc.metadata}
    doc_id = getattr(doc, "id", None)  # langchain-core >= 0.2.11
    if doc_id is not None:
        found["id"] = doc_id
    return found


def model_attributes(operation: str, metadata: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """GenAI request attributes of a chat model or LLM run, from LangChain's invocation params and the
    ``ls_*`` metadata LangChain adds for LangSmith."""
    meta = metadata or {}
    params = kwargs.get("invocation_params")
    params = params if isinstance(params, Mapping) else {}
    attrs: dict[str, Any] = {GEN_AI_OPERATION_NAME: operation}
    provider = meta.get("ls_provider")
    if isinstance(provider, str) and provider:
        attrs[GEN_AI_PROVIDER_NAME] = _PROVIDERS.get(provider, provider)
    model = meta.get("ls_model_name") or params.get("model") or params.get("model_name") or params.get("model_id")
    if isinstance(model, str) and model:
        attrs[GEN_AI_REQUEST_MODEL] = model
    for keys, attr in _REQUEST:
        for key in keys:
            value = params.get(key, meta.get(key))
            if isinstance(value, int | float) and not isinstance(value, bool):
                attrs[attr] = value
                break
    stop = params.get("stop") or meta.get("ls_stop")
    if isinstance(stop, str):
        stop = [stop]
    if isinstance(stop, list) and stop and all(isinstance(s, str) for s in stop):
        attrs[GEN_AI_REQUEST_STOP_SEQUENCES] = stop
    tools = params.get("tools")
    if tools:
        attrs[GEN_AI_TOOL_DEFINITIONS] = tools
    return attrs


def response_attributes(response: LLMResult) -> dict[str, Any]:
    """Response model, id, finish reasons and token usage of a finished chat model or LLM run."""
    attrs: dict[str, Any] = {}
    llm_output = response.llm_output if isinstance(response.llm_output, Mapping) else {}
    generations = [g for batch in response.generations for g in batch]
    reasons: list[str] = []
    usage: Mapping[str, Any] | None = None
    for gen in generations:
        info = gen.generation_info or {}
        meta: Mapping[str, Any] = gen.message.response_metadata if isinstance(gen, ChatGeneration) else {}
        reason = info.get("finish_reason") or meta.get("finish_reason") or meta.get("stop_reason")
        if isinstance(reason, str):
            reasons.append(reason)
        model = meta.get("model_name") or meta.get("model")
        if isinstance(model, str) and model and GEN_AI_RESPONSE_MODEL not in attrs:
            attrs[GEN_AI_RESPONSE_MODEL] = model
        response_id = meta.get("id")
        if isinstance(response_id, str) and GEN_AI_RESPONSE_ID not in attrs:
            attrs[GEN_AI_RESPONSE_ID] = response_id
        if usage is None and isinstance(gen, ChatGeneration) and isinstance(gen.message, AIMessage):
            usage = gen.message.usage_metadata
    if reasons:
        attrs[GEN_AI_RESPONSE_FINISH_REASONS] = reasons
    model = llm_output.get("model_name") or llm_output.get("model")
    if isinstance(model, str) and model and GEN_AI_RESPONSE_MODEL not in attrs:
        attrs[GEN_AI_RESPONSE_MODEL] = model
    attrs.update(_usage_attributes(usage) if usage else _provider_usage(llm_output))
    return attrs


def _usage_attributes(usage: Mapping[str, Any]) -> dict[str, Any]:
    """From LangChain's ``UsageMetadata`` (input tokens include cached ones, output tokens reasoning)."""
    attrs: dict[str, Any] = {}
    _put(attrs, GEN_AI_USAGE_INPUT_TOKENS, usage.get("input_tokens"))
    _put(attrs, GEN_AI_USAGE_OUTPUT_TOKENS, usage.get("output_tokens"))
    details = usage.get("input_token_details")
    if isinstance(details, Mapping):
        _put(attrs, GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, details.get("cache_read"))
    details = usage.get("output_token_details")
    if isinstance(details, Mapping):
        _put(attrs, GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, details.get("reasoning"))
    return attrs


def _provider_usage(llm_output: Mapping[str, Any]) -> dict[str, Any]:
    """From ``llm_output["token_usage"]`` (OpenAI's names) or ``["usage"]``, for models that set no
    ``usage_metadata``: the same reading as OpenAI autolog's."""
    usage = llm_output.get("token_usage") or llm_output.get("usage")
    return usage_attributes(usage) if isinstance(usage, Mapping) else {}


def _put(attrs: dict[str, Any], key: str, value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool):
        attrs[key] = value


def _json_text(value: Any) -> str:
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)
