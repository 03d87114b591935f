"""A fake OpenAI-compatible HTTP server, so tests drive the real `openai` SDK with no network.

    with FakeOpenAI() as fake:
        client = openai.OpenAI(base_url=fake.base_url, api_key="test")
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        fake.requests          # [("/v1/chat/completions", {...request body...})]
        fake.fail_next(429)    # the next request gets an OpenAI-shaped 429

Replies are deterministic: the text is "echo: " + the last user message, token counts are word counts.
Chat completions and the Responses API answer with a tool call when the request has tools and the
last message is a user message mentioning "weather"; a JSON-schema response format gets a JSON object
filled from the schema. Both stream as Server-Sent Events shaped like OpenAI's.

The server is Starlette on uvicorn in a daemon thread on 127.0.0.1; all methods are thread-safe.
"""

from __future__ import annotations

import array
import asyncio
import base64
import hashlib
import itertools
import json
import math
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

__all__ = ["DATED_MODELS", "FakeOpenAI", "example_from_schema"]

Json = dict[str, Any]

# What OpenAI reports back for an undated alias; other models are echoed unchanged.
DATED_MODELS: dict[str, str] = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "gpt-4-turbo": "gpt-4-turbo-2024-04-09",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
    "o1": "o1-2024-12-17",
    "o3-mini": "o3-mini-2025-01-31",
    "o4-mini": "o4-mini-2025-04-16",
}

_ERRORS: dict[int, tuple[str, str | None, str]] = {
    # status: (type, code, message), as OpenAI sends them
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Country not supported."),
    404: ("invalid_request_error", None, "Not found."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again in 1ms."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}

_WEATHER = re.compile(r"\bweather\b", re.IGNORECASE)
_PIECES = re.compile(r"\S+\s*|\s+")


class _BadRequest(Exception):
    pass


@dataclass
class _Failure:
    status: int
    remaining: int
    message: str | None


def _error_body(status: int, message: str | None = None) -> Json:
    kind, code, default = _ERRORS.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None, "Error.")
    )
    return {"error": {"message": message or default, "type": kind, "param": None, "code": code}}


def _words(text: str) -> int:
    return len(text.split())


def _pieces(text: str) -> list[str]:
    """`text` split into word-sized stream deltas that concatenate back to `text`."""
    return _PIECES.findall(text) or [text]


def _dated(model: str) -> str:
    return DATED_MODELS.get(model, model)


def _part_text(content: Any) -> str:
    """The text of a message's content: a string, or a list of text parts (images etc. are ignored)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return " ".join(texts)
    return ""


def example_from_schema(schema: Json, defs: Json | None = None, depth: int = 0) -> Any:
    """A value matching JSON schema `schema`: strings "x", integers 1, numbers 1.0, booleans true, arrays []."""
    defs = defs if defs is not None else {**schema.get("definitions", {}), **schema.get("$defs", {})}
    if depth > 16:
        return None
    if "$ref" in schema:
        target = defs.get(str(schema["$ref"]).rsplit("/", 1)[-1], {})
        return example_from_schema(target, defs, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key, []) if o.get("type") != "null"]
        if options:
            return example_from_schema(options[0], defs, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        return {
            name: example_from_schema(sub, defs, depth + 1)
            for name, sub in schema.get("properties", {}).items()
        }
    simple: dict[str, Any] = {
        "array": [],
        "string": "x",
        "integer": 1,
        "number": 1.0,
        "boolean": True,
        "null": None,
    }
    return simple.get(str(kind), "x")


def _tool_arguments(parameters: Any) -> str:
    """Arguments for a call to a tool with JSON schema `parameters`: `{"city": "Paris"}` for a weather tool."""
    if isinstance(parameters, dict) and parameters.get("properties"):
        args = example_from_schema(parameters)
        for key in ("city", "location"):
            if isinstance(args.get(key), str):
                args[key] = "Paris"
        return json.dumps(args)
    return json.dumps({"city": "Paris"})


def _first_tool(tools: Any) -> tuple[str, Any] | None:
    """(name, parameters schema) of the first function tool, for chat (nested) or Responses (flat) shapes."""
    for tool in tools or []:
        if not isinstance(tool, dict):
            continue
        nested = tool.get("function")
        spec: Json = nested if isinstance(nested, dict) else tool
        if isinstance(spec.get("name"), str):
            return spec["name"], spec.get("parameters")
    return None


def _schema_reply(schema: Any, fallback: str) -> str:
    return json.dumps(example_from_schema(schema)) if isinstance(schema, dict) else fallback


def _sse(data: Json | str, event: str | None = None) -> str:
    payload = data if isinstance(data, str) else json.dumps(data)
    return (f"event: {event}\n" if event else "") + f"data: {payload}\n\n"


def _embedding(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector for `text`, rounded to float32 so base64 and float formats agree."""
    raw: list[float] = []
    for block in itertools.count():
        digest = hashlib.sha256(f"{block}:{text}".encode()).digest()
        raw.extend(b / 127.5 - 1.0 for b in digest)
        if len(raw) >= dimensions:
            break
    vector = raw[:dimensions]
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return array.array("f", [v / norm for v in vector]).tolist()


