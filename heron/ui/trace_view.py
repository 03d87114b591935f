"""What the trace pages show, computed from stored trace records: formatted cells of the traces table,
the span tree with timeline offsets, and span inputs/outputs classified as chat messages or JSON.

Everything here returns plain values (strings, numbers, lists); the templates render them as text.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Any

from heron.tracing.attributes import (
    COST_UNPRICED,
    COST_USD,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from heron.tracing.records import Span, Trace, TraceInfo

__all__ = ["Cost", "Message", "Payload", "SpanNode", "TraceRow", "TraceView", "cost_of", "duration_text",
           "payload", "span_node", "time_text", "trace_row", "trace_view"]

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


# ------------------------------------------------------------------------------------------ formatting


def time_text(ms: int, zone: bool = True) -> str:
    """A millisecond timestamp as ``2026-11-22 12:57:30 UTC`` (without " UTC" if not ``zone``)."""
    moment = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if zone else "%Y-%m-%d %H:%M:%S")


def duration_text(ms: float | None) -> str:
    """``850 ms``, ``1.25 s``, ``2 min 5 s``; an em dash when unknown."""
    if ms is None:
        return "—"
    if ms < 1:
        return f"{ms:.2f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f} s"
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} min {seconds} s"


def _money(usd: float) -> str:
    if usd >= 0.01:
        return f"${usd:,.2f}"
    text = f"{usd:.8f}".rstrip("0").rstrip(".")
    return f"${text}" if text != "0" else "$0"


@dataclass(frozen=True)
class Cost:
    """A cost cell: ``text`` is the priced amount ("" when nothing is priced); ``unpriced`` says some
    LLM span had tokens but no price, so the amount is missing or incomplete."""

    text: str
    unpriced: bool

    @property
    def empty(self) -> bool:
        return not self.text and not self.unpriced


def cost_of(usd: float | None, unpriced: bool) -> Cost:
    return Cost(_money(usd) if usd is not None else "", unpriced)


def _tokens(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# ------------------------------------------------------------------------------------------ the table


@dataclass(frozen=True)
class TraceRow:
    trace_id: str
    name: str
    status: str
    start: str
    latency: str
    input_tokens: int
    output_tokens: int
    cost: Cost
    session_id: str
    user_id: str
    tags: list[tuple[str, str]]
    prompts: list[tuple[str, str]]  # (prompt name, version) from the heron.prompt.NAME tags
    scores: list[tuple[str, str]]  # (assessment name, its latest value as text)


# load_prompt inside a trace tags it heron.prompt.NAME = VERSION (heron.prompts.links)
_PROMPT_TAG = "heron.prompt."


def _scores(info: TraceInfo) -> list[tuple[str, str]]:
    latest: dict[str, str] = {}
    for assessment in info.assessments:  # stored oldest first: the last one of a name wins
        if assessment.kind == "feedback":
            latest[assessment.name] = _score_text(assessment.value)
    return sorted(latest.items())


def _score_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def trace_row(info: TraceInfo) -> TraceRow:
    return TraceRow(
        trace_id=info.trace_id,
        name=info.name or "(unnamed)",
        status=info.status,
        start=time_text(info.request_time, zone=False),
        latency=duration_text(info.execution_duration),
        input_tokens=info.input_tokens,
        output_tokens=info.output_tokens,
        cost=cost_of(info.cost, info.unpriced),
        session_id=info.session_id or "",
        user_id=info.user_id or "",
        tags=sorted((str(k), str(v)) for k, v in info.tags.items()
                    if not str(k).startswith(("mlflow.", _PROMPT_TAG))),
        prompts=sorted((str(k)[len(_PROMPT_TAG):], str(v)) for k, v in info.tags.items()
                       if str(k).startswith(_PROMPT_TAG)),
        scores=_scores(info),
    )


# ------------------------------------------------------------------------------- inputs and outputs


@dataclass(frozen=True)
class Message:
    """One chat message: its role (``role_class`` is a known role or "other", safe as a CSS class), its
    text, and tool calls or non-text parts as pretty JSON."""

    role: str
    role_class: str
    text: str
    extras: list[str]


@dataclass(frozen=True)
class Payload:
    """A span's inputs or outputs: chat ``messages`` when it is a conversation, else ``json`` text."""

    messages: list[Message] | None
    json: str
    absent: bool


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _is_message(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("role"), str) and (
        "content" in value or "tool_calls" in value)


def _messages(value: Any) -> list[Any] | None:
    """The chat messages in ``value``: a list of ``{role, content}``, or such a list under "messages"."""
    if isinstance(value, dict) and isinstance(value.get("messages"), list):
        value = value["messages"]
    if isinstance(value, list) and value and all(_is_message(m) for m in value):
        return value
    return None


