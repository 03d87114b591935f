"""Request and response bodies of the REST API as Pydantic models: the HTTP edge only.

The models follow MLflow's protobuf messages (``mlflow/protos/service.proto``). A field the model does
not declare is refused (400 naming it, see :class:`Body`); so that MLflow's client keeps working, a model
for an MLflow message declares every field of that message in MLflow 3.17, the ones Heron does not use
as :data:`Unused`. Value checks that need no database happen here (types, NUL
characters, 64-bit ranges); the rest (names, lengths, immutability) is the store's, so that the embedded
store and the server refuse the same things with the same messages. Responses are written as JSON by
:func:`json_response` (MLflow's shapes, see :mod:`heron.tracking.store.wire`); the response models only
document them in the OpenAPI schema.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Response
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, WithJsonSchema

from heron.errors import HeronError
from heron.tracking.store import wire

__all__ = [
    "Int64",
    "MetricValue",
    "Text",
    "Unused",
    "ExperimentId",
    "RunStatusField",
    "ViewTypeField",
    "Body",
    "KeyValue",
    "MetricIn",
    "RunRef",
    "json_response",
]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_MAX_EXPERIMENT_ID = 2**31 - 1  # the experiments.experiment_id column is a 32-bit INTEGER
NO_NUL = r"^[^\x00]*$"
"""The pattern of every text field: PostgreSQL cannot store NUL characters (pydantic itself refuses
strings that are not valid Unicode)."""


def _experiment_id(value: str) -> str:
    if value.isdigit() and int(value) > _MAX_EXPERIMENT_ID:
        raise ValueError(f"no experiment has an id this large (ids are at most {_MAX_EXPERIMENT_ID})")
    return value


def _int_from_string(value: Any) -> int:
    # Protobuf's JSON writes 64-bit integers as strings ("1700000000000"); MLflow's Java client does.
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise ValueError(f"expected an integer, got {value!r}")


def _enum(names: dict[str, int], what: str) -> Any:
    by_value = {v: v for v in names.values()}

    def parse(value: Any) -> int:
        if isinstance(value, str):
            if value in names:
                return names[value]
            if value.isdigit() and int(value) in by_value:
                return int(value)
        elif isinstance(value, int) and not isinstance(value, bool) and value in by_value:
            return value
        choices = ", ".join(f"{n} ({v})" for n, v in names.items())
        raise ValueError(f"expected a {what}: one of {choices}")

    return parse


# The common inputs (a plain string, int or float) are checked by pydantic's compiled validators; the
# rare spellings (numbers as strings, "NaN") fall through to a Python function, left to right.
Text = Annotated[str, Field(pattern=NO_NUL)]
ExperimentId = Annotated[str, Field(pattern=NO_NUL), AfterValidator(_experiment_id)]
Int64 = Annotated[
    Annotated[int, Strict(), Field(ge=_INT64_MIN, le=_INT64_MAX)]
    | Annotated[int, BeforeValidator(_int_from_string), Field(ge=_INT64_MIN, le=_INT64_MAX)],
    Field(union_mode="left_to_right"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": _INT64_MIN, "maximum": _INT64_MAX},
                {"type": "string", "pattern": "^-?[0-9]{1,19}$"},
            ]
        }
    ),
]
MetricValue = Annotated[
    Annotated[float, Strict()] | Annotated[float, BeforeValidator(wire.metric_value)],
    Field(union_mode="left_to_right"),
    WithJsonSchema(
        {"anyOf": [{"type": "number"}, {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]}]}
    ),
]
_STATUS_NAMES = {name: value for value, name in wire.RUN_STATUSES.items()}
RunStatusField = Annotated[
    int,
    BeforeValidator(_enum(_STATUS_NAMES, "run status")),
    WithJsonSchema({"anyOf": [{"type": "string", "enum": list(_STATUS_NAMES)}, {"type": "integer", "enum": [1, 2, 3, 4, 5]}]}),
]
ViewTypeField = Annotated[
    int,
    BeforeValidator(_enum(wire.VIEW_TYPES, "view type")),
    WithJsonSchema({"anyOf": [{"type": "string", "enum": list(wire.VIEW_TYPES)}, {"type": "integer", "enum": [1, 2, 3]}]}),
]


Unused = Annotated[Any, Field(default=None, description="Sent by MLflow's client; accepted and ignored.")]
"""A field of MLflow's message that Heron accepts and ignores (any value)."""


class Body(BaseModel):
    """A request body. The one place that decides: a field the model does not declare is refused with
    400 INVALID_PARAMETER_VALUE naming it, and nothing is written."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class KeyValue(Body):
    key: Text
    value: Text


class MetricIn(Body):
    key: Text
    value: MetricValue
    timestamp: Int64
    step: Int64 = 0
    # MLflow 3's Metric message; a metric in a log-batch belongs to the batch's run.
    run_id: Unused
    model_id: Unused
    dataset_name: Unused
    dataset_digest: Unused


class RunRef(Body):
    """A body naming a run by ``run_id`` (or its deprecated twin ``run_uuid``)."""

    run_id: Text | None = None
    run_uuid: Text | None = None

    @property
    def rid(self) -> str:
        return require_run_id(self.run_id, self.run_uuid)


def require_run_id(run_id: str | None, run_uuid: str | None) -> str:
    found = run_id or run_uuid
    if not found:
        raise HeronError.invalid("Missing value for required parameter 'run_id'.")
    return found


def json_response(payload: dict[str, Any], status_code: int = 200) -> Response:
    """``payload`` as compact UTF-8 JSON (NaN never appears: values went through wire first).

    orjson, not ``json``: a page of 200 runs serialises in 0.4 ms instead of 15 ms, which was a fifth of
    a ``runs/search`` answer (docs/benchmarks.md).
    """
    return Response(orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS), status_code=status_code,
                    media_type="application/json")


# ------------------------------------------------------------------------ response models (documented)


class KeyValueOut(BaseModel):
    key: str
    value: str


class MetricOut(BaseModel):
    key: str
    value: float | str = Field(description='A number, or "NaN", "Infinity", "-Infinity".')
    timestamp: int | None = None
    step: int | None = None


class ExperimentOut(BaseModel):
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    last_update_time: int | None = None
    creation_time: int | None = None
    tags: list[KeyValueOut] = []


class RunInfoOut(BaseModel):
    run_uuid: str
    experiment_id: str
    run_name: str
    user_id: str
    status: str
    start_time: int
    end_time: int | None = None
    artifact_uri: str
    lifecycle_stage: str
    run_id: str


class RunDataOut(BaseModel):
    metrics: list[MetricOut] = []
    params: list[KeyValueOut] = []
    tags: list[KeyValueOut] = []


class RunOut(BaseModel):
    info: RunInfoOut
    data: RunDataOut
    inputs: dict[str, Any] = {}
    outputs: dict[str, Any] = {}


class Empty(BaseModel):
    """``{}``: the answer of every write that returns nothing."""


class FileInfoOut(BaseModel):
    path: str
    is_dir: bool
    file_size: int | None = None


class ErrorOut(BaseModel):
    error_code: str
    message: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Invalid request (INVALID_PARAMETER_VALUE, MALFORMED_REQUEST …)"},
    404: {"model": ErrorOut, "description": "RESOURCE_DOES_NOT_EXIST"},
    413: {"model": ErrorOut, "description": "Request body too large"},
}
