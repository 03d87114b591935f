"""Stored traces as frozen records, in the shapes of MLflow 3 (``trace.info.trace_id``,
``trace.info.status``, ``trace.data.spans``, ``span.inputs``, ``span.parent_id`` …).

Times: ``TraceInfo.request_time`` (alias ``timestamp_ms``) and ``execution_duration`` (alias
``execution_time_ms``) in milliseconds; span times in nanoseconds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Trace", "TraceInfo", "TraceData", "Span", "SpanEvent", "SpanStatus", "Assessment",
           "AssessmentSource", "TraceStatus"]


class TraceStatus:
    OK = "OK"
    ERROR = "ERROR"
    IN_PROGRESS = "IN_PROGRESS"


@dataclass(frozen=True)
class SpanStatus:
    """A span's status: ``status_code`` is ``"OK"`` or ``"ERROR"`` (ended without an error: OK)."""

    status_code: str
    description: str = ""


@dataclass(frozen=True)
class SpanEvent:
    name: str
    timestamp: int  # ns
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Span:
    """One stored span. ``inputs``/``outputs`` are decoded JSON; ``attributes`` the rest (``gen_ai.*``,
    ``heron.cost.usd`` …)."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    span_type: str
    status: SpanStatus
    start_time_ns: int
    end_time_ns: int
    inputs: Any
    outputs: Any
    attributes: Mapping[str, Any]
    events: tuple[SpanEvent, ...] = ()

    @property
    def request_id(self) -> str:
        return self.trace_id

    @property
    def duration_ns(self) -> int:
        return self.end_time_ns - self.start_time_ns

    def get_attribute(self, key: str) -> Any:
        return self.attributes.get(key)


@dataclass(frozen=True)
class AssessmentSource:
    """Who made an assessment: ``source_type`` HUMAN, LLM_JUDGE or CODE, and an id (user, judge model…)."""

    source_type: str = "CODE"
    source_id: str | None = None


@dataclass(frozen=True)
class Assessment:
    """A score or piece of feedback on a trace (or one of its spans). ``value`` is any JSON value."""

    assessment_id: str
    trace_id: str
    name: str
    value: Any
    source: AssessmentSource
    rationale: str | None = None
    span_id: str | None = None
    run_id: str | None = None
    kind: str = "feedback"  # feedback | expectation
    metadata: Mapping[str, Any] = field(default_factory=dict)
    create_time_ms: int = 0


@dataclass(frozen=True)
class TraceInfo:
    """The trace row: ids, experiment and run, status, timing, previews, token totals and cost.

    ``cost`` is the USD total of the priced LLM spans (None when none is priced); ``unpriced`` is True
    when some LLM span with tokens has no price, so ``cost`` is incomplete.
    """

    trace_id: str
    experiment_id: str
    run_id: str | None
    name: str | None
    status: str
    request_time: int
    execution_duration: int | None
    request_preview: str | None
    response_preview: str | None
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cached_input_tokens: int
    cost: float | None
    unpriced_spans: int
    span_count: int
    session_id: str | None
    user_id: str | None
    tags: Mapping[str, str] = field(default_factory=dict)
    trace_metadata: Mapping[str, str] = field(default_factory=dict)
    assessments: tuple[Assessment, ...] = ()

    # MLflow 2 and 3 spellings
    @property
    def request_id(self) -> str:
        return self.trace_id

    @property
    def state(self) -> str:
        return self.status

    @property
    def timestamp_ms(self) -> int:
        return self.request_time

    @property
    def execution_time_ms(self) -> int | None:
        return self.execution_duration

    @property
    def request_metadata(self) -> Mapping[str, str]:
        return self.trace_metadata

    @property
    def unpriced(self) -> bool:
        return self.unpriced_spans > 0

    @property
    def token_usage(self) -> dict[str, int]:
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "total_tokens": self.total_tokens, "cached_input_tokens": self.cached_input_tokens}


@dataclass(frozen=True)
class TraceData:
    spans: list[Span]

    @property
    def request(self) -> str | None:
        """The root span's inputs as JSON text (MLflow's ``trace.data.request``)."""
        root = self._root()
        return None if root is None or root.inputs is None else json.dumps(root.inputs)

    @property
    def response(self) -> str | None:
        root = self._root()
        return None if root is None or root.outputs is None else json.dumps(root.outputs)

    def _root(self) -> Span | None:
        ids = {s.span_id for s in self.spans}
        for span in self.spans:
            if span.parent_id is None or span.parent_id not in ids:
                return span
        return None


@dataclass(frozen=True)
class Trace:
    info: TraceInfo
    data: TraceData

    def search_spans(self, span_type: str | None = None, name: str | None = None) -> list[Span]:
        """The spans of this trace with the given type and/or name."""
        return [s for s in self.data.spans
                if (span_type is None or s.span_type == span_type) and (name is None or s.name == name)]
