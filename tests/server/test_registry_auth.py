"""The registry and prompt routes under ``heron server --auth``, over real HTTP on SQLite and PostgreSQL:
roles keyed on the name, searches filtered to readable names, the creator's MANAGE, permissions following
a rename and cleared by a delete, and a non-admin with EDIT on a name using the real Heron and MLflow
clients."""

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
from fastapi.routing import APIRoute

import heron
from heron import MlflowClient
from heron.errors import HeronError
from heron.server import BackgroundServer
from heron.server.app import ROUTERS
from heron.server.policy import FILTERED, rule_for
from tests.server.conftest import server_settings, store_uri_for

ADMIN = ("admin", "admin-password")
ALICE = ("alice", "alice-password")  # EDIT on shared-model and shared-prompt; nothing else (default NONE)
MLFLOW = "/api/2.0/mlflow"
RM = f"{MLFLOW}/registered-models"
MV = f"{MLFLOW}/model-versions"
PROMPTS = "/api/2.0/heron/prompts"


@dataclass
class Registry:
    server: BackgroundServer

    def call(self, method: str, path: str, auth: tuple[str, str] | None = ALICE, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.server.url + path, auth=auth, timeout=30, **kwargs)

    def ok(self, method: str, path: str, auth: tuple[str, str] | None = ALICE, **kwargs: Any) -> dict[str, Any]:
        r = self.call(method, path, auth, **kwargs)
        assert r.status_code == 200, (path, r.text)
        found: dict[str, Any] = r.json()
        return found

    def denied(self, method: str, path: str, **kwargs: Any) -> None:
        r = self.call(method, path, ALICE, **kwargs)
        assert r.status_code == 403 and r.json()["error_code"] == "PERMISSION_DENIED", (path, r.text)


