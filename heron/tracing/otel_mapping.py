"""Normalise span attributes written by other instrumentations into Heron's names. Pure functions.

Understands OpenInference (``openinference.span.kind``, ``llm.model_name``, ``llm.token_count.*``,
``llm.input_messages.N.message.*``, ``input.value`` …), OpenLLMetry before the GenAI conventions
(``gen_ai.system``, ``gen_ai.usage.prompt_tokens``, ``gen_ai.prompt.N.*``, ``gen_ai.completion.N.*``,
``llm.request.type``, ``traceloop.*``) and the current GenAI conventions (``gen_ai.input.messages``).
The result uses the OpenTelemetry GenAI names (``gen_ai.provider.name``, ``gen_ai.request.model``,
``gen_ai.usage.input_tokens`` …) and Heron's ``heron.span.type`` / ``heron.span.inputs`` /
``heron.span.outputs`` (JSON text; chat messages as a list of ``{"role", "content", ...}`` in OpenAI's
chat shape). Attributes already in Heron's names win over translated ones, so normalising twice
changes nothing. Used by OTLP ingest and by spans of other instrumentations joining Heron traces.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from heron.tracing.attributes import COST_USD, SPAN_TYPE
from heron.tracing.attributes import INPUTS as SPAN_INPUTS
from heron.tracing.attributes import OUTPUTS as SPAN_OUTPUTS
from heron.tracing.cost import token_count

__all__ = ["normalize_attributes", "detect_span_type"]

# Heron name -> older names for the same value, first found wins. Old names are always dropped.
_ALIASES: dict[str, tuple[str, ...]] = {
    "gen_ai.provider.name": ("gen_ai.system", "llm.provider", "llm.system"),
    "gen_ai.usage.input_tokens": ("gen_ai.usage.prompt_tokens", "llm.token_count.prompt", "llm.usage.prompt_tokens"),
    "gen_ai.usage.output_tokens": (
        "gen_ai.usage.completion_tokens", "llm.token_count.completion", "llm.usage.completion_tokens",
    ),
    "gen_ai.usage.cache_read.input_tokens": (
        "gen_ai.usage.cache_read_input_tokens", "llm.token_count.prompt_details.cache_read",
    ),
    "gen_ai.usage.cache_creation.input_tokens": (
        "gen_ai.usage.cache_creation_input_tokens", "llm.token_count.prompt_details.cache_write",
    ),
    "gen_ai.usage.reasoning.output_tokens": (
        "gen_ai.usage.reasoning_tokens", "llm.token_count.completion_details.reasoning",
    ),
    "gen_ai.request.frequency_penalty": ("llm.frequency_penalty",),
    "gen_ai.request.presence_penalty": ("llm.presence_penalty",),
    "gen_ai.request.top_p": ("llm.top_p",),
    "gen_ai.tool.name": ("tool.name",),
    "gen_ai.tool.description": ("tool.description",),
    COST_USD: ("llm.cost.total",),  # a cost the instrumentation computed itself
}
# OpenInference's llm.provider values -> the GenAI conventions' gen_ai.provider.name
_PROVIDERS = {"azure": "azure.ai.openai", "aws": "aws.bedrock"}
_TOKEN_KEYS = frozenset(k for k in _ALIASES if k.startswith("gen_ai.usage."))

# llm.invocation_parameters key -> gen_ai.request.* name
_PARAMETERS: dict[str, str] = {
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "top_k": "gen_ai.request.top_k",
    "max_tokens": "gen_ai.request.max_tokens",
    "max_completion_tokens": "gen_ai.request.max_tokens",
    "max_output_tokens": "gen_ai.request.max_tokens",
    "seed": "gen_ai.request.seed",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
    "stop": "gen_ai.request.stop_sequences",
    "n": "gen_ai.request.choice.count",
}

_OPENINFERENCE_KINDS = {"LLM": "LLM", "CHAIN": "CHAIN", "TOOL": "TOOL", "RETRIEVER": "RETRIEVER",
                        "RERANKER": "RERANKER", "EMBEDDING": "EMBEDDING", "AGENT": "AGENT", "UNKNOWN": "UNKNOWN"}
_TRACELOOP_KINDS = {"workflow": "CHAIN", "task": "CHAIN", "agent": "AGENT", "tool": "TOOL"}
_REQUEST_TYPES = {"chat": "CHAT_MODEL", "completion": "LLM", "embedding": "EMBEDDING", "rerank": "RERANKER"}
_OPERATIONS = {
    "chat": "CHAT_MODEL", "generate_content": "CHAT_MODEL", "text_completion": "LLM", "embeddings": "EMBEDDING",
    "execute_tool": "TOOL", "invoke_agent": "AGENT", "create_agent": "AGENT", "retrieval": "RETRIEVER",
}
_TYPE_TO_OPERATION = {"CHAT_MODEL": "chat", "LLM": "text_completion", "EMBEDDING": "embeddings",
                      "TOOL": "execute_tool", "AGENT": "invoke_agent"}

# flattened lists: attribute prefix -> name of the tree they are gathered into
_FLAT_PREFIXES = (
    "llm.input_messages.", "llm.output_messages.", "gen_ai.prompt.", "gen_ai.completion.",
    "embedding.embeddings.", "retrieval.documents.", "reranker.input_documents.",
    "reranker.output_documents.", "llm.tools.", "llm.request.functions.", "llm.prompts.", "llm.choices.",
)
_MODEL_NAMES = ("llm.model_name", "embedding.model_name", "reranker.model_name")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _loads(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None


def _int(value: Any) -> Any:
    """A token count as an int when it reads as one (``token_count``), else the value as it was."""
    count = token_count(value)
    return value if count is None else count


def _trees(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Flattened list attributes gathered into nested dicts: "llm.input_messages." -> {"0": {...}}."""
    trees: dict[str, Any] = {}
    for key, value in attributes.items():
        if not key.startswith(_FLAT_PREFIXES):
            continue
        prefix = next(p for p in _FLAT_PREFIXES if key.startswith(p))
        node = trees.setdefault(prefix, {})
        parts = key[len(prefix):].split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[parts[-1]] = value
    return trees


