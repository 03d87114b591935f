"""What an OpenAI SDK call records: request attributes and inputs, response attributes and outputs.

Plain functions over the SDK's keyword arguments and result objects, read field by field (``field``) so
that they work across SDK versions. Attribute names follow the OpenTelemetry GenAI conventions; inputs and outputs
of chat-like calls are lists of messages in OpenAI's chat shape (``{"role", "content", "tool_calls"}``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "CHAT", "RESPONSES", "EMBEDDINGS", "given", "span_name", "request_attributes", "request_inputs",
    "response_attributes", "response_outputs", "error_attributes", "chat_message", "usage_attributes", "field",
    "fields",
]

# the three SDK APIs autolog records
CHAT, RESPONSES, EMBEDDINGS = "chat_completions", "responses", "embeddings"

# request keyword -> attribute, shared by chat completions and responses
_PARAMETERS: dict[str, str] = {
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "max_tokens": "gen_ai.request.max_tokens",
    "max_completion_tokens": "gen_ai.request.max_tokens",
    "max_output_tokens": "gen_ai.request.max_tokens",
    "seed": "gen_ai.request.seed",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
    "service_tier": "openai.request.service_tier",
}
_SCALARS = (str, int, float, bool)


def given(value: Any) -> bool:
    """False for None and the SDK's "not given" sentinels (NotGiven, Omit)."""
    return value is not None and type(value).__name__ not in ("NotGiven", "Omit")


def field(obj: Any, name: str) -> Any:
    """Field ``name`` of an SDK object, or None. Pydantic fields are read from ``__dict__``: a missing
    attribute costs ~10 µs through pydantic's ``__getattr__``, a dict lookup a fraction of one."""
    found = getattr(obj, "__dict__", None)
    if found is not None:
        return found.get(name)
    if isinstance(obj, Mapping):  # plain dicts, e.g. LangChain's llm_output["token_usage"]
        return obj.get(name)
    return getattr(obj, name, None)


class _Attributes:
    """``.get`` over an object's attributes, for objects with neither ``__dict__`` nor mapping access."""

    __slots__ = ("_obj",)

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def get(self, name: str) -> Any:
        return getattr(self._obj, name, None)


def fields(obj: Any) -> Mapping[str, Any] | _Attributes:
    """Something to ``.get`` several fields of ``obj`` from, each as ``field(obj, name)`` would read it."""
    found = getattr(obj, "__dict__", None)
    if found is not None:
        return found  # type: ignore[no-any-return]
    if isinstance(obj, Mapping):
        return obj
    return _Attributes(obj)


def plain(obj: Any) -> Any:
    """SDK objects (pydantic models) as JSON-ready dicts; anything else unchanged."""
    if isinstance(obj, (dict, str)) or getattr(type(obj), "model_dump", None) is None:
        return obj
    return obj.model_dump(mode="json", exclude_none=True)


def _operation(api: str) -> str:
    return "embeddings" if api == EMBEDDINGS else "chat"


def span_name(api: str, kwargs: Mapping[str, Any]) -> str:
    """``"{operation} {model}"``, as the GenAI conventions name client spans."""
    model = kwargs.get("model")
    return f"{_operation(api)} {model}" if isinstance(model, str) else _operation(api)


def _provider(client: Any) -> str:
    return "azure.ai.openai" if type(client).__name__.startswith(("AzureOpenAI", "AsyncAzureOpenAI")) else "openai"


def request_attributes(api: str, client: Any, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """gen_ai.* attributes known before the call: operation, provider, model, parameters, server."""
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": _operation(api),
        "gen_ai.provider.name": _provider(client),
    }
    if api != EMBEDDINGS:
        attrs["openai.api.type"] = api
    model = kwargs.get("model")
    if isinstance(model, str):
        attrs["gen_ai.request.model"] = model
    for key in _PARAMETERS.keys() & kwargs.keys():  # usually few: no loop over absent parameters
        value = kwargs[key]
        if isinstance(value, _SCALARS):  # not None, not the SDK's NotGiven/Omit sentinels
            attrs[_PARAMETERS[key]] = value
    stop = kwargs.get("stop")
    if isinstance(stop, str):
        attrs["gen_ai.request.stop_sequences"] = [stop]
    elif isinstance(stop, (list, tuple)) and all(isinstance(s, str) for s in stop):
        attrs["gen_ai.request.stop_sequences"] = list(stop)
    n = kwargs.get("n")
    if isinstance(n, int) and n != 1:
        attrs["gen_ai.request.choice.count"] = n
    output_type = _output_type(api, kwargs)
    if output_type:
        attrs["gen_ai.output.type"] = output_type
    if api == EMBEDDINGS:
        if isinstance(kwargs.get("dimensions"), int):
            attrs["gen_ai.embeddings.dimension.count"] = kwargs["dimensions"]
        if isinstance(kwargs.get("encoding_format"), str):
            attrs["gen_ai.request.encoding_formats"] = [kwargs["encoding_format"]]
    tools = kwargs.get("tools")
    if given(tools) and isinstance(tools, (list, tuple)) and tools:
        attrs["gen_ai.tool.definitions"] = json.dumps([plain(t) for t in tools], default=str)
    attrs.update(_server(client))
    return attrs


