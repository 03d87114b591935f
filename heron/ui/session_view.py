"""A session's traces as a conversation: each trace is a turn, its request preview what the user said and
its response preview what came back, shown as plain text (chat messages reduced to the last user message
and the assistant's reply)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from heron.tracing.overview import SessionSummary
from heron.tracing.records import TraceInfo
from heron.ui.trace_view import Cost, TraceRow, cost_of, duration_text, time_text, trace_row

__all__ = ["SessionRow", "Turn", "preview_text", "session_row", "turn"]


@dataclass(frozen=True)
class SessionRow:
    session_id: str
    traces: int
    errors: int
    first: str
    last: str
    span: str  # from the first start to the last end
    input_tokens: int
    output_tokens: int
    cost: Cost
    user_id: str


def session_row(found: SessionSummary) -> SessionRow:
    return SessionRow(found.session_id, found.traces, found.errors, time_text(found.first_ms, zone=False),
                      time_text(found.last_ms, zone=False), duration_text(found.last_ms - found.first_ms),
                      found.input_tokens, found.output_tokens, cost_of(found.cost, found.unpriced > 0),
                      found.user_id or "")


@dataclass(frozen=True)
class Turn:
    row: TraceRow
    request: str
    response: str


def turn(info: TraceInfo) -> Turn:
    return Turn(trace_row(info), preview_text(info.request_preview, "user"),
                preview_text(info.response_preview, "assistant"))


def preview_text(preview: str | None, role: str) -> str:
    """A stored preview as the text a reader expects: a JSON string unquoted, a one-field object's value,
    the last message of ``role`` in chat messages; anything else as stored."""
    if not preview:
        return ""
    try:
        value: Any = json.loads(preview)
    except ValueError:
        return preview  # a preview cut to its size limit is no longer JSON
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("messages"), list):
        value = value["messages"]
    if isinstance(value, list) and value and all(isinstance(m, dict) and "role" in m for m in value):
        said = [m.get("content") for m in value if m.get("role") == role and isinstance(m.get("content"), str)]
        if said:
            return str(said[-1])
    if isinstance(value, dict) and len(value) == 1:
        only = next(iter(value.values()))
        if isinstance(only, str):
            return only
    if isinstance(value, dict) and isinstance(value.get("choices"), list) and value["choices"]:
        message = value["choices"][0].get("message") if isinstance(value["choices"][0], dict) else None
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            return str(message["content"])
    return preview
