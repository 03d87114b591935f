"""``heron server --auth`` end to end over real HTTP, on SQLite and PostgreSQL: credentials, the route
table (every write route refuses a READ-only user and changes nothing), roles, filtered searches, OTLP
ingest, pages, and the management routes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute

import heron
from heron.errors import HeronError
from heron.server import BackgroundServer, Settings, create_app
from heron.server.app import ROUTERS
from heron.server.cli import exposure_warning
from heron.server.policy import rule_for
from heron.tracking.store.schema import metadata
from tests.server.conftest import server_settings, store_uri_for

ADMIN = ("admin", "admin-password")
READER = ("reader", "reader-password")  # no permission given: the default, READ
EDITOR = ("editor", "editor-password")  # EDIT on the team experiment
MANAGER = ("manager", "manager-password")  # MANAGE on the team experiment
MLFLOW = "/api/2.0/mlflow"
TRACE_HEX = "5b8aa5a2d2c872e8321cf37308d69df2"


@dataclass
class Seeded:
    server: BackgroundServer
    db_url: str
    team: str  # an experiment id
    private: str  # an experiment the reader has NO_PERMISSIONS on
    run_id: str
    trace_id: str

    @property
    def url(self) -> str:
        return self.server.url

    def call(self, method: str, path: str, auth: tuple[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.url + path, auth=auth, timeout=30, **kwargs)


def _otlp(trace_hex: str = TRACE_HEX, span: str = "00f067aa0ba902b7") -> str:
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": trace_hex, "spanId": span, "name": "chat",
        "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000500000000",
        "attributes": [{"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}}],
    }]}]}]})


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


@pytest.fixture(params=["sqlite", "postgres"])
def seeded(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Seeded]:
    store_uri = store_uri_for(request.param, request)
    settings = server_settings(tmp_path, store_uri, auth=True)
    monkeypatch.setenv("HERON_ADMIN_PASSWORD", ADMIN[1])
    with BackgroundServer(settings) as server:
        s = Seeded(server, settings.backend_store_uri, "", "", "", TRACE_HEX)
        for user in (READER, EDITOR, MANAGER):
            _ok(s.call("POST", f"{MLFLOW}/users/create", ADMIN, json={"username": user[0], "password": user[1]}))
        s.team = _ok(s.call("POST", f"{MLFLOW}/experiments/create", ADMIN, json={"name": "team"}))["experiment_id"]
        s.private = _ok(s.call("POST", f"{MLFLOW}/experiments/create", ADMIN, json={"name": "private"}))["experiment_id"]
        for user, role, experiment in ((EDITOR, "EDIT", s.team), (MANAGER, "MANAGE", s.team),
                                       (READER, "NO_PERMISSIONS", s.private)):
            _ok(s.call("POST", f"{MLFLOW}/experiments/permissions/create", ADMIN,
                       json={"experiment_id": experiment, "username": user[0], "permission": role}))
        run = _ok(s.call("POST", f"{MLFLOW}/runs/create", EDITOR, json={"experiment_id": s.team}))
        s.run_id = run["run"]["info"]["run_id"]
        _ok(s.call("POST", f"{MLFLOW}/runs/log-batch", EDITOR, json={
            "run_id": s.run_id, "params": [{"key": "lr", "value": "0.1"}],
            "metrics": [{"key": "loss", "value": 0.5, "timestamp": 1, "step": 0}]}))
        assert s.call("PUT", f"/api/2.0/mlflow-artifacts/artifacts/{s.team}/{s.run_id}/artifacts/a.txt", EDITOR,
                      content=b"hello").status_code == 200
        assert s.call("POST", "/v1/traces", EDITOR, content=_otlp(),
                      headers={"content-type": "application/json", "x-heron-experiment-id": s.team}).status_code == 200
        yield s


def _snapshot(db_url: str, artifacts: Path) -> dict[str, Any]:
    """Every row of every table, and every artifact file: what 'nothing changed' compares."""
    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1)
                              if db_url.startswith("postgresql://") else db_url)
    try:
        with engine.connect() as conn:
            rows = {t.name: sorted(map(repr, conn.execute(sa.select(t)))) for t in metadata.sorted_tables}
    finally:
        engine.dispose()
    files = sorted((str(p.relative_to(artifacts)), p.read_bytes()) for p in artifacts.rglob("*") if p.is_file())
    return {"rows": rows, "files": files}


# Write routes a signed-in user may call without any role on a resource: each says why.
SELF_SERVICE = {
    ("POST", f"{MLFLOW}/experiments/create"): "anyone may create an experiment, and then MANAGEs it",
    ("POST", "/api/2.0/heron/tokens/create"): "a user makes their own tokens",
    ("POST", "/api/2.0/heron/tokens/revoke"): "a user revokes their own tokens",
    ("PATCH", f"{MLFLOW}/users/update-password"): "a user changes their own password (not others')",
    ("POST", f"{MLFLOW}/runs/search"): "a search (filtered), not a write",
    ("POST", f"{MLFLOW}/experiments/search"): "a search (filtered), not a write",
    ("POST", "/api/2.0/heron/traces/search"): "a search (filtered), not a write",
    ("POST", f"{MLFLOW}/registered-models/get-latest-versions"): "a read (MLflow's API also takes it as POST)",
}


def _write_routes() -> list[tuple[str, str]]:
    found = []
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute):
                found += [(m, route.path) for m in sorted(route.methods) if m in ("POST", "PUT", "PATCH", "DELETE")]
    return found


def test_every_write_route_refuses_a_read_only_user_and_changes_nothing(seeded: Seeded, tmp_path: Path) -> None:
    s = seeded
    routes = _write_routes()
    assert len(routes) > 30
    assert set(SELF_SERVICE) <= set(routes), "SELF_SERVICE names a route that no longer exists"
    body = {
        "experiment_id": s.team, "experiment_ids": [s.team], "run_id": s.run_id, "run_uuid": s.run_id,
        "name": "model-a", "new_name": "renamed", "username": EDITOR[0], "password": "new-password-1",
        "is_admin": True, "permission": "MANAGE", "key": "k", "value": "v", "timestamp": 1, "step": 0,
        "metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}], "params": [{"key": "p", "value": "1"}],
        "tags": [{"key": "t", "value": "1"}], "trace_ids": [s.trace_id], "max_timestamp_millis": 2**40,
        "status": "FINISHED", "end_time": 2,
    }
    paths = {"{trace_id}": s.trace_id, "{artifact_path:path}": f"{s.team}/{s.run_id}/artifacts/a.txt"}
    # "model-a" exists (a model with a version, a prompt "prompt-a" too), so creating it is a write the
    # reader (default READ) may not do either; prompt routes are called on both names
    _ok(s.call("POST", f"{MLFLOW}/registered-models/create", ADMIN, json={"name": "model-a"}))
    _ok(s.call("POST", f"{MLFLOW}/model-versions/create", ADMIN, json={"name": "model-a", "source": "s3://b/m"}))
    _ok(s.call("POST", "/api/2.0/heron/prompts/versions/create", ADMIN, json={"name": "prompt-a", "template": "x"}))
    before = _snapshot(s.db_url, tmp_path / "server" / "artifacts")
    checked = []
    for method, template in routes:
        if (method, template) in SELF_SERVICE:
            continue
        path = template
        for param, value in paths.items():
            path = path.replace(param, value)
        if template == "/v1/traces":
            r = s.call(method, path, READER, content=_otlp(span="00f067aa0ba902b8"),
                       headers={"content-type": "application/json", "x-heron-experiment-id": s.team})
        elif method == "PUT":
            r = s.call(method, path, READER, content=b"overwritten")
        else:
            names = ["model-a", "prompt-a"] if template.startswith("/api/2.0/heron/prompts/") else ["model-a"]
            for name in names:
                r = s.call(method, path, READER, json={**body, "name": name, "template": "y", "version": "1",
                                                          "alias": "a", "stage": "Production", "source": "s3://b/n"})
                assert r.status_code == 403, (method, template, name, r.status_code, r.text)
                assert r.json()["error_code"] == "PERMISSION_DENIED"
        assert r.status_code == 403, (method, template, r.status_code, r.text)
        assert r.json()["error_code"] == "PERMISSION_DENIED"
        checked.append((method, template))
    assert _snapshot(s.db_url, tmp_path / "server" / "artifacts") == before
    assert len(checked) == len(routes) - len(SELF_SERVICE)
    registry_writes = {t for _, t in checked if "registered-models" in t or "model-versions" in t or "prompts" in t}
    assert len(registry_writes) >= 20, sorted(registry_writes)


def test_every_api_route_is_in_the_table_or_admin_only() -> None:
    """A route added later without a table entry needs an admin: default deny."""
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute):
                for method in route.methods:
                    rule = rule_for(method, route.path, tuple(route.param_convertors))
                    assert not rule.public or route.path in ("/health", "/version", "/static/{name}")
    assert rule_for("POST", "/api/2.0/mlflow/some-future-route").admin
    assert rule_for("GET", "/api/2.0/heron/whatever/{x}").admin


@pytest.mark.parametrize("auth", [None, ("reader", "wrong-password"), ("nobody", "reader-password")])
def test_no_or_wrong_credentials_get_401_with_a_basic_challenge(seeded: Seeded, auth: tuple[str, str] | None) -> None:
    r = seeded.call("GET", f"{MLFLOW}/experiments/get", auth, params={"experiment_id": seeded.team})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Basic ")
    assert r.json()["error_code"] == "UNAUTHENTICATED"
    assert seeded.call("GET", "/health").status_code == 200  # health checks need no credentials


def test_tokens_unknown_and_revoked_get_401(seeded: Seeded) -> None:
    s = seeded
    created = _ok(s.call("POST", "/api/2.0/heron/tokens/create", READER, json={"name": "ci"}))
    secret = created["token"]
    bearer = {"Authorization": f"Bearer {secret}"}
    assert s.call("GET", f"{MLFLOW}/experiments/get", headers=bearer, params={"experiment_id": s.team}).status_code == 200
    listed = _ok(s.call("GET", "/api/2.0/heron/tokens/list", READER))["tokens"]
    assert [t["name"] for t in listed] == ["ci"] and listed[0]["last_used_time"] is not None
    assert secret not in json.dumps(listed)
    unknown = {"Authorization": "Bearer heron_" + "x" * 43}
    r = s.call("GET", f"{MLFLOW}/experiments/get", headers=unknown, params={"experiment_id": s.team})
    assert r.status_code == 401 and "www-authenticate" in r.headers
    # a user cannot revoke someone else's token; the owner can
    assert s.call("POST", "/api/2.0/heron/tokens/revoke", EDITOR, json={"name": "ci", "username": "reader"}).status_code == 403
    _ok(s.call("POST", "/api/2.0/heron/tokens/revoke", READER, json={"name": "ci"}))
    assert s.call("GET", f"{MLFLOW}/experiments/get", headers=bearer, params={"experiment_id": s.team}).status_code == 401


def test_edit_writes_runs_but_cannot_change_permissions_manage_can(seeded: Seeded) -> None:
    s = seeded
    _ok(s.call("POST", f"{MLFLOW}/runs/set-tag", EDITOR, json={"run_id": s.run_id, "key": "k", "value": "v"}))
    grant = {"experiment_id": s.team, "username": "reader", "permission": "EDIT"}
    r = s.call("POST", f"{MLFLOW}/experiments/permissions/create", EDITOR, json=grant)
    assert r.status_code == 403
    assert s.call("POST", f"{MLFLOW}/runs/delete", EDITOR, json={"run_id": s.run_id}).status_code == 403
    _ok(s.call("POST", f"{MLFLOW}/experiments/permissions/create", MANAGER, json=grant))
    _ok(s.call("POST", f"{MLFLOW}/runs/set-tag", READER, json={"run_id": s.run_id, "key": "k", "value": "r"}))
    got = _ok(s.call("GET", f"{MLFLOW}/experiments/permissions/get", MANAGER,
                     params={"experiment_id": s.team, "username": "reader"}))
    assert got["experiment_permission"]["permission"] == "EDIT"
    _ok(s.call("DELETE", f"{MLFLOW}/experiments/permissions/delete", MANAGER,
               json={"experiment_id": s.team, "username": "reader"}))
    assert s.call("POST", f"{MLFLOW}/runs/set-tag", READER,
                  json={"run_id": s.run_id, "key": "k", "value": "x"}).status_code == 403
    # the admin can do everything, including on the reader's forbidden experiment
    _ok(s.call("POST", f"{MLFLOW}/experiments/update", ADMIN, json={"experiment_id": s.private, "new_name": "p2"}))
    _ok(s.call("PATCH", f"{MLFLOW}/users/update-admin", ADMIN, json={"username": "editor", "is_admin": True}))
    _ok(s.call("POST", f"{MLFLOW}/experiments/update", EDITOR, json={"experiment_id": s.private, "new_name": "p3"}))


def test_creator_manages_what_they_create(seeded: Seeded) -> None:
    s = seeded
    mine = _ok(s.call("POST", f"{MLFLOW}/experiments/create", READER, json={"name": "readers-own"}))["experiment_id"]
    _ok(s.call("POST", f"{MLFLOW}/experiments/permissions/create", READER,
               json={"experiment_id": mine, "username": "editor", "permission": "READ"}))
    _ok(s.call("POST", f"{MLFLOW}/experiments/delete", READER, json={"experiment_id": mine}))
    assert s.call("POST", f"{MLFLOW}/experiments/restore", EDITOR, json={"experiment_id": mine}).status_code == 403


def test_searches_show_only_what_the_user_can_read(seeded: Seeded) -> None:
    s = seeded
    _ok(s.call("POST", f"{MLFLOW}/runs/create", ADMIN, json={"experiment_id": s.private}))
    names = {e["name"] for e in _ok(s.call("POST", f"{MLFLOW}/experiments/search", READER, json={}))["experiments"]}
    assert "team" in names and "private" not in names
    names = {e["name"] for e in _ok(s.call("GET", f"{MLFLOW}/experiments/search", ADMIN))["experiments"]}
    assert {"team", "private"} <= names
    runs = _ok(s.call("POST", f"{MLFLOW}/runs/search", READER, json={"experiment_ids": [s.team, s.private]}))["runs"]
    assert {r["info"]["experiment_id"] for r in runs} == {s.team}
    assert _ok(s.call("POST", f"{MLFLOW}/runs/search", READER, json={"experiment_ids": [s.private]})) == {}
    assert len(_ok(s.call("POST", f"{MLFLOW}/runs/search", ADMIN, json={"experiment_ids": [s.private]}))["runs"]) == 1
    traces = _ok(s.call("POST", "/api/2.0/heron/traces/search", READER, json={"experiment_ids": [s.team]}))["traces"]
    assert len(traces) == 1
    assert s.call("POST", "/api/2.0/heron/traces/search", READER,
                  json={"experiment_ids": [s.private]}).json() == {"traces": []}
    # direct reads of the forbidden experiment are refused
    assert s.call("GET", f"{MLFLOW}/experiments/get", READER, params={"experiment_id": s.private}).status_code == 403
    assert s.call("GET", f"{MLFLOW}/experiments/get-by-name", READER,
                  params={"experiment_name": "private"}).status_code == 403


def test_otlp_ingest_needs_edit_on_every_experiment_it_writes(seeded: Seeded) -> None:
    s = seeded
    headers = {"content-type": "application/json", "x-heron-experiment-id": s.team}
    other = "6b8aa5a2d2c872e8321cf37308d69df2"
    assert s.call("POST", "/v1/traces", READER, content=_otlp(other), headers=headers).status_code == 403
    assert s.call("POST", "/v1/traces", EDITOR, content=_otlp(other), headers=headers).status_code == 200
    # the experiment named inside the payload counts too
    payload = json.loads(_otlp("7b8aa5a2d2c872e8321cf37308d69df2"))
    payload["resourceSpans"][0]["resource"] = {"attributes": [
        {"key": "heron.experiment_id", "value": {"stringValue": s.private}}]}
    r = s.call("POST", "/v1/traces", EDITOR, content=json.dumps(payload), headers={"content-type": "application/json"})
    assert r.status_code == 403
    assert s.call("GET", "/api/2.0/heron/traces/7b8aa5a2d2c872e8321cf37308d69df2", ADMIN).status_code == 404


def test_pages_need_login_and_show_only_readable_experiments(seeded: Seeded) -> None:
    s = seeded
    r = s.call("GET", f"/experiments/{s.team}/traces")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic ")
    page = s.call("GET", f"/experiments/{s.team}/traces", READER)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert f"/experiments/{s.private}/traces" not in page.text  # not in the navigation
    assert f"/experiments/{s.private}/traces" in s.call("GET", f"/experiments/{s.team}/traces", ADMIN).text
    refused = s.call("GET", f"/experiments/{s.private}/traces", READER)
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    assert "READ permission" in refused.text
    assert s.call("GET", f"/traces/{s.trace_id}", READER).status_code == 200
    assert s.call("GET", "/static/heron.css").status_code == 200


def test_management_routes_refuse_bad_input_and_write_nothing(seeded: Seeded, tmp_path: Path) -> None:
    s = seeded
    before = _snapshot(s.db_url, tmp_path / "server" / "artifacts")
    cases = [
        ("POST", f"{MLFLOW}/users/create", {"username": "carol", "password": "short"}, 400, "password"),
        ("POST", f"{MLFLOW}/users/create", {"username": "bad:name", "password": "long-enough"}, 400, "username"),
        ("POST", f"{MLFLOW}/users/create", {"password": "long-enough"}, 400, "username"),
        ("POST", f"{MLFLOW}/users/create", {"username": "reader", "password": "long-enough"}, 400, "already exists"),
        ("POST", f"{MLFLOW}/experiments/permissions/create",
         {"experiment_id": s.team, "username": "reader", "permission": "WRITE"}, 400, "permission"),
        ("POST", f"{MLFLOW}/experiments/permissions/create",
         {"experiment_id": "987654", "username": "reader", "permission": "READ"}, 404, "987654"),
        ("POST", f"{MLFLOW}/experiments/permissions/create",
         {"experiment_id": s.team, "username": "ghost", "permission": "READ"}, 404, "ghost"),
        ("PATCH", f"{MLFLOW}/users/update-admin", {"username": "reader", "is_admin": "yes"}, 400, "is_admin"),
        ("POST", f"{MLFLOW}/registered-models/permissions/create",
         {"name": "", "username": "reader", "permission": "READ"}, 400, "name"),
        ("POST", "/api/2.0/heron/tokens/create", {"name": ""}, 400, "name"),
    ]
    for method, path, body, status, word in cases:
        r = s.call(method, path, ADMIN, json=body)
        assert r.status_code == status, (path, body, r.text)
        assert word in r.json()["message"], (path, r.json())
    assert _snapshot(s.db_url, tmp_path / "server" / "artifacts") == before


def test_registered_name_permissions(seeded: Seeded) -> None:
    s = seeded
    grant = {"name": "qa-chain", "username": "reader", "permission": "EDIT"}
    assert s.call("POST", f"{MLFLOW}/registered-models/permissions/create", READER, json=grant).status_code == 403
    _ok(s.call("POST", f"{MLFLOW}/registered-models/permissions/create", ADMIN, json=grant))
    got = _ok(s.call("GET", f"{MLFLOW}/registered-models/permissions/get", ADMIN,
                     params={"name": "qa-chain", "username": "reader"}))
    assert got["registered_model_permission"]["permission"] == "EDIT"
    user = _ok(s.call("GET", f"{MLFLOW}/users/get", READER, params={"username": "reader"}))["user"]
    assert user["registered_model_permissions"] == [{"name": "qa-chain", "user_id": user["id"], "permission": "EDIT"}]
    assert s.call("GET", f"{MLFLOW}/users/get", READER, params={"username": "editor"}).status_code == 403


def test_password_change_takes_effect(seeded: Seeded) -> None:
    s = seeded
    _ok(s.call("PATCH", f"{MLFLOW}/users/update-password", READER,
               json={"username": "reader", "password": "a-new-password"}))
    assert s.call("GET", f"{MLFLOW}/experiments/get", READER, params={"experiment_id": s.team}).status_code == 401
    assert s.call("GET", f"{MLFLOW}/experiments/get", ("reader", "a-new-password"),
                  params={"experiment_id": s.team}).status_code == 200
    _ok(s.call("DELETE", f"{MLFLOW}/users/delete", ADMIN, json={"username": "reader"}))
    assert s.call("GET", f"{MLFLOW}/experiments/get", ("reader", "a-new-password"),
                  params={"experiment_id": s.team}).status_code == 401


def test_auth_without_any_admin_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(HeronError, match="HERON_ADMIN_PASSWORD"):
        create_app(server_settings(tmp_path, auth=True))


def test_bad_default_permission_is_refused() -> None:
    with pytest.raises(HeronError, match="default_permission"):
        Settings(default_permission="WRITE")


_MLFLOW_SCRIPT = """
import json, os, sys
import mlflow
from mlflow import MlflowClient
experiment = mlflow.set_experiment(sys.argv[1])
with mlflow.start_run() as run:
    mlflow.log_param("lr", 0.1)
    mlflow.log_metric("loss", 0.5, step=1)
    path = os.path.join(sys.argv[2], "notes.txt")
    open(path, "w").write("hi")
    mlflow.log_artifact(path)