_servers: dict[int, tuple[Any, dict[str, Any]]] = {}


def _server(client: Any) -> dict[str, Any]:
    """server.address and server.port of the client's base URL, parsed once per URL object."""
    url = getattr(client, "_base_url", None) or getattr(client, "base_url", None)
    cached = _servers.get(id(url))
    if cached is not None and cached[0] is url:
        return cached[1]
    found: dict[str, Any] = {}
    host, port = getattr(url, "host", None), getattr(url, "port", None)
    if isinstance(host, str) and host:
        found["server.address"] = host
        if isinstance(port, int):
            found["server.port"] = port
    if len(_servers) > 64:
        _servers.clear()
    _servers[id(url)] = (url, found)
    return found


def _output_type(api: str, kwargs: Mapping[str, Any]) -> str | None:
    if api == CHAT:
        fmt = kwargs.get("response_format")
        if isinstance(fmt, type):  # parse(response_format=PydanticModel)
            return "json"
        kind = fmt.get("type") if isinstance(fmt, Mapping) else None
    elif api == RESPONSES:
        if isinstance(kwargs.get("text_format"), type):
            return "json"
        text = kwargs.get("text")
        fmt = text.get("format") if isinstance(text, Mapping) else None
        kind = fmt.get("type") if isinstance(fmt, Mapping) else None
    else:
        return None
    return {"json_schema": "json", "json_object": "json", "text": "text"}.get(str(kind))


def _text(content: Any) -> Any:
    """Message content: a string as is; a list of only text parts joined; other parts kept as a list."""
    if isinstance(content, list):
        parts = [plain(p) for p in content]
        if parts and all(isinstance(p, dict) and p.get("type") in ("text", "input_text", "output_text") for p in parts):
            return "".join(str(p.get("text", "")) for p in parts)
        return parts
    return content


