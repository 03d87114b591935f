"""A request body with a field its route does not take gets 400 naming the field, and nothing is written;
every field of MLflow 3's messages is still accepted, so that MLflow's client keeps working."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from mlflow.protos import databricks_pb2, model_registry_pb2, service_pb2
from pydantic import BaseModel

from heron.server import BackgroundServer, create_app
from heron.server.app import ROUTERS
from tests.server.conftest import server_settings

ADMIN = ("admin", "admin-password")
API = "/api/2.0/mlflow"
HERON = "/api/2.0/heron"
UNKNOWN = "heron_unknown_field"
EXP = "1"
RUN = "{run}"  # filled in with the run created by the fixture
TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = {"traceId": TRACE, "spanId": "b7ad6b7169203331", "name": "s", "startTimeUnixNano": "1", "endTimeUnixNano": "2"}

# A valid body for every JSON-body route, keyed by (method, path). The test below fails for a route
# missing here, so a new route cannot slip by.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", f"{API}/experiments/create"): {"name": "new"},
    ("POST", f"{API}/experiments/search"): {},
    ("POST", f"{API}/experiments/update"): {"experiment_id": EXP, "new_name": "renamed"},
    ("POST", f"{API}/experiments/delete"): {"experiment_id": EXP},
    ("POST", f"{API}/experiments/restore"): {"experiment_id": EXP},
    ("POST", f"{API}/experiments/set-experiment-tag"): {"experiment_id": EXP, "key": "k", "value": "v"},
    ("POST", f"{API}/experiments/delete-experiment-tag"): {"experiment_id": EXP, "key": "k"},
    ("POST", f"{API}/runs/create"): {"experiment_id": EXP},
    ("POST", f"{API}/runs/update"): {"run_id": RUN, "status": "FINISHED"},
    ("POST", f"{API}/runs/delete"): {"run_id": RUN},
    ("POST", f"{API}/runs/restore"): {"run_id": RUN},
    ("POST", f"{API}/runs/log-metric"): {"run_id": RUN, "key": "m", "value": 1.0, "timestamp": 1},
    ("POST", f"{API}/runs/log-parameter"): {"run_id": RUN, "key": "p", "value": "v"},
    ("POST", f"{API}/runs/set-tag"): {"run_id": RUN, "key": "k", "value": "v"},
    ("POST", f"{API}/runs/delete-tag"): {"run_id": RUN, "key": "k"},
    ("POST", f"{API}/runs/log-batch"): {"run_id": RUN, "metrics": [{"key": "m", "value": 1, "timestamp": 1}]},
    ("POST", f"{API}/runs/search"): {"experiment_ids": [EXP]},
    ("POST", f"{API}/registered-models/create"): {"name": "new"},
    ("POST", f"{API}/registered-models/rename"): {"name": "m", "new_name": "m2"},
    ("PATCH", f"{API}/registered-models/update"): {"name": "m", "description": "d"},
    ("DELETE", f"{API}/registered-models/delete"): {"name": "m"},
    ("POST", f"{API}/registered-models/get-latest-versions"): {"name": "m"},
    ("POST", f"{API}/registered-models/set-tag"): {"name": "m", "key": "k", "value": "v"},
    ("DELETE", f"{API}/registered-models/delete-tag"): {"name": "m", "key": "k"},
    ("POST", f"{API}/registered-models/alias"): {"name": "m", "alias": "a", "version": "1"},
    ("DELETE", f"{API}/registered-models/alias"): {"name": "m", "alias": "a"},
    ("POST", f"{API}/model-versions/create"): {"name": "m", "source": "s"},
    ("PATCH", f"{API}/model-versions/update"): {"name": "m", "version": "1", "description": "d"},
    ("DELETE", f"{API}/model-versions/delete"): {"name": "m", "version": "1"},
    ("POST", f"{API}/model-versions/transition-stage"): {"name": "m", "version": "1", "stage": "Staging"},
    ("POST", f"{API}/model-versions/set-tag"): {"name": "m", "version": "1", "key": "k", "value": "v"},
    ("DELETE", f"{API}/model-versions/delete-tag"): {"name": "m", "version": "1", "key": "k"},
    ("POST", f"{HERON}/prompts/versions/create"): {"name": "p", "template": "Hi {{name}}"},
    ("DELETE", f"{HERON}/prompts/delete"): {"name": "p"},
    ("POST", f"{HERON}/prompts/set-tag"): {"name": "p", "key": "k", "value": "v"},
    ("DELETE", f"{HERON}/prompts/delete-tag"): {"name": "p", "key": "k"},
    ("DELETE", f"{HERON}/prompts/versions/delete"): {"name": "p", "version": "1"},
    ("POST", f"{HERON}/prompts/versions/set-tag"): {"name": "p", "version": "1", "key": "k", "value": "v"},
    ("DELETE", f"{HERON}/prompts/versions/delete-tag"): {"name": "p", "version": "1", "key": "k"},
    ("POST", f"{HERON}/prompts/alias"): {"name": "p", "alias": "a", "version": "1"},
    ("DELETE", f"{HERON}/prompts/alias"): {"name": "p", "alias": "a"},
    ("POST", f"{HERON}/traces/search"): {"experiment_ids": [EXP]},
    ("POST", f"{HERON}/traces/delete"): {"experiment_id": EXP, "max_timestamp_millis": 2**40},
    ("POST", f"{HERON}/traces/{{trace_id}}/assessments"): {"name": "quality", "value": 1},
    ("POST", f"{API}/users/create"): {"username": "carol", "password": "carol-password"},
    ("PATCH", f"{API}/users/update-password"): {"username": "bob", "password": "new-password"},
    ("PATCH", f"{API}/users/update-admin"): {"username": "bob", "is_admin": True},
    ("DELETE", f"{API}/users/delete"): {"username": "bob"},
    ("POST", f"{API}/experiments/permissions/create"): {"experiment_id": EXP, "username": "bob", "permission": "EDIT"},
    ("PATCH", f"{API}/experiments/permissions/update"): {"experiment_id": EXP, "username": "bob", "permission": "EDIT"},
    ("DELETE", f"{API}/experiments/permissions/delete"): {"experiment_id": EXP, "username": "bob"},
    ("POST", f"{API}/registered-models/permissions/create"): {"name": "m", "username": "bob", "permission": "EDIT"},
    ("PATCH", f"{API}/registered-models/permissions/update"): {"name": "m", "username": "bob", "permission": "EDIT"},
    ("DELETE", f"{API}/registered-models/permissions/delete"): {"name": "m", "username": "bob"},
    ("POST", f"{HERON}/tokens/create"): {"name": "ci"},
    ("POST", f"{HERON}/tokens/revoke"): {"name": "ci"},
}


def _json_body_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route of the app that takes a JSON body, from its OpenAPI schema."""
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    }


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[httpx.Client, Path, str]]:
    """An auth server (admin client) holding an experiment, a run, a model version, a prompt, a user and
    a trace; and the path of its SQLite store."""
    monkeypatch.setenv("HERON_ADMIN_PASSWORD", ADMIN[1])
    settings = server_settings(tmp_path, auth=True)
    with BackgroundServer(settings) as live, httpx.Client(base_url=live.url, auth=ADMIN, timeout=30) as http:
        setup = [
            (f"{API}/experiments/create", {"name": "exp"}),
            (f"{API}/registered-models/create", {"name": "m"}),
            (f"{HERON}/prompts/versions/create", {"name": "p", "template": "Hello"}),
            (f"{API}/users/create", {"username": "bob", "password": "bob-password"}),
            ("/v1/traces", {"resourceSpans": [{"scopeSpans": [{"spans": [SPAN]}]}]}),
        ]
        for path, body in setup:
            assert http.post(path, json=body).status_code == 200
        run = http.post(f"{API}/runs/create", json={"experiment_id": EXP}).json()["run"]["info"]["run_id"]
        created = http.post(f"{API}/model-versions/create", json={"name": "m", "source": "s", "run_id": run})
        assert created.status_code == 200, created.text
        yield http, tmp_path / "server" / "heron.db", run