def _items(tree: Any) -> list[Any]:
    """The values of a {"0": ..., "1": ...} node in index order."""
    if not isinstance(tree, dict):
        return []
    indexed = sorted((int(k), v) for k, v in tree.items() if k.isdigit())
    return [v for _, v in indexed]


def _node(tree: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(tree, dict):
            return None
        tree = tree.get(part)
    return tree


def _parts_text(parts: Any) -> Any:
    """Content parts as a string when all are text, else as a list of parts."""
    if not isinstance(parts, list):
        return parts
    texts = [p.get("text", p.get("content")) for p in parts if isinstance(p, dict)]
    if texts and len(texts) == len(parts) and all(isinstance(t, str) for t in texts) and all(
        p.get("type") in (None, "text", "input_text", "output_text") for p in parts
    ):
        return "".join(str(t) for t in texts)
    return parts


def _tool_call(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    if not isinstance(arguments, str) and arguments is not None:
        arguments = _dumps(arguments)
    call: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": arguments}}
    return {"id": call_id, **call} if call_id is not None else call


def _message(role: Any, content: Any, tool_calls: list[dict[str, Any]], extra: Mapping[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": role, "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    message.update({k: v for k, v in extra.items() if v is not None})
    return message


def _openinference_messages(tree: Any) -> list[dict[str, Any]]:
    messages = []
    for item in _items(tree):
        m = _node(item, "message") or {}
        content = m.get("content")
        if content is None and "contents" in m:
            parts = []
            for part in _items(m["contents"]):
                c = _node(part, "message_content") or {}
                url = _node(c, "image", "image", "url")
                parts.append({"type": "image_url", "image_url": {"url": url}} if url else
                             {"type": c.get("type", "text"), "text": c.get("text")})
            content = _parts_text(parts)
        calls = [
            _tool_call(_node(c, "tool_call", "id"), _node(c, "tool_call", "function", "name"),
                       _node(c, "tool_call", "function", "arguments"))
            for c in _items(m.get("tool_calls"))
        ]
        messages.append(_message(m.get("role"), content, calls,
                                 {"tool_call_id": m.get("tool_call_id"), "name": m.get("name")}))
    return messages


def _openllmetry_messages(tree: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """(messages, finish reasons) from gen_ai.prompt.N.* / gen_ai.completion.N.* (OpenLLMetry < 0.47)."""
    messages, reasons = [], []
    for item in _items(tree):
        if not isinstance(item, dict):
            continue
        content = item.get("content")
        parsed = _loads(content) if isinstance(content, str) and content.startswith("[") else None
        if isinstance(parsed, list) and all(isinstance(p, dict) and "type" in p for p in parsed):
            content = _parts_text(parsed)
        calls = [_tool_call(c.get("id"), c.get("name"), c.get("arguments"))
                 for c in _items(item.get("tool_calls")) if isinstance(c, dict)]
        function_call = item.get("function_call")
        if isinstance(function_call, dict) and function_call.get("name"):
            calls.append(_tool_call(None, function_call.get("name"), function_call.get("arguments")))
        if isinstance(item.get("finish_reason"), str):
            reasons.append(item["finish_reason"])
        messages.append(_message(item.get("role"), content, calls, {"tool_call_id": item.get("tool_call_id")}))
    return messages, reasons


def _genai_messages(raw: Any, system: Any = None) -> tuple[list[dict[str, Any]], list[str]]:
    """(messages, finish reasons) from gen_ai.input.messages / gen_ai.output.messages (parts format)."""
    messages, reasons = [], []
    instructions = _loads(system)
    if isinstance(instructions, list) and instructions:
        messages.append({"role": "system", "content": _parts_text(_genai_parts(instructions)[0])})
    for item in _loads(raw) or []:
        if not isinstance(item, dict):
            continue
        parts, calls, responses = _genai_parts(item.get("parts") or [])
        if isinstance(item.get("finish_reason"), str):
            reasons.append(item["finish_reason"])
        for call_id, response in responses:
            messages.append({"role": "tool", "content": response, "tool_call_id": call_id})
        if parts or calls or not responses:
            content = _parts_text(parts) if parts else None
            messages.append(_message(item.get("role"), content, calls, {"name": item.get("name")}))
    return messages, reasons


def _genai_parts(parts: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[Any, Any]]]:
    texts, calls, responses = [], [], []
    for part in parts:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "tool_call":
            calls.append(_tool_call(part.get("id"), part.get("name"), part.get("arguments")))
        elif kind == "tool_call_response":
            response = part.get("response")
            responses.append((part.get("id"), response if isinstance(response, str) else _dumps(response)))
        else:
            texts.append({"type": "text", "text": part.get("content")} if kind == "text" else part)
    return texts, calls, responses


def _documents(tree: Any) -> list[dict[str, Any]]:
    docs = []
    for item in _items(tree):
        d = _node(item, "document") or {}
        doc = {k: d[k] for k in ("id", "content", "score") if k in d}
        if "metadata" in d:
            doc["metadata"] = _loads(d["metadata"]) if isinstance(d["metadata"], str) else d["metadata"]
        docs.append(doc)
    return docs


def _value(attributes: Mapping[str, Any], key: str) -> str | None:
    """input.value / output.value as JSON text: JSON kept as is, plain text quoted."""
    value = attributes.get(key)
    if value is None:
        return None
    text = value if isinstance(value, str) else _dumps(value)
    is_json = attributes.get(key.replace(".value", ".mime_type")) == "application/json"
    if is_json and _loads(text) is not None:
        return text
    return _dumps(text)


def _json_text(value: Any) -> str:
    if isinstance(value, str) and _loads(value) is not None:
        return value
    return _dumps(value)


def _has_chat_messages(attributes: Mapping[str, Any]) -> bool:
    return any(k.startswith(("llm.input_messages.", "llm.output_messages.")) for k in attributes)


def detect_span_type(attributes: Mapping[str, Any]) -> str:
    """Heron's span type (CHAT_MODEL, LLM, EMBEDDING, TOOL, …) for a span's attributes; UNKNOWN if none fits."""
    explicit = attributes.get(SPAN_TYPE)
    if isinstance(explicit, str) and explicit:
        return explicit
    kind = attributes.get("openinference.span.kind")
    if isinstance(kind, str) and kind:
        kind = kind.upper()
        if kind == "LLM" and _has_chat_messages(attributes):
            return "CHAT_MODEL"
        return _OPENINFERENCE_KINDS.get(kind, kind)
    for key, table in (("traceloop.span.kind", _TRACELOOP_KINDS), ("llm.request.type", _REQUEST_TYPES),
                       ("gen_ai.operation.name", _OPERATIONS)):
        value = attributes.get(key)
        if isinstance(value, str) and value.lower() in table:
            return table[value.lower()]
    if any(k in attributes for k in ("gen_ai.request.model", "gen_ai.system", "gen_ai.provider.name", *_MODEL_NAMES)):
        return "LLM"
    return "UNKNOWN"


def normalize_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """A span's attributes in Heron's names; see the module docstring. Never raises on odd values."""
    found: dict[str, Any] = {}  # Heron name -> value, for names not already present
    consumed: set[str] = set()
    span_type = detect_span_type(attributes)
    found[SPAN_TYPE] = span_type

    for name, olds in _ALIASES.items():
        for old in olds:
            if old in attributes:
                consumed.add(old)
                found.setdefault(name, attributes[old])
    for name in _TOKEN_KEYS:
        if name in found:
            found[name] = _int(found[name])
    if isinstance(found.get("gen_ai.provider.name"), str):
        provider = found["gen_ai.provider.name"].lower()
        found["gen_ai.provider.name"] = _PROVIDERS.get(provider, provider)

    _request(attributes, found, consumed)
    operation = attributes.get("llm.request.type")
    if operation is not None:
        consumed.add("llm.request.type")
    operation = {"completion": "text_completion", "embedding": "embeddings"}.get(str(operation), operation)
    found.setdefault("gen_ai.operation.name", operation or _TYPE_TO_OPERATION.get(span_type))
    if SPAN_INPUTS not in attributes or SPAN_OUTPUTS not in attributes:
        _inputs_outputs(attributes, span_type, found, consumed)

    result = {k: v for k, v in attributes.items() if k not in consumed}
    for key, value in found.items():
        if value is not None and key not in result:
            result[key] = value
    return result


def _request(attributes: Mapping[str, Any], found: dict[str, Any], consumed: set[str]) -> None:
    """Model names and request parameters, from OpenInference's model name and invocation parameters."""
    params = _loads(attributes.get("llm.invocation_parameters") or attributes.get("embedding.invocation_parameters"))
    params = params if isinstance(params, dict) else {}
    for key, name in _PARAMETERS.items():
        if key in params and params[key] is not None:
            value = params[key]
            found.setdefault(name, [value] if key == "stop" and isinstance(value, str) else value)
    model = next((attributes[k] for k in _MODEL_NAMES if isinstance(attributes.get(k), str)), None)
    consumed.update(k for k in _MODEL_NAMES if k in attributes)
    requested = params.get("model") if isinstance(params.get("model"), str) else None
    found.setdefault("gen_ai.request.model", requested or model)
    if requested and model:
        found.setdefault("gen_ai.response.model", model)  # OpenInference names the model the API answered with
    reason = attributes.get("llm.finish_reason")
    if isinstance(reason, str):
        consumed.add("llm.finish_reason")
        found.setdefault("gen_ai.response.finish_reasons", [reason])


def _inputs_outputs(attributes: Mapping[str, Any], span_type: str, found: dict[str, Any], consumed: set[str]) -> None:
    trees = _trees(attributes)
    consumed.update(k for k in attributes if k.startswith(_FLAT_PREFIXES))
    inputs: Any = None
    outputs: Any = None
    reasons: list[str] = []

    if "llm.input_messages." in trees:
        inputs = _openinference_messages(trees["llm.input_messages."])
    elif "gen_ai.prompt." in trees:
        inputs, _ = _openllmetry_messages(trees["gen_ai.prompt."])
    elif "gen_ai.input.messages" in attributes:
        inputs, _ = _genai_messages(attributes["gen_ai.input.messages"], attributes.get("gen_ai.system_instructions"))
        consumed.update({"gen_ai.input.messages", "gen_ai.system_instructions"})
    if "llm.output_messages." in trees:
        outputs = _openinference_messages(trees["llm.output_messages."])
    elif "gen_ai.completion." in trees:
        outputs, reasons = _openllmetry_messages(trees["gen_ai.completion."])
    elif "gen_ai.output.messages" in attributes:
        outputs, reasons = _genai_messages(attributes["gen_ai.output.messages"])
        consumed.add("gen_ai.output.messages")
    if reasons:
        found.setdefault("gen_ai.response.finish_reasons", reasons)

    if span_type == "EMBEDDING":
        texts = [_node(e, "embedding", "text") for e in _items(trees.get("embedding.embeddings."))]
        if texts:
            inputs = texts
        elif isinstance(inputs, list):
            inputs = [m.get("content") for m in inputs]
        vectors = [_node(e, "embedding", "vector") for e in _items(trees.get("embedding.embeddings."))]
        vectors = [v for v in vectors if isinstance(v, (list, tuple))]
        if vectors:
            outputs = {"count": len(vectors), "dimensions": len(vectors[0])}
    if "retrieval.documents." in trees:
        outputs = _documents(trees["retrieval.documents."])
    if "reranker.output_documents." in trees:
        outputs = _documents(trees["reranker.output_documents."])
        inputs = {"query": attributes.get("reranker.query"),
                  "documents": _documents(trees.get("reranker.input_documents."))}
    if inputs is None and "llm.prompts." in trees:  # OpenInference legacy completions
        inputs = [_node(p, "prompt", "text") for p in _items(trees["llm.prompts."])]
    if outputs is None and "llm.choices." in trees:
        outputs = [_node(c, "completion", "text") for c in _items(trees["llm.choices."])]
    if isinstance(attributes.get("llm.prompts"), (list, tuple)) and inputs is None:
        inputs = list(attributes["llm.prompts"])

    tools = [_loads(_node(t, "tool", "json_schema")) for t in _items(trees.get("llm.tools."))]
    tools += [{"type": "function", "function": {k: _loads(v) if k == "parameters" else v for k, v in f.items()}}
              for f in _items(trees.get("llm.request.functions.")) if isinstance(f, dict)]
    if tools:
        found.setdefault("gen_ai.tool.definitions", _dumps(tools))

    found[SPAN_INPUTS] = _choose(attributes, inputs, ("input.value", "traceloop.entity.input"), consumed)
    found[SPAN_OUTPUTS] = _choose(attributes, outputs, ("output.value", "traceloop.entity.output"), consumed)


def _choose(attributes: Mapping[str, Any], structured: Any, raw_keys: tuple[str, ...], consumed: set[str]) -> str | None:
    """Structured inputs/outputs as JSON when found, else the first raw value; the raw keys are dropped."""
    raw: str | None = None
    for key in raw_keys:
        if key in attributes:
            consumed.update({key, key.replace(".value", ".mime_type")})
            if raw is None:
                raw = _value(attributes, key) if key.endswith(".value") else _json_text(attributes[key])
    return _dumps(structured) if structured is not None else raw
