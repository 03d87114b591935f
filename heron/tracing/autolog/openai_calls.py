"""What an OpenAI SDK call records: request attributes and inputs, response attributes and outputs.

Plain functions over the SDK's keyword arguments and result objects, read field by field (``field``) so
that they work across SDK versions. Attribute names follow the OpenTelemetry GenAI conventions; inputs and outputs
of chat-like calls are lists of messages in OpenAI's chat shape (``{"role", "content", "tool_calls"}``).
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping
from typing import Any

__all__ = [
    "CHAT", "RESPONSES", "EMBEDDINGS", "given", "span_name", "request_attributes", "request_inputs",
    "response_attributes", "response_outputs", "error_attributes", "chat_message", "usage_attributes", "field",
    "fields", "string_tuple",
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
_INT64 = 2**63


def _scalar(value: Any) -> str | int | float | bool | None:
    """``value`` as an attribute value of its exact type (a numpy float as a float, an IntEnum as an
    int), or None when it is not a str, bool, 64-bit int or float. What autolog's attribute dicts hold,
    so that a light span takes them unchecked (``LightTracer.start``)."""
    kind = type(value)
    if kind is str or kind is float or kind is bool:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return value if -_INT64 <= value < _INT64 else None  # type: ignore[no-any-return]
    if not given(value):
        return None
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, numbers.Integral):  # int subclasses (IntEnum), numpy integers
        return _scalar(int(value))
    if isinstance(value, numbers.Real):  # numpy floats
        return float(value)
    if isinstance(value, str):
        return str(value)
    return None


def string_tuple(values: Any) -> tuple[str, ...] | None:
    """A list or tuple of strings as a tuple of exact strings (how OpenTelemetry stores a list), else None."""
    if type(values) is list and len(values) == 1 and type(values[0]) is str:
        return (values[0],)  # one choice, one stop sequence: the usual case
    if isinstance(values, (list, tuple)) and values and all(isinstance(v, str) for v in values):
        return tuple(v if type(v) is str else str(v) for v in values)
    return None


def given(value: Any) -> bool:
    """False for None and the SDK's "not given" sentinels (NotGiven, Omit)."""
    return value is not None and type(value).__name__ not in ("NotGiven", "Omit")


def field(obj: Any, name: str) -> Any:
    """Field ``name`` of an SDK object, or None. Pydantic fields are read from ``__dict__``: a missing
    attribute costs ~10 µs through pydantic's ``__getattr__``, a dict lookup a fraction of one. A plain
    dict (a stream's usage, parsed by Heron) is read first: looking up its missing ``__dict__`` raises
    and catches an AttributeError inside ``getattr``."""
    if type(obj) is dict:
        return obj.get(name)
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
    if type(obj) is dict:
        return obj
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
    """gen_ai.* attributes known before the call: operation, provider, model, parameters, server. Every
    value is what OpenTelemetry stores as it is (``_scalar``, tuples for lists)."""
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": _operation(api),
        "gen_ai.provider.name": _provider(client),
    }
    if api != EMBEDDINGS:
        attrs["openai.api.type"] = api
    model = kwargs.get("model")
    if isinstance(model, str):
        attrs["gen_ai.request.model"] = model if type(model) is str else str(model)
    for key in _PARAMETERS.keys() & kwargs.keys():  # usually few: no loop over absent parameters
        value = _scalar(kwargs[key])  # None for None and the SDK's NotGiven/Omit sentinels
        if value is not None:
            attrs[_PARAMETERS[key]] = value
    stop = kwargs.get("stop")  # each absent keyword: one lookup, no call
    if stop is not None:
        stops = (str(stop),) if isinstance(stop, str) else string_tuple(stop)
        if stops is not None:
            attrs["gen_ai.request.stop_sequences"] = stops
    n = kwargs.get("n")
    if n is not None:
        n = _scalar(n)
        if type(n) is int and n != 1:
            attrs["gen_ai.request.choice.count"] = n
    output_type = _output_type(api, kwargs)
    if output_type:
        attrs["gen_ai.output.type"] = output_type
    if api == EMBEDDINGS:
        dimensions = _scalar(kwargs.get("dimensions"))
        if type(dimensions) is int:
            attrs["gen_ai.embeddings.dimension.count"] = dimensions
        if isinstance(kwargs.get("encoding_format"), str):
            attrs["gen_ai.request.encoding_formats"] = (str(kwargs["encoding_format"]),)
    tools = kwargs.get("tools")
    if tools is not None and given(tools) and isinstance(tools, (list, tuple)) and tools:
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
        if fmt is None:
            return None
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
    found = fields(message)
    out: dict[str, Any] = {"role": found.get("role") or "assistant", "content": found.get("content")}
    calls = found.get("tool_calls")
    if calls:
        out["tool_calls"] = [
            _call(field(c, "id"), field(field(c, "function"), "name"), field(field(c, "function"), "arguments"))
            for c in calls
        ]
    refusal = found.get("refusal")
    if refusal:
        out["refusal"] = refusal
    parsed = found.get("parsed")
    if parsed is not None:
        out["parsed"] = plain(parsed)
    return out