def _call(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _responses_messages(kwargs: Mapping[str, Any]) -> list[Any]:
    messages: list[Any] = []
    instructions = kwargs.get("instructions")
    if isinstance(instructions, str):
        messages.append({"role": "system", "content": instructions})
    items = kwargs.get("input")
    if isinstance(items, str):
        messages.append({"role": "user", "content": items})
        return messages
    for raw in items if isinstance(items, (list, tuple)) else []:
        item = plain(raw)
        kind = item.get("type") if isinstance(item, dict) else None
        if isinstance(item, dict) and "role" in item and kind in (None, "message"):
            messages.append({"role": item["role"], "content": _text(item.get("content"))})
        elif kind == "function_call_output":
            messages.append({"role": "tool", "tool_call_id": item.get("call_id"), "content": item.get("output")})
        elif kind == "function_call":
            call = _call(item.get("call_id"), item.get("name"), item.get("arguments"))
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        else:
            messages.append(item)
    return messages


def request_inputs(api: str, kwargs: Mapping[str, Any]) -> Any:
    """The span's inputs: the messages (chat, responses) or the texts to embed (embeddings)."""
    if api == CHAT:
        messages = kwargs.get("messages")
        return [plain(m) for m in messages] if isinstance(messages, (list, tuple)) else messages
    if api == RESPONSES:
        return _responses_messages(kwargs)
    texts = kwargs.get("input")
    return [texts] if isinstance(texts, str) else texts


def chat_message(message: Any) -> dict[str, Any]:
    """A chat completion's message as ``{"role", "content", "tool_calls"?, "refusal"?, "parsed"?}``."""
    out: dict[str, Any] = {"role": field(message, "role") or "assistant", "content": field(message, "content")}
    calls = field(message, "tool_calls")
    if calls:
        out["tool_calls"] = [
            _call(field(c, "id"), field(field(c, "function"), "name"), field(field(c, "function"), "arguments"))
            for c in calls
        ]
    refusal = field(message, "refusal")
    if refusal:
        out["refusal"] = refusal
    parsed = field(message, "parsed")
    if parsed is not None:
        out["parsed"] = plain(parsed)
    return out


def _either(first: Any, second: Any) -> Any:
    return first if first is not None else second


def _set(attrs: dict[str, Any], name: str, value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool):
        attrs[name] = value


def usage_attributes(usage: Any) -> dict[str, Any]:
    """Token counts from a chat, responses or embeddings ``usage`` object."""
    attrs: dict[str, Any] = {}
    if usage is None:
        return attrs
    found = fields(usage)
    _set(attrs, "gen_ai.usage.input_tokens", _either(found.get("prompt_tokens"), found.get("input_tokens")))
    _set(attrs, "gen_ai.usage.output_tokens", _either(found.get("completion_tokens"), found.get("output_tokens")))
    details = found.get("prompt_tokens_details") or found.get("input_tokens_details")
    if details is not None:
        _set(attrs, "gen_ai.usage.cache_read.input_tokens", fields(details).get("cached_tokens"))
    details = found.get("completion_tokens_details") or found.get("output_tokens_details")
    if details is not None:
        _set(attrs, "gen_ai.usage.reasoning.output_tokens", fields(details).get("reasoning_tokens"))
    return attrs


def _finish_reason(response: Any) -> str:
    status = field(response, "status")
    if status == "completed":
        calls = [i for i in field(response, "output") or [] if field(i, "type") == "function_call"]
        return "tool_calls" if calls else "stop"
    if status == "incomplete":
        reason = field(field(response, "incomplete_details"), "reason")
        return {"max_output_tokens": "length"}.get(str(reason), str(reason or "incomplete"))
    return "error" if status == "failed" else str(status)


def response_attributes(api: str, result: Any) -> dict[str, Any]:
    """gen_ai.response.* and gen_ai.usage.* attributes of a finished call's result object."""
    attrs: dict[str, Any] = {}
    found = fields(result)
    response_id, model = found.get("id"), found.get("model")
    if isinstance(response_id, str):
        attrs["gen_ai.response.id"] = response_id
    if isinstance(model, str):
        attrs["gen_ai.response.model"] = model
    if api == CHAT:
        reasons = [field(c, "finish_reason") for c in found.get("choices") or []]
        if reasons and all(isinstance(r, str) for r in reasons):
            attrs["gen_ai.response.finish_reasons"] = reasons
        fingerprint = found.get("system_fingerprint")
        if isinstance(fingerprint, str):
            attrs["openai.response.system_fingerprint"] = fingerprint
    elif api == RESPONSES:
        attrs["gen_ai.response.finish_reasons"] = [_finish_reason(result)]
    tier = found.get("service_tier")
    if isinstance(tier, str):
        attrs["openai.response.service_tier"] = tier
    attrs.update(usage_attributes(found.get("usage")))
    return attrs


def _embedding_dimensions(vector: Any) -> int | None:
    if isinstance(vector, list):
        return len(vector)
    if isinstance(vector, str):  # encoding_format="base64": 4 bytes per float32
        return (len(vector) * 3 // 4 - vector[-2:].count("=")) // 4
    return None


def responses_message(response: Any) -> dict[str, Any]:
    """A Responses API result as one assistant message: its text, function calls and parsed output."""
    items = field(response, "output") or []
    texts = [
        getattr(part, "text", "")
        for item in items if field(item, "type") == "message"
        for part in field(item, "content") or [] if field(part, "type") == "output_text"
    ]
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
    calls = [_call(field(i, "call_id"), field(i, "name"), field(i, "arguments"))
             for i in items if field(i, "type") == "function_call"]
    if calls:
        message["tool_calls"] = calls
    # a property of ParsedResponse, not a field
    parsed = getattr(response, "output_parsed", None) if hasattr(type(response), "output_parsed") else None
    if parsed is not None:
        message["parsed"] = plain(parsed)
    return message


def response_outputs(api: str, result: Any) -> Any:
    """The span's outputs: assistant messages, or the count and size of the embeddings (never the vectors)."""
    if api == CHAT:
        return [chat_message(field(c, "message")) for c in field(result, "choices") or []]
    if api == RESPONSES:
        return [responses_message(result)]
    data = field(result, "data") or []
    return {"count": len(data), "dimensions": _embedding_dimensions(field(data[0], "embedding")) if data else None}


def error_attributes(exc: BaseException) -> dict[str, Any]:
    """``error.type`` and, for API errors, ``http.response.status_code``."""
    cls = type(exc)
    module = "openai" if cls.__module__.startswith("openai") else cls.__module__
    attrs: dict[str, Any] = {"error.type": f"{module}.{cls.__qualname__}"}
    status = field(exc, "status_code")
    if isinstance(status, int):
        attrs["http.response.status_code"] = status
    code = field(exc, "code")
    if isinstance(code, str):
        attrs["openai.error.code"] = code
    return attrs