def _message(raw: dict[str, Any]) -> Message:
    role = str(raw.get("role"))
    content = raw.get("content")
    texts: list[str] = []
    extras: list[str] = []
    if isinstance(content, str):
        texts.append(content)
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            else:
                extras.append(_pretty(part))
    elif content is not None:
        extras.append(_pretty(content))
    for call in raw.get("tool_calls") or []:
        extras.append("tool call " + _pretty(call))
    for key, value in raw.items():
        if key not in ("role", "content", "tool_calls") and value is not None:
            extras.append(f"{key}: {_pretty(value)}")
    return Message(role, role if role in _ROLES else "other", "\n\n".join(texts), extras)


def payload(value: Any) -> Payload:
    found = _messages(value)
    if found is not None:
        return Payload([_message(m) for m in found], "", False)
    return Payload(None, "" if value is None else _pretty(value), value is None)


# ------------------------------------------------------------------------------------------ span tree


@dataclass
class SpanNode:
    span_id: str
    name: str
    span_type: str
    status: str
    status_message: str
    depth: int
    offset_pct: float
    width_pct: float
    duration: str
    start: str
    model: str
    input_tokens: int | None
    output_tokens: int | None
    cost: Cost
    inputs: Payload
    outputs: Payload
    attributes: list[tuple[str, str]]
    events: list[dict[str, Any]]
    children: list[SpanNode] = field(default_factory=list)


@dataclass(frozen=True)
class TraceView:
    row: TraceRow
    info: TraceInfo
    roots: list[SpanNode]
    spans: list[SpanNode]  # depth-first order, for the timeline and the details
    duration: str
    cost: Cost
    metadata: list[tuple[str, str]]


def _attribute_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _events(span: Span) -> list[dict[str, Any]]:
    found = []
    for event in span.events:
        attrs = {str(k): v for k, v in event.attributes.items()}
        found.append({
            "name": event.name,
            "time": time_text(event.timestamp // 1_000_000),
            "exception": event.name == "exception",
            "type": _attribute_text(attrs.pop("exception.type", "")),
            "message": _attribute_text(attrs.pop("exception.message", "")),
            "stacktrace": _attribute_text(attrs.pop("exception.stacktrace", "")),
            "attributes": sorted((k, _attribute_text(v)) for k, v in attrs.items()),
        })
    return found


def span_node(span: Span, depth: int, start_ns: int, total_ns: int) -> SpanNode:
    attrs = span.attributes
    usd = attrs.get(COST_USD)
    offset = (span.start_time_ns - start_ns) / total_ns * 100
    width = max(span.duration_ns / total_ns * 100, 0.3)
    return SpanNode(
        span_id=span.span_id,
        name=span.name,
        span_type=span.span_type,
        status=span.status.status_code,
        status_message=span.status.description,
        depth=depth,
        offset_pct=round(min(max(offset, 0.0), 99.7), 3),
        width_pct=round(min(width, 100.0 - min(max(offset, 0.0), 99.7)), 3),
        duration=duration_text(span.duration_ns / 1e6),
        start=time_text(span.start_time_ns // 1_000_000),
        model=str(attrs.get(GEN_AI_RESPONSE_MODEL) or attrs.get(GEN_AI_REQUEST_MODEL) or ""),
        input_tokens=_tokens(attrs.get(GEN_AI_USAGE_INPUT_TOKENS)),
        output_tokens=_tokens(attrs.get(GEN_AI_USAGE_OUTPUT_TOKENS)),
        cost=cost_of(float(usd) if isinstance(usd, (int, float)) else None, bool(attrs.get(COST_UNPRICED))),
        inputs=payload(span.inputs),
        outputs=payload(span.outputs),
        attributes=sorted((str(k), _attribute_text(v)) for k, v in attrs.items()),
        events=_events(span),
    )


def trace_view(trace: Trace) -> TraceView:
    """The detail page's model: totals, the span tree (children by start time) and a flat list."""
    spans = sorted(trace.data.spans, key=lambda s: (s.start_time_ns, s.span_id))
    start_ns = min((s.start_time_ns for s in spans), default=0)
    end_ns = max((s.end_time_ns for s in spans), default=0)
    total_ns = max(end_ns - start_ns, 1)
    ids = {s.span_id for s in spans}
    children: dict[str | None, list[Span]] = {}
    for span in spans:
        parent = span.parent_id if span.parent_id in ids else None
        children.setdefault(parent, []).append(span)
    flat: list[SpanNode] = []

    def build(span: Span, depth: int) -> SpanNode:
        node = span_node(span, depth, start_ns, total_ns)
        flat.append(node)
        # a loop in parent ids cannot happen for OTel ids; the depth bound guards against bad data
        if depth < 200:
            node.children = [build(child, depth + 1) for child in children.get(span.span_id, [])]
        return node

    roots = [build(span, 0) for span in children.get(None, [])]
    info = trace.info
    return TraceView(
        row=trace_row(info),
        info=info,
        roots=roots,
        spans=flat,
        duration=duration_text(info.execution_duration),
        cost=cost_of(info.cost, info.unpriced),
        metadata=sorted((str(k), str(v)) for k, v in info.trace_metadata.items()),
    )