def _dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def test_every_json_route_refuses_an_unknown_field_and_writes_nothing(
    server: tuple[httpx.Client, Path, str],
) -> None:
    http, db, run = server
    routes = _json_body_routes(create_app(server_settings(db.parent.parent / "other")))
    assert routes == set(BODIES), f"routes without a body here: {routes - set(BODIES)}"
    before = _dump(db)
    for (method, path), valid in BODIES.items():
        body = {k: (run if v == RUN else v) for k, v in valid.items()}
        url = path.replace("{trace_id}", f"tr-{TRACE}")
        response = http.request(method, url, json={**body, UNKNOWN: 1})
        assert response.status_code == 400, (method, path, response.text)
        answer = response.json()
        assert answer["error_code"] == "INVALID_PARAMETER_VALUE", (method, path, answer)
        # The unknown field is the only problem: the rest of the body is valid.
        assert re.fullmatch(rf"Unknown field '{UNKNOWN}': the request takes only [a-z_, ]+\.", answer["message"]), (
            method,
            path,
            answer["message"],
        )
        for field in body:
            assert re.search(rf"\b{field}\b", answer["message"]), (method, path, answer["message"])
    assert _dump(db) == before


def test_every_api_get_route_refuses_an_unknown_query_parameter(server: tuple[httpx.Client, Path, str]) -> None:
    http, db, run = server
    paths = create_app(server_settings(db.parent.parent / "other")).openapi()["paths"]
    gets = [path for path, operations in paths.items() if "get" in operations and path.startswith("/api/")]
    assert len(gets) >= 20
    known = {"experiment_id": EXP, "run_id": run, "name": "m", "version": "1", "username": "bob",
             "experiment_name": "exp", "metric_key": "m"}  # fmt: skip
    for path in gets:
        url = re.sub(r"\{[a-z_]+(:path)?\}", lambda m: f"tr-{TRACE}" if "trace" in m.group(0) else "0", path)
        declared = {p["name"] for p in paths[path]["get"].get("parameters", []) if p["in"] == "query"}
        params = {k: v for k, v in known.items() if k in declared}
        response = http.get(url, params={**params, UNKNOWN: "1"})
        assert response.status_code == 400, (path, response.text)
        assert response.json()["message"].startswith(f"Unknown query parameter '{UNKNOWN}': "), (path, response.text)