class FakeOpenAI:
    """The fake server. Use as a context manager, or call `start()`/`stop()`.

    `delay_s` delays every reply; `cached_tokens` and `reasoning_tokens` are reported in usage details
    (reasoning tokens are counted into completion/output tokens, as OpenAI does).
    """

    def __init__(self, *, delay_s: float = 0.0, cached_tokens: int = 0, reasoning_tokens: int = 0) -> None:
        self.delay_s = delay_s
        self.cached_tokens = cached_tokens
        self.reasoning_tokens = reasoning_tokens
        self.requests: list[tuple[str, Json]] = []
        self.port = 0
        self._defaults = (delay_s, cached_tokens, reasoning_tokens)
        self._failures: list[_Failure] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The URL to pass as the SDK's `base_url`; ends with "/v1"."""
        if not self.port:
            raise RuntimeError("FakeOpenAI is not started; use `with FakeOpenAI() as fake:` or call start().")
        return f"http://127.0.0.1:{self.port}/v1"

    def fail_next(self, status: int = 429, times: int = 1, message: str | None = None) -> None:
        """Make the next `times` requests fail with HTTP `status` and an OpenAI-shaped error body."""
        if status < 400 or times < 1:
            raise ValueError(
                f"fail_next needs an error status >= 400 and times >= 1, got status={status}, times={times}."
            )
        with self._lock:
            self._failures.append(_Failure(status, times, message))

    def reset(self) -> None:
        """Forget received requests and pending failures; restore the constructor's knobs."""
        with self._lock:
            self.requests.clear()
            self._failures.clear()
            self.delay_s, self.cached_tokens, self.reasoning_tokens = self._defaults

    def start(self) -> FakeOpenAI:
        """Start serving on a free port of 127.0.0.1; blocks until the server accepts requests."""
        if self._server is not None:
            raise RuntimeError("FakeOpenAI is already started.")
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets it can see are TCP, and
        # without it every reply waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self._app(),
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="fake-openai", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                sock.close()
                raise RuntimeError("FakeOpenAI's uvicorn server did not start within 10 s.")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop the server and wait for its thread. Safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout=5)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- HTTP -----------------------------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST", "DELETE"])])

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):024x}"

    def _take_failure(self) -> _Failure | None:
        with self._lock:
            if not self._failures:
                return None
            failure = self._failures[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.pop(0)
            return failure

    async def _handle(self, request: Request) -> Response:
        path = request.url.path
        body: Json = {}
        if request.method == "POST":
            try:
                parsed = await request.json()
            except ValueError:
                parsed = None
            body = parsed if isinstance(parsed, dict) else {}
        with self._lock:
            self.requests.append((path, body))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        failure = self._take_failure()
        if failure is not None:
            # a tiny Retry-After keeps SDK retries fast in tests that leave retries on
            return JSONResponse(
                _error_body(failure.status, failure.message),
                status_code=failure.status,
                headers={"retry-after-ms": "1", "x-request-id": self._next_id("req_")},
            )
        handler = {
            "/v1/chat/completions": self._chat,
            "/v1/responses": self._responses,
            "/v1/embeddings": self._embeddings,
            "/v1/completions": self._completions,
        }.get(path)
        if handler is None or request.method != "POST":
            return JSONResponse(
                _error_body(404, f"Unknown request URL: {request.method} {path}."), status_code=404
            )
        if not isinstance(body.get("model"), str):
            return JSONResponse(_error_body(400, "you must provide a model parameter"), status_code=400)
        try:
            result = handler(body)
        except _BadRequest as err:
            return JSONResponse(_error_body(400, str(err)), status_code=400)
        if isinstance(result, dict):
            return JSONResponse(result, headers={"x-request-id": self._next_id("req_")})
        return StreamingResponse(result, media_type="text/event-stream")

    # -- Chat completions -----------------------------------------------------------------------

    def _chat(self, body: Json) -> Json | Iterator[str]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _BadRequest("'messages' must be a non-empty array of messages.")
        user_texts = [
            _part_text(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") == "user"
        ]
        last_user = user_texts[-1] if user_texts else ""
        prompt_tokens = sum(_words(_part_text(m.get("content"))) for m in messages if isinstance(m, dict))
        tool = _first_tool(body.get("tools"))
        calls_tool = (
            tool is not None and messages[-1].get("role") == "user" and bool(_WEATHER.search(last_user))
        )

        content, finish = "echo: " + last_user, "stop"
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_schema":
            content = _schema_reply((response_format.get("json_schema") or {}).get("schema"), "{}")
        elif response_format.get("type") == "json_object":
            content = json.dumps({"echo": last_user})
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if isinstance(limit, int) and _words(content) > limit:
            content, finish = "".join(_pieces(content)[:limit]).rstrip(), "length"

        tool_call: Json | None = None
        if calls_tool and tool is not None:
            tool_call = {
                "id": self._next_id("call_"),
                "type": "function",
                "function": {"name": tool[0], "arguments": _tool_arguments(tool[1])},
            }
            completion_tokens = _words(tool_call["function"]["arguments"])
            finish = "tool_calls"
        else:
            completion_tokens = _words(content)
        usage = self._chat_usage(prompt_tokens, completion_tokens)
        head = {
            "id": self._next_id("chatcmpl-"),
            "created": int(time.time()),
            "model": _dated(body["model"]),
            "service_tier": "default",
            "system_fingerprint": "fp_fake0000",
        }
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return self._chat_stream(
                head, None if tool_call else content, tool_call, finish, usage if include_usage else None
            )
        message: Json = {
            "role": "assistant",
            "content": None if tool_call else content,
            "refusal": None,
            "annotations": [],
        }
        if tool_call:
            message["tool_calls"] = [tool_call]
        n = body.get("n")
        n = n if isinstance(n, int) else 1
        choices = [
            {"index": i, "message": message, "logprobs": None, "finish_reason": finish}
            for i in range(max(n, 1))
        ]
        return {**head, "object": "chat.completion", "choices": choices, "usage": usage}

    def _chat_usage(self, prompt_tokens: int, completion_tokens: int) -> Json:
        completion_tokens += self.reasoning_tokens
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {
                "cached_tokens": min(self.cached_tokens, prompt_tokens),
                "audio_tokens": 0,
            },
            "completion_tokens_details": {
                "reasoning_tokens": self.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def _chat_stream(
        self, head: Json, content: str | None, tool_call: Json | None, finish: str, usage: Json | None
    ) -> Iterator[str]:
        def chunk(delta: Json, finish_reason: str | None = None) -> str:
            data: Json = {
                **head,
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }
            if usage is not None:
                data["usage"] = None  # OpenAI sends null on every chunk but the last when usage is requested
            return _sse(data)

        if tool_call is not None:
            name, arguments = tool_call["function"]["name"], tool_call["function"]["arguments"]
            yield chunk(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": tool_call["id"],
                            "type": "function",
                            "function": {"name": name, "arguments": ""},
                        }
                    ],
                    "refusal": None,
                }
            )
            for piece in _pieces(arguments):
                yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        else:
            yield chunk({"role": "assistant", "content": "", "refusal": None})
            for piece in _pieces(content or ""):
                yield chunk({"content": piece})
        yield chunk({}, finish)
        if usage is not None:
            yield _sse({**head, "object": "chat.completion.chunk", "choices": [], "usage": usage})
        yield _sse("[DONE]")

    # -- Responses API --------------------------------------------------------------------------

    def _responses(self, body: Json) -> Json | Iterator[str]:
        items = body.get("input")
        if isinstance(items, str):
            items = [{"role": "user", "content": items}]
        if not isinstance(items, list):
            raise _BadRequest("'input' must be a string or an array of input items.")
        texts = [_part_text(i.get("content")) for i in items if isinstance(i, dict)]
        texts += [
            str(i.get("output", ""))
            for i in items
            if isinstance(i, dict) and i.get("type") == "function_call_output"
        ]
        user_texts = [
            _part_text(i.get("content")) for i in items if isinstance(i, dict) and i.get("role") == "user"
        ]
        last_user = user_texts[-1] if user_texts else ""
        instructions = body.get("instructions")
        input_tokens = sum(_words(t) for t in texts) + (
            _words(instructions) if isinstance(instructions, str) else 0
        )
        last_is_user = bool(items) and isinstance(items[-1], dict) and items[-1].get("role") == "user"
        tool = _first_tool(body.get("tools"))
        text_config = body.get("text") or {"format": {"type": "text"}}
        text_format = text_config.get("format") or {}

        item: Json
        if tool is not None and last_is_user and _WEATHER.search(last_user):
            arguments = _tool_arguments(tool[1])
            item = {
                "type": "function_call",
                "id": self._next_id("fc_"),
                "call_id": self._next_id("call_"),
                "name": tool[0],
                "arguments": arguments,
                "status": "completed",
            }
            output_tokens = _words(arguments)
        else:
            text = "echo: " + last_user
            if text_format.get("type") == "json_schema":
                text = _schema_reply(text_format.get("schema"), "{}")
            elif text_format.get("type") == "json_object":
                text = json.dumps({"echo": last_user})
            item = {
                "type": "message",
                "id": self._next_id("msg_"),
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
            }
            output_tokens = _words(text)
        output_tokens += self.reasoning_tokens
        now = time.time()
        response: Json = {
            "id": self._next_id("resp_"),
            "object": "response",
            "created_at": int(now),
            "status": "completed",
            "completed_at": int(now),
            "background": False,
            "error": None,
            "incomplete_details": None,
            "instructions": instructions,
            "max_output_tokens": body.get("max_output_tokens"),
            "max_tool_calls": None,
            "model": _dated(body["model"]),
            "output": [item],
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "previous_response_id": body.get("previous_response_id"),
            "reasoning": {"effort": None, "summary": None},
            "service_tier": "default",
            "store": body.get("store", True),
            "temperature": body.get("temperature", 1.0),
            "text": text_config,
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools") or [],
            "top_logprobs": 0,
            "top_p": body.get("top_p", 1.0),
            "truncation": "disabled",
            "usage": {
                "input_tokens": input_tokens,
                "input_tokens_details": {
                    "cached_tokens": min(self.cached_tokens, input_tokens),
                    "cache_write_tokens": 0,
                },
                "output_tokens": output_tokens,
                "output_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
                "total_tokens": input_tokens + output_tokens,
            },
            "user": None,
            "metadata": body.get("metadata") or {},
        }
        return self._responses_stream(response) if body.get("stream") else response

    def _responses_stream(self, response: Json) -> Iterator[str]:
        sequence = itertools.count()
        item = response["output"][0]
        at = {"item_id": item["id"], "output_index": 0}

        def event(kind: str, **fields: Any) -> str:
            return _sse({"type": kind, "sequence_number": next(sequence), **fields}, event=kind)

        pending = {**response, "status": "in_progress", "completed_at": None, "output": [], "usage": None}
        yield event("response.created", response=pending)
        yield event("response.in_progress", response=pending)
        if item["type"] == "function_call":
            yield event(
                "response.output_item.added",
                output_index=0,
                item={**item, "arguments": "", "status": "in_progress"},
            )
            for piece in _pieces(item["arguments"]):
                yield event("response.function_call_arguments.delta", **at, delta=piece)
            yield event(
                "response.function_call_arguments.done", **at, arguments=item["arguments"], name=item["name"]
            )
        else:
            part = item["content"][0]
            yield event(
                "response.output_item.added",
                output_index=0,
                item={**item, "status": "in_progress", "content": []},
            )
            yield event("response.content_part.added", **at, content_index=0, part={**part, "text": ""})
            for piece in _pieces(part["text"]):
                yield event("response.output_text.delta", **at, content_index=0, delta=piece, logprobs=[])
            yield event("response.output_text.done", **at, content_index=0, text=part["text"], logprobs=[])
            yield event("response.content_part.done", **at, content_index=0, part=part)
        yield event("response.output_item.done", output_index=0, item=item)
        yield event("response.completed", response=response)

    # -- Embeddings and legacy completions ------------------------------------------------------

    def _embeddings(self, body: Json) -> Json:
        raw = body.get("input")
        inputs: list[Any] = (
            [raw]
            if isinstance(raw, str) or (isinstance(raw, list) and raw and isinstance(raw[0], int))
            else raw or []
        )
        if not isinstance(inputs, list) or not inputs:
            raise _BadRequest("'input' must be a non-empty string or array.")
        dimensions = body.get("dimensions")
        dimensions = dimensions if isinstance(dimensions, int) and dimensions > 0 else 8
        texts = [x if isinstance(x, str) else json.dumps(x) for x in inputs]
        data = []
        for index, text in enumerate(texts):
            vector = _embedding(text, dimensions)
            encoded: Any = vector
            if body.get("encoding_format") == "base64":
                encoded = base64.b64encode(array.array("f", vector).tobytes()).decode()
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(_words(t) if isinstance(x, str) else len(x) for t, x in zip(texts, inputs, strict=True))
        return {
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    def _completions(self, body: Json) -> Json:
        prompt = body.get("prompt", "")
        prompts = [prompt] if isinstance(prompt, str) else [str(p) for p in prompt]
        texts = ["echo: " + p for p in prompts]
        choices = [
            {"text": t, "index": i, "logprobs": None, "finish_reason": "stop"} for i, t in enumerate(texts)
        ]
        prompt_tokens = sum(_words(p) for p in prompts)
        completion_tokens = sum(_words(t) for t in texts)
        return {
            "id": self._next_id("cmpl-"),
            "object": "text_completion",
            "created": int(time.time()),
            "model": _dated(body["model"]),
            "choices": choices,
            "system_fingerprint": "fp_fake0000",
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