@pytest.fixture(params=["sqlite", "postgres"])
def registry(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    store_uri = store_uri_for(request.param, request)
    monkeypatch.setenv("HERON_ADMIN_PASSWORD", ADMIN[1])
    with BackgroundServer(server_settings(tmp_path, store_uri, auth=True, default_permission="NO_PERMISSIONS")) as server:
        r = Registry(server)
        r.ok("POST", f"{MLFLOW}/users/create", ADMIN, json={"username": ALICE[0], "password": ALICE[1]})
        for name in ("shared-model", "secret-model"):
            r.ok("POST", f"{RM}/create", ADMIN, json={"name": name})
            r.ok("POST", f"{MV}/create", ADMIN, json={"name": name, "source": f"s3://bucket/{name}"})
        for name in ("shared-prompt", "secret-prompt"):
            r.ok("POST", f"{PROMPTS}/versions/create", ADMIN, json={"name": name, "template": "Hi {{ who }}"})
        for name in ("shared-model", "shared-prompt"):
            r.ok("POST", f"{RM}/permissions/create", ADMIN,
                 json={"name": name, "username": ALICE[0], "permission": "EDIT"})
        yield r


def test_roles_key_on_the_name_and_searches_show_only_readable_names(registry: Registry) -> None:
    r = registry
    assert r.ok("GET", f"{RM}/get", params={"name": "shared-model"})["registered_model"]["name"] == "shared-model"
    r.denied("GET", f"{RM}/get", params={"name": "secret-model"})
    shared = r.ok("GET", "/api/2.0/heron/registered-models/resolve", params={"name": "shared-model"})
    assert shared["model_version"]["version"] == "1"
    r.denied("GET", "/api/2.0/heron/registered-models/resolve", params={"name": "secret-model"})
    r.denied("GET", f"{PROMPTS}/versions/load", params={"name": "secret-prompt"})
    r.denied("POST", f"{PROMPTS}/versions/create", json={"name": "secret-prompt", "template": "x"})
    r.denied("POST", f"{RM}/create", json={"name": "secret-model"})  # an existing name is not "created"
    # EDIT is not MANAGE: no deleting, no renaming, no granting
    r.denied("DELETE", f"{RM}/delete", json={"name": "shared-model"})
    r.denied("DELETE", f"{PROMPTS}/delete", json={"name": "shared-prompt"})
    r.denied("DELETE", f"{PROMPTS}/versions/delete", json={"name": "shared-prompt", "version": "1"})
    r.denied("POST", f"{RM}/rename", json={"name": "shared-model", "new_name": "taken-over"})

    assert [m["name"] for m in r.ok("GET", f"{RM}/search")["registered_models"]] == ["shared-model"]
    assert {v["name"] for v in r.ok("GET", f"{MV}/search")["model_versions"]} == {"shared-model"}
    assert r.ok("GET", f"{MV}/search", params={"filter": "name = 'secret-model'"}) == {}
    assert [p["name"] for p in r.ok("GET", f"{PROMPTS}/search")["prompts"]] == ["shared-prompt"]
    assert {v["name"] for v in r.ok("GET", f"{PROMPTS}/versions/search")["prompt_versions"]} == {"shared-prompt"}
    # an admin still sees everything
    admin = r.ok("GET", f"{RM}/search", ADMIN)["registered_models"]
    assert sorted(m["name"] for m in admin) == ["secret-model", "shared-model"]


def test_creator_manages_rename_moves_and_delete_clears_permissions(registry: Registry) -> None:
    r = registry
    r.ok("POST", f"{RM}/create", json={"name": "alices-model"})
    got = r.ok("GET", f"{RM}/permissions/get", ADMIN, params={"name": "alices-model", "username": "alice"})
    assert got["registered_model_permission"]["permission"] == "MANAGE"
    r.ok("POST", f"{RM}/rename", json={"name": "alices-model", "new_name": "alices-renamed"})
    moved = r.ok("GET", f"{RM}/permissions/get", ADMIN, params={"name": "alices-renamed", "username": "alice"})
    assert moved["registered_model_permission"]["permission"] == "MANAGE"
    assert r.call("GET", f"{RM}/permissions/get", ADMIN,
                  params={"name": "alices-model", "username": "alice"}).status_code == 404
    r.ok("DELETE", f"{RM}/delete", json={"name": "alices-renamed"})
    # someone else creates that name again: alice's old MANAGE does not come back
    r.ok("POST", f"{RM}/create", ADMIN, json={"name": "alices-renamed"})
    r.denied("GET", f"{RM}/get", params={"name": "alices-renamed"})

    r.ok("POST", f"{PROMPTS}/versions/create", json={"name": "alices-prompt", "template": "Q: {{ q }}"})
    got = r.ok("GET", f"{RM}/permissions/get", ADMIN, params={"name": "alices-prompt", "username": "alice"})
    assert got["registered_model_permission"]["permission"] == "MANAGE"
    r.ok("DELETE", f"{PROMPTS}/delete", json={"name": "alices-prompt"})
    assert r.call("GET", f"{RM}/permissions/get", ADMIN,
                  params={"name": "alices-prompt", "username": "alice"}).status_code == 404


def test_a_failed_create_grants_nothing(registry: Registry) -> None:
    r = registry
    bad = r.call("POST", f"{PROMPTS}/versions/create", json={"name": "no-template"})
    assert bad.status_code == 400 and "template" in bad.text
    assert r.call("GET", f"{RM}/permissions/get", ADMIN,
                  params={"name": "no-template", "username": "alice"}).status_code == 404
    assert r.call("POST", f"{MV}/create", json={"name": "ghost", "source": "s3://b/x"}).status_code == 403


def test_the_heron_client_with_edit_on_a_name(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_TRACKING_USERNAME", ALICE[0])
    monkeypatch.setenv("HERON_TRACKING_PASSWORD", ALICE[1])
    heron.set_tracking_uri(registry.server.url)
    version = heron.register_model("s3://bucket/shared-model-2", "shared-model")
    assert version.version == 2
    client = MlflowClient()
    client.set_registered_model_alias("shared-model", "champion", version.version)
    assert client.get_model_version_by_alias("shared-model", "champion").source == "s3://bucket/shared-model-2"
    assert heron.registry.get_underlying_uri("models:/shared-model@champion") == "s3://bucket/shared-model-2"
    heron.register_prompt("shared-prompt", "Hello {{ who }}!")
    heron.set_prompt_alias("shared-prompt", "production", 2)
    loaded = heron.load_prompt("prompts:/shared-prompt@production")
    assert loaded is not None and loaded.format(who="Ada") == "Hello Ada!"
    assert [m.name for m in client.search_registered_models()] == ["shared-model"]
    for refused in (lambda: heron.register_model("s3://b/x", "secret-model"),
                    lambda: heron.load_prompt("prompts:/secret-prompt/1"),
                    lambda: client.set_registered_model_alias("secret-model", "a", 1)):
        with pytest.raises(HeronError) as exc:
            refused()
        assert exc.value.error_code == "PERMISSION_DENIED"
    after = registry.ok("GET", f"{RM}/get", ADMIN, params={"name": "secret-model"})["registered_model"]
    assert "aliases" not in after and after["latest_versions"][0]["version"] == "1"


_MLFLOW_SCRIPT = """
import json
import mlflow
from mlflow import MlflowClient
client = MlflowClient()
created = client.create_model_version("shared-model", "s3://bucket/by-mlflow")
client.set_registered_model_alias("shared-model", "staging", created.version)
found = client.get_model_version_by_alias("shared-model", "staging")
registered = mlflow.register_model("s3://bucket/by-mlflow-2", "shared-model")
names = [m.name for m in client.search_registered_models()]
refused = None
try:
    client.set_registered_model_alias("secret-model", "staging", "1")
except mlflow.exceptions.MlflowException as exc:
    refused = exc.error_code
print(json.dumps({"version": found.version, "source": found.source, "registered": registered.version,
                  "names": names, "refused": refused}))
"""


def test_the_mlflow_client_with_edit_on_a_name(registry: Registry, tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    env.update(MLFLOW_TRACKING_URI=registry.server.url, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true",
               MLFLOW_HTTP_REQUEST_MAX_RETRIES="0", GIT_PYTHON_REFRESH="quiet",
               MLFLOW_TRACKING_USERNAME=ALICE[0], MLFLOW_TRACKING_PASSWORD=ALICE[1])
    proc = subprocess.run([sys.executable, "-c", _MLFLOW_SCRIPT], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"version": "2", "source": "s3://bucket/by-mlflow", "registered": "3",
                   "names": ["shared-model"], "refused": "PERMISSION_DENIED"}
    alias = registry.ok("GET", f"{RM}/alias", ADMIN, params={"name": "shared-model", "alias": "staging"})
    assert alias["model_version"]["version"] == "2"


def test_every_registry_and_prompt_route_has_its_own_rule() -> None:
    """None of them falls through to the admin-only default: each keys on the name, or filters."""
    checked = 0
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute) and any(part in route.path for part in (
                    "/registered-models/", "/model-versions/", "/heron/prompts/")) and "/permissions/" not in route.path:
                for method in route.methods:
                    rule = rule_for(method, route.path)
                    assert not rule.admin and (rule.source == FILTERED or rule.kind == "registered_model"), route.path
                    checked += 1
    assert checked >= 35
