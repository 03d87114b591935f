"""Which role each route needs, on which resource: the one table the guard (``heron.server.guard``)
enforces when the server runs with ``--auth``.

A :class:`Rule` names the resource kind, where the request carries its key (``experiment_id``, a run's
``run_id``, a trace id, an artifact proxy path ``<experiment_id>/<run_id>/...``, a registered ``name``)
and the role needed. Routes are looked up by method and path template (``*`` matches any method).
An ``/api/`` route missing from the table needs an admin (default deny), so a route added later is never
open by accident; a page missing from it needs READ on whatever its path names (``{experiment_id}``,
``{run_id}``, ``{trace_id}``, ``{name}``), else only a signed-in user.
"""

from __future__ import annotations

from dataclasses import dataclass

from heron.auth.records import EXPERIMENT, REGISTERED_MODEL, ResourceKind, Role
from heron.tracking.artifacts.http import ARTIFACTS_ROUTE

__all__ = ["ADMIN", "PUBLIC", "SIGNED_IN", "Rule", "rule_for"]

# Where a rule finds its key.
EXPERIMENT_ID = "experiment_id"  # query or JSON body field
EXPERIMENT_NAME = "experiment_name"  # query field: the experiment of that name
RUN_ID = "run_id"  # query or body ``run_id`` (or MLflow's older ``run_uuid``): the run's experiment
TRACE_ID = "trace_id"  # path parameter: the trace's experiment
PROXY_PATH = "proxy_path"  # path parameter ``artifact_path`` or query ``path``: its first segment
NAME = "name"  # path, query or body ``name``: a registered model or prompt
USERNAME = "username"  # query or body ``username``: the user themselves, or an admin
PAYLOAD = "payload"  # the route checks every resource its payload names (OTLP ingest)
FILTERED = "filtered"  # any signed-in user; the route shows only what they may READ


@dataclass(frozen=True)
class Rule:
    """``role`` on the ``kind`` resource found at ``source``; ``default`` when the field is absent.

    ``public``: no credentials needed. ``admin``: admins only. ``kind`` None with no ``admin``: any
    signed-in user. ``creates``: any signed-in user may create the named resource when it does not
    exist yet, and then gets MANAGE on it (MLflow's rule for experiments and registered models).
    """

    kind: ResourceKind | None = None
    source: str | None = None
    role: Role = Role.READ
    default: str | None = None
    public: bool = False
    admin: bool = False
    creates: bool = False


PUBLIC = Rule(public=True)
SIGNED_IN = Rule()
ADMIN = Rule(admin=True)


def _exp(source: str, role: Role, default: str | None = None) -> Rule:
    return Rule(EXPERIMENT, source, role, default)


def _name(role: Role, creates: bool = False) -> Rule:
    return Rule(REGISTERED_MODEL, NAME, role, creates=creates)


READ, EDIT, MANAGE = Role.READ, Role.EDIT, Role.MANAGE
_MLFLOW = "/api/2.0/mlflow"
_RM = _MLFLOW + "/registered-models"
_MV = _MLFLOW + "/model-versions"
_PROMPTS = "/api/2.0/heron/prompts"