def test_unknown_nested_field_is_named_with_its_siblings(server: tuple[httpx.Client, Path, str]) -> None:
    http, db, run = server
    before = _dump(db)
    metric = {"key": "m", "value": 1, "timestamp": 1, "extra": True}
    response = http.post(f"{API}/runs/log-batch", json={"run_id": run, "metrics": [metric]})
    assert response.status_code == 400
    assert response.json() == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": "Unknown field 'metrics[0].extra': metrics[0] takes only key, value, timestamp, step, run_id, "
        "model_id, dataset_name, dataset_digest.",
    }
    source = {"source_type": "HUMAN", "bogus": 1}  # a model in a union: SourceIn | str
    response = http.post(f"{HERON}/traces/tr-{TRACE}/assessments", json={"name": "q", "source": source})
    assert response.status_code == 400
    assert "Unknown field 'source.bogus': source takes only source_type, source_id." in response.json()["message"]
    assert _dump(db) == before


def test_mlflow3_fields_heron_does_not_use_are_accepted(server: tuple[httpx.Client, Path, str]) -> None:
    http, _, run = server
    mlflow3 = {"model_id": "m-1", "dataset_name": "train", "dataset_digest": "abc"}
    metric = {"key": "loss", "value": 0.5, "timestamp": 1, "step": 2}
    body = {"run_id": run, "run_uuid": run, **metric, **mlflow3}
    assert http.post(f"{API}/runs/log-metric", json=body).json() == {}
    batch = {"run_id": run, "metrics": [{**metric, "key": "acc", **mlflow3, "run_id": run}]}
    assert http.post(f"{API}/runs/log-batch", json=batch).json() == {}
    metrics = http.get(f"{API}/runs/get", params={"run_id": run}).json()["run"]["data"]["metrics"]
    assert sorted(m["key"] for m in metrics) == ["acc", "loss"]


def _body_model(route: APIRoute) -> type[BaseModel]:
    assert route.body_field is not None
    model = route.body_field.field_info.annotation
    for arg in getattr(model, "__args__", ()):  # Optional[Model]
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            model = arg
    assert isinstance(model, type) and issubclass(model, BaseModel)
    return model


def test_body_models_declare_every_field_of_mlflow_messages() -> None:
    """For every route on an MLflow path that MLflow 3's protos define, the body model takes every field
    of the request message (nested messages too)."""
    messages: dict[tuple[str, str], Any] = {}
    for module in (service_pb2, model_registry_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                options = method.GetOptions()
                if options.HasExtension(databricks_pb2.rpc):
                    for endpoint in options.Extensions[databricks_pb2.rpc].endpoints:
                        path = f"/api/{endpoint.since.major}.0{endpoint.path}"
                        messages[(endpoint.method, path)] = method.input_type
    checked = 0

    def compare(model: type[BaseModel], message: Any, where: str) -> None:
        names = {info.alias or name for name, info in model.model_fields.items()}
        missing = {f.name for f in message.fields} - names
        assert not missing, f"{where} lacks MLflow's fields {missing}"
        for field in message.fields:
            if field.message_type is not None:
                nested = model.model_fields[field.name].annotation
                inner = [a for a in getattr(nested, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel)]
                if inner:
                    compare(inner[0], field.message_type, f"{where}.{field.name}")

    for route in (route for router in ROUTERS for route in router.routes):
        if isinstance(route, APIRoute) and route.body_field is not None:
            for method in route.methods:
                message = messages.get((method, route.path))
                if message is not None:
                    compare(_body_model(route), message, f"{method} {route.path}")
                    checked += 1
    assert checked >= 30
