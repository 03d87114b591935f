"""``/api/2.0/mlflow/experiments/...``: MLflow's experiment routes, over the tracking Client."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from heron.auth.records import EXPERIMENT
from heron.errors import HeronError
from heron.server.access import Access, AccessDep
from heron.server.context import Ctx
from heron.server.messages import (
    ERRORS,
    Body,
    Empty,
    ExperimentId,
    ExperimentOut,
    Int64,
    KeyValue,
    Text,
    ViewTypeField,
    json_response,
)
from heron.tracking.entities import Experiment, PagedList, ViewType
from heron.tracking.store import wire

__all__ = ["router"]

router = APIRouter(prefix="/api/2.0/mlflow/experiments", tags=["experiments"], responses=ERRORS)


class CreateExperiment(Body):
    name: Text
    artifact_location: Annotated[Text, Field(max_length=1000)] | None = None  # the column's width
    tags: list[KeyValue] = []


class CreateExperimentOut(BaseModel):
    experiment_id: str


class ExperimentResponse(BaseModel):
    experiment: ExperimentOut


class SearchExperiments(Body):
    max_results: Int64 = 1000
    page_token: Text | None = None
    filter: Text | None = None
    order_by: list[Text] = []
    view_type: ViewTypeField = ViewType.ACTIVE_ONLY


class SearchExperimentsOut(BaseModel):
    experiments: list[ExperimentOut] = []
    next_page_token: str | None = None


class ExperimentRef(Body):
    experiment_id: ExperimentId


class UpdateExperiment(Body):
    experiment_id: ExperimentId
    new_name: Text


class SetExperimentTag(Body):
    experiment_id: ExperimentId
    key: Text
    value: Text


class DeleteExperimentTag(Body):
    experiment_id: ExperimentId
    key: Text


def _experiment(experiment: Experiment) -> Response:
    return json_response({"experiment": wire.experiment_to_json(experiment)})


def _page(found: PagedList[Experiment], access: Access) -> Response:
    """One page of experiments, without those the caller may not READ (a page may then come out short)."""
    out: dict[str, object] = {}
    readable = set(access.readable(EXPERIMENT, [e.experiment_id for e in found]))
    shown = [e for e in found if e.experiment_id in readable]
    if shown:
        out["experiments"] = [wire.experiment_to_json(e) for e in shown]
    if found.token:
        out["next_page_token"] = found.token
    return json_response(out)


@router.post("/create", response_model=CreateExperimentOut)
def create_experiment(body: CreateExperiment, ctx: Ctx) -> Response:
    """Create an experiment; RESOURCE_ALREADY_EXISTS when the name is taken."""
    location = ctx.check_artifact_location(body.artifact_location)
    experiment_id = ctx.client.create_experiment(body.name, location, {t.key: t.value for t in body.tags})
    return json_response({"experiment_id": experiment_id})


@router.get("/get", response_model=ExperimentResponse)
def get_experiment(experiment_id: Annotated[ExperimentId, Query()], ctx: Ctx) -> Response:
    return _experiment(ctx.client.get_experiment(experiment_id))


@router.get("/get-by-name", response_model=ExperimentResponse)
def get_experiment_by_name(experiment_name: Annotated[Text, Query()], ctx: Ctx) -> Response:
    found = ctx.client.get_experiment_by_name(experiment_name)
    if found is None:
        raise HeronError.not_found(f"Could not find experiment with name '{experiment_name}'")
    return _experiment(found)


@router.post("/search", response_model=SearchExperimentsOut)
def search_experiments(ctx: Ctx, access: AccessDep, body: SearchExperiments | None = None) -> Response:
    body = body or SearchExperiments()
    return _page(
        ctx.client.search_experiments(
            body.view_type, body.max_results, body.filter, body.order_by or None, body.page_token
        ),
        access,
    )


@router.get("/search", response_model=SearchExperimentsOut)
def search_experiments_get(
    ctx: Ctx,
    access: AccessDep,
    max_results: Annotated[Int64, Query()] = 1000,
    page_token: Annotated[Text | None, Query()] = None,
    filter: Annotated[Text | None, Query()] = None,
    order_by: Annotated[list[Text] | None, Query()] = None,
    view_type: Annotated[ViewTypeField, Query()] = ViewType.ACTIVE_ONLY,
) -> Response:
    return _page(ctx.client.search_experiments(view_type, max_results, filter, order_by or None, page_token), access)


@router.post("/update", response_model=Empty)
def update_experiment(body: UpdateExperiment, ctx: Ctx) -> Response:
    """Rename an experiment."""
    ctx.client.rename_experiment(body.experiment_id, body.new_name)
    return json_response({})


@router.post("/delete", response_model=Empty)
def delete_experiment(body: ExperimentRef, ctx: Ctx) -> Response:
    """Mark an experiment and its runs deleted (restore brings them back)."""
    ctx.client.delete_experiment(body.experiment_id)
    return json_response({})


@router.post("/restore", response_model=Empty)
def restore_experiment(body: ExperimentRef, ctx: Ctx) -> Response:
    ctx.client.restore_experiment(body.experiment_id)
    return json_response({})


@router.post("/set-experiment-tag", response_model=Empty)
def set_experiment_tag(body: SetExperimentTag, ctx: Ctx) -> Response:
    ctx.client.set_experiment_tag(body.experiment_id, body.key, body.value)
    return json_response({})


@router.post("/delete-experiment-tag", response_model=Empty)
def delete_experiment_tag(body: DeleteExperimentTag, ctx: Ctx) -> Response:
    ctx.client.delete_experiment_tag(body.experiment_id, body.key)
    return json_response({})