def _either(first: Any, second: Any) -> Any:
    return first if first is not None else second


def _count(value: Any) -> int | None:
    """A token count as an exact 64-bit int, or None."""
    if type(value) is int:
        return value if -_INT64 <= value < _INT64 else None
    if isinstance(value, int) and not isinstance(value, bool):
        return _count(int(value))
    return None


def usage_attributes(usage: Any) -> dict[str, Any]:
    """Token counts from a chat, responses or embeddings ``usage`` object."""
    attrs: dict[str, Any] = {}
    if usage is None:
        return attrs
    found = fields(usage)
    tokens = _count(_either(found.get("prompt_tokens"), found.get("input_tokens")))
    if tokens is not None:
        attrs["gen_ai.usage.input_tokens"] = tokens
    tokens = _count(_either(found.get("completion_tokens"), found.get("output_tokens")))
    if tokens is not None:
        attrs["gen_ai.usage.output_tokens"] = tokens
    details = found.get("prompt_tokens_details") or found.get("input_tokens_details")
    if details is not None:
        tokens = _count(field(details, "cached_tokens"))
        if tokens is not None:
            attrs["gen_ai.usage.cache_read.input_tokens"] = tokens
    details = found.get("completion_tokens_details") or found.get("output_tokens_details")
    if details is not None:
        tokens = _count(field(details, "reasoning_tokens"))
        if tokens is not None:
            attrs["gen_ai.usage.reasoning.output_tokens"] = tokens
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
    """gen_ai.response.* and gen_ai.usage.* attributes of a finished call's result object, each value
    what OpenTelemetry stores as it is (as ``request_attributes``)."""
    attrs: dict[str, Any] = {}
    found = fields(result)
    response_id, model = found.get("id"), found.get("model")
    if isinstance(response_id, str):  # each kept as an exact str (a subclass would pass unchecked)
        attrs["gen_ai.response.id"] = response_id if type(response_id) is str else str(response_id)
    if isinstance(model, str):
        attrs["gen_ai.response.model"] = model if type(model) is str else str(model)
    if api == CHAT:
        choices = found.get("choices")
        if choices:
            reasons = string_tuple([field(c, "finish_reason") for c in choices])
            if reasons is not None:
                attrs["gen_ai.response.finish_reasons"] = reasons
        fingerprint = found.get("system_fingerprint")
        if isinstance(fingerprint, str):
            attrs["openai.response.system_fingerprint"] = fingerprint if type(fingerprint) is str else str(fingerprint)
    elif api == RESPONSES:
        attrs["gen_ai.response.finish_reasons"] = (_finish_reason(result),)
    tier = found.get("service_tier")
    if isinstance(tier, str):
        attrs["openai.response.service_tier"] = tier if type(tier) is str else str(tier)
    usage = found.get("usage")
    if usage is not None:
        attrs.update(usage_attributes(usage))
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
        return [chat_message(field(c, "message")) for c in field(result, "choices") or ()]
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