refused = None
try:
    MlflowClient().set_experiment_tag(sys.argv[3], "k", "v")
except mlflow.exceptions.MlflowException as exc:
    refused = exc.error_code
print(json.dumps({"run_id": run.info.run_id, "experiment_id": experiment.experiment_id, "refused": refused,
                  "artifacts": [f.path for f in MlflowClient().list_artifacts(run.info.run_id)]}))
"""


@pytest.mark.parametrize("how", ["basic", "token"])
def test_the_mlflow_client_signs_in_with_its_own_variables(seeded: Seeded, tmp_path: Path, how: str) -> None:
    pytest.importorskip("mlflow")
    s = seeded
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    env.update(MLFLOW_TRACKING_URI=s.url, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true",
               MLFLOW_HTTP_REQUEST_MAX_RETRIES="0", GIT_PYTHON_REFRESH="quiet")
    if how == "basic":
        env.update(MLFLOW_TRACKING_USERNAME=EDITOR[0], MLFLOW_TRACKING_PASSWORD=EDITOR[1])
    else:
        env["MLFLOW_TRACKING_TOKEN"] = _ok(s.call("POST", "/api/2.0/heron/tokens/create", EDITOR,
                                                  json={"name": "mlflow"}))["token"]
    proc = subprocess.run([sys.executable, "-c", _MLFLOW_SCRIPT, f"by-mlflow-{how}", str(tmp_path), s.private],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["artifacts"] == ["notes.txt"] and out["refused"] == "PERMISSION_DENIED"
    run = _ok(s.call("GET", f"{MLFLOW}/runs/get", ADMIN, params={"run_id": out["run_id"]}))["run"]
    assert run["data"]["params"] == [{"key": "lr", "value": "0.1"}]
    # the editor created the experiment, so they MANAGE it
    got = _ok(s.call("GET", f"{MLFLOW}/experiments/permissions/get", ADMIN,
                     params={"experiment_id": out["experiment_id"], "username": "editor"}))
    assert got["experiment_permission"]["permission"] == "MANAGE"
    # without credentials the same client is refused
    del env["MLFLOW_TRACKING_TOKEN" if how == "token" else "MLFLOW_TRACKING_USERNAME"]
    proc = subprocess.run([sys.executable, "-c", _MLFLOW_SCRIPT, f"again-{how}", str(tmp_path), s.private],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert proc.returncode != 0 and ("401" in proc.stderr or "UNAUTHENTICATED" in proc.stderr)


@pytest.mark.parametrize("how", ["basic", "token"])
def test_heron_client_signs_in_with_heron_variables(seeded: Seeded, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    s = seeded
    if how == "basic":
        monkeypatch.setenv("HERON_TRACKING_USERNAME", EDITOR[0])
        monkeypatch.setenv("HERON_TRACKING_PASSWORD", EDITOR[1])
    else:
        token = _ok(s.call("POST", "/api/2.0/heron/tokens/create", EDITOR, json={"name": "heron"}))["token"]
        monkeypatch.setenv("HERON_TRACKING_TOKEN", token)
    heron.set_tracking_uri(s.url)
    heron.set_experiment("team")
    with heron.start_run() as run:
        heron.log_metric("acc", 0.75)
    assert heron.get_run(run.info.run_id).data.metrics["acc"] == 0.75
    with pytest.raises(HeronError) as refused:
        heron.MlflowClient().set_experiment_tag(s.private, "k", "v")
    assert refused.value.error_code == "PERMISSION_DENIED"
    if how == "basic":
        monkeypatch.setenv("HERON_TRACKING_PASSWORD", "wrong-password")
    else:
        monkeypatch.setenv("HERON_TRACKING_TOKEN", "heron_wrong")
    with pytest.raises(HeronError) as unknown:
        heron.get_run(run.info.run_id)
    assert unknown.value.error_code == "UNAUTHENTICATED"


def test_auth_silences_the_exposure_warning_and_the_flags_exist() -> None:
    assert exposure_warning(Settings(host="0.0.0.0")) is not None
    assert exposure_warning(Settings(host="0.0.0.0", auth=True)) is None
    helptext = subprocess.run([sys.executable, "-m", "heron.cli", "server", "--help"], capture_output=True,
                              text=True, check=True).stdout
    assert "--auth" in helptext and "--default-permission" in helptext and "--admin-user" in helptext
    env = Settings(auth=True, default_permission="EDIT", admin_username="root").to_env()
    os.environ.update(env)
    try:
        rebuilt = Settings.from_env()
    finally:
        for name in env:
            del os.environ[name]
    assert (rebuilt.auth, rebuilt.default_permission, rebuilt.admin_username) == (True, "EDIT", "root")


def test_registry_and_prompt_routes_key_on_the_name() -> None:
    """The registry and prompt routes' table entries, as data (tests/server/test_registry_auth.py runs them)."""
    create = rule_for("POST", f"{MLFLOW}/registered-models/create")
    assert create.kind == "registered_model" and create.source == "name" and create.creates
    assert rule_for("DELETE", f"{MLFLOW}/registered-models/delete").role.name == "MANAGE"
    assert rule_for("POST", f"{MLFLOW}/model-versions/transition-stage").role.name == "EDIT"
    assert rule_for("GET", f"{MLFLOW}/registered-models/alias").role.name == "READ"
    assert rule_for("POST", f"{MLFLOW}/registered-models/alias").role.name == "EDIT"
    assert rule_for("GET", "/api/2.0/heron/registered-models/resolve").role.name == "READ"
    assert rule_for("GET", "/api/2.0/heron/prompts/versions/load").role.name == "READ"
    assert rule_for("POST", "/api/2.0/heron/prompts/versions/create").creates
    assert not rule_for("POST", f"{MLFLOW}/model-versions/create").creates
    assert rule_for("DELETE", "/api/2.0/heron/prompts/delete").role.name == "MANAGE"
    assert rule_for("DELETE", "/api/2.0/heron/prompts/versions/delete").role.name == "MANAGE"
    assert rule_for("GET", "/api/2.0/heron/prompts/search").source == "filtered"
    assert rule_for("GET", "/api/2.0/heron/prompts/versions/search").source == "filtered"
    # a prompt route not in the table is admin-only, like any other /api/ route
    assert rule_for("POST", "/api/2.0/heron/prompts/some-future-route").admin
    # pages added later need READ on what their path names
    assert rule_for("GET", "/runs/{run_id}", ("run_id",)).source == "run_id"
    assert rule_for("GET", "/models/{name}", ("name",)).kind == "registered_model"


@pytest.mark.parametrize("default", ["NO_PERMISSIONS", "EDIT"])
def test_the_default_permission_applies_where_none_was_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             default: str) -> None:
    monkeypatch.setenv("HERON_ADMIN_PASSWORD", ADMIN[1])
    with BackgroundServer(server_settings(tmp_path, auth=True, default_permission=default)) as server:
        def call(method: str, path: str, auth: tuple[str, str], **kwargs: Any) -> httpx.Response:
            return httpx.request(method, server.url + path, auth=auth, timeout=30, **kwargs)

        _ok(call("POST", f"{MLFLOW}/users/create", ADMIN, json={"username": READER[0], "password": READER[1]}))
        seen = call("GET", f"{MLFLOW}/experiments/search", READER).json().get("experiments", [])
        created = call("POST", f"{MLFLOW}/runs/create", READER, json={"experiment_id": "0"})
        if default == "EDIT":
            assert [e["name"] for e in seen] == ["Default"] and created.status_code == 200
        else:
            assert seen == [] and created.status_code == 403
            assert call("GET", f"{MLFLOW}/experiments/get", READER, params={"experiment_id": "0"}).status_code == 403
