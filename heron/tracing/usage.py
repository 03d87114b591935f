"""Token usage and cost of spans, and their totals per trace. Pure; the export thread runs it.

**Counting rule (no double counting).** A span's usage is counted in its trace's totals unless one of
its descendants also reports usage: only the innermost reports count. When LangChain's chat-model span
reports usage and the OpenAI call it makes is traced too (and reports the same tokens), only the OpenAI
span counts. The rule relies on children ending before their parents, which nested calls do; the
export thread remembers, per unfinished trace, which span ids have a descendant with usage.

**Cost.** A counted span with tokens is priced by ``heron.tracing.cost.span_cost``. The trace cost is
the sum over its priced spans, or NULL when none is priced; every counted span with tokens but no price
adds one to the trace's ``unpriced_spans``, so a trace is *unpriced* (its cost incomplete) whenever
``unpriced_spans > 0``: unpriced is never $0.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from heron.tracing.attributes import (
    COST_UNPRICED,
    COST_USD,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
    SESSION_ID,
    TRACE_METADATA,
    TRACE_NAME,
    TRACE_TAGS,
    USER_ID,
)
from heron.tracing.cost import token_counts
from heron.tracing.pending import PendingSpan, Target

__all__ = ["Usage", "span_usage", "UsageLedger", "TracePartial", "summarize", "PREVIEW_CHARS"]

PREVIEW_CHARS = 1_000  # request/response previews kept on the trace row
CostFn = Callable[[Mapping[str, Any]], "tuple[float | None, bool]"]

# MLflow keeps a trace's session and user in these metadata keys; Heron reads them too.
_MLFLOW_SESSION = "mlflow.trace.session"
_MLFLOW_USER = "mlflow.trace.user"


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def span_usage(attributes: Mapping[str, Any]) -> Usage | None:
    """The span's token usage from ``gen_ai.usage.*``; None when it reports none."""
    counts = token_counts(attributes)
    return None if counts is None else Usage(*counts)


class UsageLedger:
    """Which spans of unfinished traces have a descendant that reported usage (see the module doc).

    One per destination, used only by the export thread. Bounded: the oldest traces are forgotten past
    ``max_traces`` (a trace whose root never ends must not leak memory).
    """

    def __init__(self, max_traces: int = 10_000) -> None:
        self._below: OrderedDict[str, set[str]] = OrderedDict()
        self._max = max_traces

    def counts(self, span: PendingSpan, reports_usage: bool) -> bool:
        """Whether ``span``'s own usage counts; records it for its ancestors. Call in end order."""
        below = self._below.get(span.trace_id)
        covered = below is not None and span.span_id in below
        if (reports_usage or covered) and span.parent_id is not None and not span.is_local_root:
            if below is None:
                below = self._below[span.trace_id] = set()
                if len(self._below) > self._max:
                    self._below.popitem(last=False)
            below.add(span.parent_id)
        if span.is_local_root:
            self._below.pop(span.trace_id, None)
        return reports_usage and not covered


@dataclass(slots=True)
class TracePartial:
    """What one batch of spans says about one trace; the store merges it into the trace row."""

    trace_id: str
    experiment_id: str
    run_id: str | None
    start_time_ms: int
    end_time_ms: int | None = None
    root_span_id: str | None = None
    name: str | None = None
    explicit_name: str | None = None
    status: str = "IN_PROGRESS"
    request_preview: str | None = None
    response_preview: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cached_input_tokens: int = 0
    cost: float | None = None
    unpriced_spans: int = 0
    span_count: int = 0
    session_id: str | None = None
    user_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)


def summarize(
    spans: list[tuple[PendingSpan, Target]], ledger: UsageLedger, cost: CostFn
) -> dict[str, TracePartial]:
    """Per trace, the totals and root fields of ``spans`` (in end order); prices counted spans and
    marks their attributes with ``heron.cost.usd`` / ``heron.cost.unpriced``."""
    partials: dict[str, TracePartial] = {}
    for span, target in spans:
        part = partials.get(span.trace_id)
        start_ms = span.start_time_ns // 1_000_000
        if part is None:
            part = partials[span.trace_id] = TracePartial(span.trace_id, target.experiment_id, target.run_id, start_ms)
        elif start_ms < part.start_time_ms:
            part.start_time_ms = start_ms
        part.span_count += 1
        attrs = span.attributes
        usage = None if GEN_AI_USAGE_INPUT_TOKENS not in attrs and GEN_AI_USAGE_OUTPUT_TOKENS not in attrs \
            else token_counts(attrs)
        if ledger.counts(span, usage is not None) and usage is not None:
            inp, out, cached = usage
            part.input_tokens += inp
            part.output_tokens += out
            part.total_tokens += inp + out
            part.cached_input_tokens += cached
            usd, priced = cost(attrs)
            if usd is not None:
                part.cost = usd if part.cost is None else part.cost + usd
                attrs[COST_USD] = usd
            elif not priced:
                part.unpriced_spans += 1
                attrs[COST_UNPRICED] = True
        if span.is_local_root and part.root_span_id is None:
            _take_root(part, span)
        if _has_trace_fields(attrs):
            _take_trace_fields(part, attrs)
    return partials


_TRACE_KEYS = (TRACE_NAME, TRACE_TAGS, TRACE_METADATA, SESSION_ID, USER_ID)


def _has_trace_fields(attrs: Mapping[str, Any]) -> bool:
    for key in _TRACE_KEYS:
        if key in attrs:
            return True
    return False


def _take_root(part: TracePartial, span: PendingSpan) -> None:
    part.root_span_id = span.span_id
    part.name = span.name[:500]
    part.status = "ERROR" if span.status == "ERROR" else "OK"
    part.start_time_ms = min(part.start_time_ms, span.start_time_ns // 1_000_000)
    part.end_time_ms = span.end_time_ns // 1_000_000
    part.request_preview = _preview(span.inputs_json)
    part.response_preview = _preview(span.outputs_json)


def _preview(text: str | None) -> str | None:
    if text is None:
        return None
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS]


def _take_trace_fields(part: TracePartial, attrs: Mapping[str, Any]) -> None:
    name = attrs.get(TRACE_NAME)
    if isinstance(name, str) and name:
        part.explicit_name = name[:500]
    for key, into in ((TRACE_TAGS, part.tags), (TRACE_METADATA, part.metadata)):
        found = _json_object(attrs.get(key))
        into.update({str(k)[:250]: v if isinstance(v, str) else _text(v) for k, v in found.items()})
    session = attrs.get(SESSION_ID) or part.metadata.get(_MLFLOW_SESSION)
    if session is not None:
        part.session_id = str(session)[:250]
    user = attrs.get(USER_ID) or part.metadata.get(_MLFLOW_USER)
    if user is not None:
        part.user_id = str(user)[:250]


def _json_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, str):
        return {}
    try:
        found = json.loads(value)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _text(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
