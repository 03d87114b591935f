"""``/api/2.0/heron/traces/...``: Heron's own trace routes (get, search, delete, assessments).

They read and write the server's store through ``heron.tracing.sqlstore.TraceStore`` (the explicit-store
layer under ``heron.tracing.fluent``, whose functions use the tracking URI in force). Answers are JSON:
a trace is ``{"info": {...}, "data": {"spans": [...]}}`` with the fields of
:class:`heron.tracing.records.TraceInfo` and :class:`~heron.tracing.records.Span`.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field, JsonValue

from heron.auth.records import EXPERIMENT
from heron.errors import HeronError
from heron.server.access import AccessDep
from heron.server.context import Ctx, ServerContext
from heron.server.messages import ERRORS, Body, ExperimentId, Int64, Text
from heron.tracing.fluent import _normalize_id, _source
from heron.tracing.records import Assessment, Trace
from heron.tracing.sqlstore import TraceStore

__all__ = ["router"]

router = APIRouter(prefix="/api/2.0/heron/traces", tags=["traces"], responses=ERRORS)

MAX_RESULTS = 1_000
TraceId = Annotated[str, Path(pattern=r"^(tr-)?[0-9a-fA-F]{1,32}$", description="A trace id (tr- prefix accepted).")]


class SearchTraces(Body):
    experiment_ids: list[ExperimentId] = Field(min_length=1)
    filter: Text | None = None
    max_results: Annotated[int, Field(ge=1, le=MAX_RESULTS)] = 100
    order_by: list[Text] = []
    page_token: Text | None = None
    run_id: Annotated[Text, Field(max_length=32)] | None = None
    include_spans: bool = True


class DeleteTraces(Body):
    experiment_id: ExperimentId
    max_timestamp_millis: Int64 | None = None
    max_traces: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    trace_ids: list[Annotated[Text, Field(max_length=35)]] | None = None


class SourceIn(Body):
    source_type: Annotated[Text, Field(max_length=32)] = "CODE"
    source_id: Annotated[Text, Field(max_length=250)] | None = None


class LogAssessment(Body):
    name: Annotated[Text, Field(min_length=1, max_length=250)]
    value: JsonValue = None
    rationale: Text | None = None
    source: SourceIn | Annotated[Text, Field(max_length=32)] | None = None
    span_id: Annotated[Text, Field(max_length=16)] | None = None
    run_id: Annotated[Text, Field(max_length=32)] | None = None
    metadata: dict[str, JsonValue] | None = None
    kind: Literal["feedback", "expectation"] = "feedback"


class TraceOut(BaseModel):
    info: dict[str, Any]
    data: dict[str, Any]


class TraceResponse(BaseModel):
    trace: TraceOut


class SearchTracesOut(BaseModel):
    traces: list[TraceOut] = []
    next_page_token: str | None = None


class DeleteTracesOut(BaseModel):
    traces_deleted: int


class AssessmentResponse(BaseModel):
    assessment: dict[str, Any]


def _store(ctx: ServerContext) -> TraceStore:
    return TraceStore(ctx.store.db)


def _json(payload: dict[str, Any]) -> Response:
    # Attributes are stored JSON; default=str covers anything a span processor left that JSON refuses.
    return Response(json.dumps(payload, separators=(",", ":"), default=str, ensure_ascii=False),
                    media_type="application/json")


def trace_to_json(trace: Trace) -> dict[str, Any]:
    info = dataclasses.asdict(trace.info)
    info["unpriced"] = trace.info.unpriced
    return {"info": info, "data": {"spans": [dataclasses.asdict(s) for s in trace.data.spans]}}


@router.get("/{trace_id}", response_model=TraceResponse)
def get_trace(trace_id: TraceId, ctx: Ctx) -> Response:
    """The stored trace with its spans and assessments; RESOURCE_DOES_NOT_EXIST when there is none."""
    found = _store(ctx).get_traces([_normalize_id(trace_id).lower()])
    if not found:
        raise HeronError.not_found(f"Trace with id {trace_id!r} not found.")
    return _json({"trace": trace_to_json(found[0])})


@router.post("/search", response_model=SearchTracesOut)
def search_traces(body: SearchTraces, ctx: Ctx, access: AccessDep) -> Response:
    """One page of the traces matching ``filter`` (``heron.search_traces``' language), newest first.

    With auth on, experiments the caller may not READ are left out of ``experiment_ids``."""
    experiment_ids = access.readable(EXPERIMENT, body.experiment_ids)
    if not experiment_ids:
        return _json({"traces": []})
    found, token = _store(ctx).search(experiment_ids, body.filter, body.order_by or None, body.max_results,
                                      body.page_token, body.run_id, body.include_spans)
    out: dict[str, Any] = {"traces": [trace_to_json(t) for t in found]}
    if token:
        out["next_page_token"] = token
    return _json(out)


@router.post("/delete", response_model=DeleteTracesOut)
def delete_traces(body: DeleteTraces, ctx: Ctx) -> Response:
    """Delete traces of an experiment: either ``trace_ids`` or ``max_timestamp_millis`` (optionally with
    ``max_traces``, oldest first)."""
    if (body.trace_ids is None) == (body.max_timestamp_millis is None):
        raise HeronError.invalid("Delete takes either trace_ids or max_timestamp_millis, exactly one of them.")
    if body.trace_ids is not None and body.max_traces is not None:
        raise HeronError.invalid("max_traces goes with max_timestamp_millis, not with trace_ids.")
    ids = None if body.trace_ids is None else [_normalize_id(i).lower() for i in body.trace_ids]
    deleted = _store(ctx).delete(body.experiment_id, body.max_timestamp_millis, body.max_traces, ids)
    return _json({"traces_deleted": deleted})


@router.post("/{trace_id}/assessments", response_model=AssessmentResponse)
def log_assessment(trace_id: TraceId, body: LogAssessment, ctx: Ctx) -> Response:
    """Attach a feedback or expectation to a stored trace (or one of its spans)."""
    source = _source(body.source.model_dump() if isinstance(body.source, SourceIn) else body.source)
    tid = _normalize_id(trace_id).lower()
    store = _store(ctx)
    if not store.exists(tid):
        raise HeronError.not_found(f"Trace with id {trace_id!r} not found.")
    assessment = Assessment(
        assessment_id="a-" + uuid.uuid4().hex,
        trace_id=tid,
        name=body.name,
        value=body.value,
        source=source,
        rationale=body.rationale,
        span_id=body.span_id,
        run_id=body.run_id,
        kind=body.kind,
        metadata=dict(body.metadata or {}),
        create_time_ms=int(time.time() * 1000),
    )
    store.log_assessment(assessment)
    return _json({"assessment": dataclasses.asdict(assessment)})