TABLE: dict[tuple[str, str], Rule] = {
    # server
    ("*", "/health"): PUBLIC,
    ("*", "/version"): PUBLIC,
    ("*", "/static/{name}"): PUBLIC,
    ("GET", "/api/3.0/mlflow/server-info"): SIGNED_IN,
    # experiments
    ("POST", f"{_MLFLOW}/experiments/create"): Rule(EXPERIMENT, None, creates=True),
    ("GET", f"{_MLFLOW}/experiments/get"): _exp(EXPERIMENT_ID, READ),
    ("GET", f"{_MLFLOW}/experiments/get-by-name"): _exp(EXPERIMENT_NAME, READ),
    ("*", f"{_MLFLOW}/experiments/search"): Rule(source=FILTERED),
    ("POST", f"{_MLFLOW}/experiments/update"): _exp(EXPERIMENT_ID, EDIT),
    ("POST", f"{_MLFLOW}/experiments/set-experiment-tag"): _exp(EXPERIMENT_ID, EDIT),
    ("POST", f"{_MLFLOW}/experiments/delete-experiment-tag"): _exp(EXPERIMENT_ID, EDIT),
    ("POST", f"{_MLFLOW}/experiments/delete"): _exp(EXPERIMENT_ID, MANAGE),
    ("POST", f"{_MLFLOW}/experiments/restore"): _exp(EXPERIMENT_ID, MANAGE),
    # runs
    ("POST", f"{_MLFLOW}/runs/create"): _exp(EXPERIMENT_ID, EDIT, default="0"),
    ("GET", f"{_MLFLOW}/runs/get"): _exp(RUN_ID, READ),
    ("POST", f"{_MLFLOW}/runs/update"): _exp(RUN_ID, EDIT),
    ("POST", f"{_MLFLOW}/runs/log-metric"): _exp(RUN_ID, EDIT),
    ("POST", f"{_MLFLOW}/runs/log-parameter"): _exp(RUN_ID, EDIT),
    ("POST", f"{_MLFLOW}/runs/set-tag"): _exp(RUN_ID, EDIT),
    ("POST", f"{_MLFLOW}/runs/delete-tag"): _exp(RUN_ID, EDIT),
    ("POST", f"{_MLFLOW}/runs/log-batch"): _exp(RUN_ID, EDIT),
    ("POST", f"{_MLFLOW}/runs/delete"): _exp(RUN_ID, MANAGE),
    ("POST", f"{_MLFLOW}/runs/restore"): _exp(RUN_ID, MANAGE),
    ("POST", f"{_MLFLOW}/runs/search"): Rule(source=FILTERED),
    ("GET", f"{_MLFLOW}/metrics/get-history"): _exp(RUN_ID, READ),
    # artifacts
    ("GET", f"{_MLFLOW}/artifacts/list"): _exp(RUN_ID, READ),
    ("GET", ARTIFACTS_ROUTE): _exp(PROXY_PATH, READ),
    ("GET", ARTIFACTS_ROUTE + "/{artifact_path:path}"): _exp(PROXY_PATH, READ),
    ("PUT", ARTIFACTS_ROUTE + "/{artifact_path:path}"): _exp(PROXY_PATH, EDIT),
    ("DELETE", ARTIFACTS_ROUTE + "/{artifact_path:path}"): _exp(PROXY_PATH, MANAGE),
    # traces and OTLP ingest
    ("GET", "/api/2.0/heron/traces/{trace_id}"): _exp(TRACE_ID, READ),
    ("POST", "/api/2.0/heron/traces/search"): Rule(source=FILTERED),
    ("POST", "/api/2.0/heron/traces/delete"): _exp(EXPERIMENT_ID, MANAGE),
    ("POST", "/api/2.0/heron/traces/{trace_id}/assessments"): _exp(TRACE_ID, EDIT),
    ("POST", "/v1/traces"): Rule(EXPERIMENT, PAYLOAD, EDIT),
    # registered models and model versions (MLflow's paths; keyed on ``name``)
    ("POST", f"{_RM}/create"): _name(EDIT, creates=True),
    ("GET", f"{_RM}/get"): _name(READ),
    ("*", f"{_RM}/search"): Rule(source=FILTERED),
    ("POST", f"{_RM}/rename"): _name(MANAGE),
    ("PATCH", f"{_RM}/update"): _name(EDIT),
    ("DELETE", f"{_RM}/delete"): _name(MANAGE),
    ("*", f"{_RM}/get-latest-versions"): _name(READ),
    ("POST", f"{_RM}/set-tag"): _name(EDIT),
    ("DELETE", f"{_RM}/delete-tag"): _name(EDIT),
    ("POST", f"{_RM}/alias"): _name(EDIT),
    ("DELETE", f"{_RM}/alias"): _name(EDIT),
    ("GET", f"{_RM}/alias"): _name(READ),
    ("POST", f"{_MV}/create"): _name(EDIT),  # the model must exist: a version creates nothing to MANAGE
    ("GET", f"{_MV}/get"): _name(READ),
    ("*", f"{_MV}/search"): Rule(source=FILTERED),
    ("PATCH", f"{_MV}/update"): _name(EDIT),
    ("DELETE", f"{_MV}/delete"): _name(MANAGE),
    ("GET", f"{_MV}/get-download-uri"): _name(READ),
    ("POST", f"{_MV}/transition-stage"): _name(EDIT),
    ("POST", f"{_MV}/set-tag"): _name(EDIT),
    ("DELETE", f"{_MV}/delete-tag"): _name(EDIT),
    ("GET", "/api/2.0/heron/registered-models/resolve"): _name(READ),
    # prompts (Heron's paths; keyed on ``name``: a prompt shares the one namespace with models)
    ("POST", f"{_PROMPTS}/versions/create"): _name(EDIT, creates=True),  # the first version creates it
    ("GET", f"{_PROMPTS}/get"): _name(READ),
    ("GET", f"{_PROMPTS}/search"): Rule(source=FILTERED),
    ("DELETE", f"{_PROMPTS}/delete"): _name(MANAGE),
    ("POST", f"{_PROMPTS}/set-tag"): _name(EDIT),
    ("DELETE", f"{_PROMPTS}/delete-tag"): _name(EDIT),
    ("POST", f"{_PROMPTS}/alias"): _name(EDIT),
    ("DELETE", f"{_PROMPTS}/alias"): _name(EDIT),
    ("GET", f"{_PROMPTS}/versions/get"): _name(READ),
    ("GET", f"{_PROMPTS}/versions/load"): _name(READ),
    ("GET", f"{_PROMPTS}/versions/search"): Rule(source=FILTERED),
    ("DELETE", f"{_PROMPTS}/versions/delete"): _name(MANAGE),
    ("POST", f"{_PROMPTS}/versions/set-tag"): _name(EDIT),
    ("DELETE", f"{_PROMPTS}/versions/delete-tag"): _name(EDIT),
    # users, tokens and permissions (MLflow's auth paths, plus Heron's tokens)
    ("POST", f"{_MLFLOW}/users/create"): ADMIN,
    ("GET", f"{_MLFLOW}/users/get"): Rule(source=USERNAME),
    ("PATCH", f"{_MLFLOW}/users/update-password"): Rule(source=USERNAME),
    ("PATCH", f"{_MLFLOW}/users/update-admin"): ADMIN,
    ("DELETE", f"{_MLFLOW}/users/delete"): ADMIN,
    ("POST", "/api/2.0/heron/tokens/create"): SIGNED_IN,
    ("POST", "/api/2.0/heron/tokens/revoke"): SIGNED_IN,
    ("GET", "/api/2.0/heron/tokens/list"): SIGNED_IN,
    ("POST", f"{_MLFLOW}/experiments/permissions/create"): _exp(EXPERIMENT_ID, MANAGE),
    ("GET", f"{_MLFLOW}/experiments/permissions/get"): _exp(EXPERIMENT_ID, MANAGE),
    ("PATCH", f"{_MLFLOW}/experiments/permissions/update"): _exp(EXPERIMENT_ID, MANAGE),
    ("DELETE", f"{_MLFLOW}/experiments/permissions/delete"): _exp(EXPERIMENT_ID, MANAGE),
    ("POST", f"{_RM}/permissions/create"): _name(MANAGE),
    ("GET", f"{_RM}/permissions/get"): _name(MANAGE),
    ("PATCH", f"{_RM}/permissions/update"): _name(MANAGE),
    ("DELETE", f"{_RM}/permissions/delete"): _name(MANAGE),
    # pages
    ("GET", "/"): SIGNED_IN,
    ("GET", "/experiments/{experiment_id}/traces"): _exp(EXPERIMENT_ID, READ),
    ("GET", "/traces/{trace_id}"): _exp(TRACE_ID, READ),
}

_PAGE_PARAMS = ((EXPERIMENT_ID, EXPERIMENT, EXPERIMENT_ID), ("run_id", EXPERIMENT, RUN_ID),
                (TRACE_ID, EXPERIMENT, TRACE_ID), (NAME, REGISTERED_MODEL, NAME))


def rule_for(method: str, path: str, path_params: tuple[str, ...] = ()) -> Rule:
    """The rule of the route with path template ``path`` answering ``method``."""
    found = TABLE.get((method, path)) or TABLE.get(("*", path))
    if found is not None:
        return found
    if method == "HEAD":
        found = TABLE.get(("GET", path))
        if found is not None:
            return found
    if path.startswith("/api/") or path.startswith("/v1/"):
        return ADMIN
    for param, kind, source in _PAGE_PARAMS:
        if param in path_params:
            return Rule(kind, source, READ)
    return SIGNED_IN
