"""``/api/2.0/mlflow/runs/...`` and ``metrics/get-history``: MLflow's run routes, over the tracking Client.

Where the Client adds client-side defaults (``create_run`` fills in the caller's OS user, ``update_run``
the end time) the route calls the store interface beneath it instead, so that what a remote client sent
is what is stored.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from heron.auth.records import EXPERIMENT
from heron.server.access import AccessDep
from heron.server.context import Ctx
from heron.server.messages import (
    ERRORS,
    Body,
    Empty,
    ExperimentId,
    Int64,
    KeyValue,
    MetricIn,
    MetricOut,
    MetricValue,
    RunInfoOut,
    RunOut,
    RunRef,
    RunStatusField,
    Text,
    Unused,
    ViewTypeField,
    json_response,
    require_run_id,
)
from heron.tracking.entities import Metric, Param, Run, RunTag, ViewType
from heron.tracking.store import wire

__all__ = ["router"]

router = APIRouter(prefix="/api/2.0/mlflow", tags=["runs"], responses=ERRORS)


class CreateRun(Body):
    experiment_id: ExperimentId = "0"
    user_id: Annotated[Text, Field(max_length=256)] = ""  # the runs.user_id column's width
    run_name: Text | None = None
    start_time: Int64 | None = None
    tags: list[KeyValue] = []


class RunResponse(BaseModel):
    run: RunOut


class UpdateRun(RunRef):
    status: RunStatusField | None = None
    end_time: Int64 | None = None
    run_name: Text | None = None


class UpdateRunOut(BaseModel):
    run_info: RunInfoOut


class LogMetric(RunRef):
    key: Text
    value: MetricValue
    timestamp: Int64
    step: Int64 = 0
    model_id: Unused  # MLflow 3's LogMetric links a metric to a logged model and a dataset
    dataset_name: Unused
    dataset_digest: Unused


class LogParam(RunRef):
    key: Text
    value: Text


class SetTag(RunRef):
    key: Text
    value: Text


class DeleteTag(RunRef):
    key: Text


class LogBatch(RunRef):
    metrics: list[MetricIn] = []
    params: list[KeyValue] = []
    tags: list[KeyValue] = []


class SearchRuns(Body):
    experiment_ids: list[ExperimentId] = []
    filter: Text | None = None
    run_view_type: ViewTypeField = ViewType.ACTIVE_ONLY
    max_results: Int64 = 1000
    order_by: list[Text] = []
    page_token: Text | None = None


class SearchRunsOut(BaseModel):
    runs: list[RunOut] = []
    next_page_token: str | None = None


class MetricHistoryOut(BaseModel):
    metrics: list[MetricOut] = []
    next_page_token: str | None = None


def _run(run: Run) -> Response:
    return json_response({"run": wire.run_to_json(run)})


def _ok() -> Response:
    return json_response({})


@router.post("/runs/create", response_model=RunResponse)
def create_run(body: CreateRun, ctx: Ctx) -> Response:
    """Create a RUNNING run with exactly the user, tags and name sent."""
    start = body.start_time if body.start_time is not None else int(time.time() * 1000)
    tags = [RunTag(t.key, t.value) for t in body.tags]
    return _run(ctx.store.create_run(body.experiment_id, body.user_id, start, tags, body.run_name))


@router.get("/runs/get", response_model=RunResponse)
def get_run(
    ctx: Ctx,
    run_id: Annotated[Text | None, Query()] = None,
    run_uuid: Annotated[Text | None, Query()] = None,
) -> Response:
    return _run(ctx.client.get_run(require_run_id(run_id, run_uuid)))


@router.post("/runs/update", response_model=UpdateRunOut)
def update_run(body: UpdateRun, ctx: Ctx) -> Response:
    status = None if body.status is None else wire.RUN_STATUSES[body.status]
    info = ctx.store.update_run_info(body.rid, status, body.end_time, body.run_name)
    return json_response({"run_info": wire.run_info_to_json(info)})


@router.post("/runs/delete", response_model=Empty)
def delete_run(body: RunRef, ctx: Ctx) -> Response:
    ctx.client.delete_run(body.rid)
    return _ok()


@router.post("/runs/restore", response_model=Empty)
def restore_run(body: RunRef, ctx: Ctx) -> Response:
    ctx.client.restore_run(body.rid)
    return _ok()


@router.post("/runs/log-metric", response_model=Empty)
def log_metric(body: LogMetric, ctx: Ctx) -> Response:
    ctx.client.log_metric(body.rid, body.key, body.value, body.timestamp, body.step)
    return _ok()


@router.post("/runs/log-parameter", response_model=Empty)
def log_param(body: LogParam, ctx: Ctx) -> Response:
    """Log a param; a different value for a logged key is INVALID_PARAMETER_VALUE."""
    ctx.client.log_param(body.rid, body.key, body.value)
    return _ok()


@router.post("/runs/set-tag", response_model=Empty)
def set_tag(body: SetTag, ctx: Ctx) -> Response:
    ctx.client.set_tag(body.rid, body.key, body.value)
    return _ok()


@router.post("/runs/delete-tag", response_model=Empty)
def delete_tag(body: DeleteTag, ctx: Ctx) -> Response:
    ctx.client.delete_tag(body.rid, body.key)
    return _ok()


@router.post("/runs/log-batch", response_model=Empty)
def log_batch(body: LogBatch, ctx: Ctx) -> Response:
    """Log metrics, params and tags in one transaction: a bad value anywhere writes nothing."""
    ctx.client.log_batch(
        body.rid,
        metrics=[Metric(m.key, m.value, m.timestamp, m.step) for m in body.metrics],
        params=[Param(p.key, p.value) for p in body.params],
        tags=[RunTag(t.key, t.value) for t in body.tags],
    )
    return _ok()


@router.post("/runs/search", response_model=SearchRunsOut)
def search_runs(ctx: Ctx, access: AccessDep, body: SearchRuns | None = None) -> Response:
    """One page of runs matching ``filter`` in ``experiment_ids``, ``next_page_token`` for the next.

    With auth on, experiments the caller may not READ are left out of ``experiment_ids``."""
    body = body or SearchRuns()
    experiment_ids = access.readable(EXPERIMENT, body.experiment_ids)
    if body.experiment_ids and not experiment_ids:
        return json_response({})
    found = ctx.client.search_runs(
        experiment_ids, body.filter or "", body.run_view_type, body.max_results, body.order_by or None, body.page_token
    )
    out: dict[str, Any] = {}
    if found:
        out["runs"] = [wire.run_to_json(r) for r in found]
    if found.token:
        out["next_page_token"] = found.token
    return json_response(out)


@router.get("/metrics/get-history", response_model=MetricHistoryOut)
def get_metric_history(
    ctx: Ctx,
    metric_key: Annotated[Text, Query()],
    run_id: Annotated[Text | None, Query()] = None,
    run_uuid: Annotated[Text | None, Query()] = None,
    page_token: Annotated[Text | None, Query(description="Ignored: the whole history is one page.")] = None,
    max_results: Annotated[Int64 | None, Query(description="Ignored, as by MLflow's own server.")] = None,
) -> Response:
    """Every value logged for ``metric_key``, ordered by step then timestamp."""
    history = ctx.client.get_metric_history(require_run_id(run_id, run_uuid), metric_key)
    return json_response({"metrics": [wire.metric_to_json(m) for m in history]} if history else {})
