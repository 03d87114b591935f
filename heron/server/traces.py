"""``/api/2.0/heron/traces/...``: Heron's own trace routes (get, search, delete, assessments).

Each route calls the function users call (``heron.get_trace``, ``heron.search_traces`` …) with the
server's own trace store as ``store=``, so the checks and messages are the same in process and over HTTP;
the REST trace store (``heron.tracing.reststore``) is their client. Answers are JSON in the shape of
:mod:`heron.tracing.wire`: a trace is ``{"info": {...}, "data": {"spans": [...]}}`` with the fields of
:class:`heron.tracing.records.TraceInfo` and :class:`~heron.tracing.records.Span`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field, JsonValue

from heron.auth.records import EXPERIMENT
from heron.errors import HeronError
from heron.server.access import AccessDep
from heron.server.context import Ctx
from heron.server.messages import ERRORS, Body, ExperimentId, Int64, Text
from heron.tracing import fluent
from heron.tracing.wire import assessment_to_json, trace_to_json

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


def _json(payload: dict[str, Any]) -> Response:
    # Attributes are stored JSON; default=str covers anything a span processor left that JSON refuses.
    try:
        body = orjson.dumps(payload, default=str, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:  # an integer past 64 bits in a span's inputs or outputs
        body = json.dumps(payload, separators=(",", ":"), default=str, ensure_ascii=False).encode()
    return Response(body, media_type="application/json")


@router.get("/{trace_id}", response_model=TraceResponse)
def get_trace(trace_id: TraceId, ctx: Ctx) -> Response:
    """The stored trace with its spans and assessments; RESOURCE_DOES_NOT_EXIST when there is none."""
    found = fluent.get_trace(trace_id.lower(), store=ctx.traces)
    if found is None:
        raise HeronError.not_found(f"Trace with id {trace_id!r} not found.")
    return _json({"trace": trace_to_json(found)})


@router.post("/search", response_model=SearchTracesOut)
def search_traces(body: SearchTraces, ctx: Ctx, access: AccessDep) -> Response:
    """One page of the traces matching ``filter`` (``heron.search_traces``' language), newest first.

    With auth on, experiments the caller may not READ are left out of ``experiment_ids``."""
    experiment_ids = access.readable(EXPERIMENT, body.experiment_ids)
    if not experiment_ids:
        return _json({"traces": []})
    found = fluent.search_traces(experiment_ids, body.filter, body.max_results, body.order_by or None,
                                 body.page_token, body.run_id, "list", body.include_spans, store=ctx.traces)
    out: dict[str, Any] = {"traces": [trace_to_json(t) for t in found]}
    if found.token:
        out["next_page_token"] = found.token
    return _json(out)


@router.post("/delete", response_model=DeleteTracesOut)
def delete_traces(body: DeleteTraces, ctx: Ctx) -> Response:
    """Delete traces of an experiment: either ``trace_ids`` or ``max_timestamp_millis`` (optionally with
    ``max_traces``, oldest first)."""
    ids = None if body.trace_ids is None else [i.lower() for i in body.trace_ids]
    deleted = fluent.delete_traces(body.experiment_id, body.max_timestamp_millis, body.max_traces, ids,
                                   store=ctx.traces)
    return _json({"traces_deleted": deleted})


@router.post("/{trace_id}/assessments", response_model=AssessmentResponse)
def log_assessment(trace_id: TraceId, body: LogAssessment, ctx: Ctx) -> Response:
    """Attach a feedback or expectation to a stored trace (or one of its spans)."""
    source = body.source.model_dump() if isinstance(body.source, SourceIn) else body.source
    assessment = fluent.log_assessment(trace_id.lower(), body.name, body.value, body.rationale, source,
                                       body.span_id, body.run_id, body.metadata, body.kind, store=ctx.traces)
    return _json({"assessment": assessment_to_json(assessment)})
