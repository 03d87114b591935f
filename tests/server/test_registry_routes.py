"""The registry routes over plain HTTP: MLflow's paths and JSON shapes, Heron's prompt routes, and bad
input answered with a clear 4xx naming the field, with nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from heron.server import BackgroundServer
from tests.server.conftest import server_settings

RM = "/api/2.0/mlflow/registered-models"
MV = "/api/2.0/mlflow/model-versions"
PROMPTS = "/api/2.0/heron/prompts"


@pytest.fixture
def http(tmp_path: Path) -> Iterator[httpx.Client]:
    """An HTTP client on a live server holding model 'm' (versions 1 and 2, alias champion -> 1) and
    prompt 'p' (one version)."""
    with BackgroundServer(server_settings(tmp_path)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.post(f"{RM}/create", json={"name": "m", "tags": [{"key": "team", "value": "risk"}]}).status_code == 200
        for i in (1, 2):
            assert client.post(f"{MV}/create", json={"name": "m", "source": f"s3://b/{i}"}).status_code == 200
        assert client.post(f"{RM}/alias", json={"name": "m", "alias": "champion", "version": "1"}).status_code == 200
        assert client.post(f"{PROMPTS}/versions/create", json={"name": "p", "template": "Hi {{ x }}"}).status_code == 200
        yield client


def _state(http: httpx.Client) -> dict[str, Any]:
    """Everything the registry holds, read over HTTP."""
    models = http.get(f"{RM}/search").json()
    versions = http.get(f"{MV}/search").json()
    prompts = http.get(f"{PROMPTS}/search").json()
    prompt_versions = http.get(f"{PROMPTS}/versions/search").json()
    return {"models": models, "versions": versions, "prompts": prompts, "prompt_versions": prompt_versions}


def _error(response: httpx.Response, status: int, code: str, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"} and body["error_code"] == code, body
    for word in words:
        assert word in body["message"], body["message"]


def test_registered_model_and_version_shapes_are_mlflows(http: httpx.Client) -> None:
    model = http.get(f"{RM}/get", params={"name": "m"}).json()["registered_model"]
    assert model["name"] == "m" and model["tags"] == [{"key": "team", "value": "risk"}]
    assert model["aliases"] == [{"alias": "champion", "version": "1"}]
    assert [v["version"] for v in model["latest_versions"]] == ["2"]  # newest per stage, versions as strings
    version = http.get(f"{RM}/alias", params={"name": "m", "alias": "champion"}).json()["model_version"]
    assert {k: version[k] for k in ("name", "version", "source", "current_stage", "status", "aliases")} == {
        "name": "m",
        "version": "1",
        "source": "s3://b/1",
        "current_stage": "None",
        "status": "READY",
        "aliases": ["champion"],
    }
    # MLflow's methods: PATCH to update, DELETE with a JSON body, GET and POST for latest versions.
    updated = http.patch(f"{MV}/update", json={"name": "m", "version": "2", "description": "retrained"})
    assert updated.json()["model_version"]["description"] == "retrained"
    moved = http.post(f"{MV}/transition-stage", json={"name": "m", "version": "2", "stage": "production", "archive_existing_versions": True})
    assert moved.json()["model_version"]["current_stage"] == "Production"
    latest = http.get(f"{RM}/get-latest-versions", params={"name": "m", "stages": ["Production"]}).json()
    assert [v["version"] for v in latest["model_versions"]] == ["2"]
    assert http.post(f"{RM}/get-latest-versions", json={"name": "m", "stages": ["Staging"]}).json() == {}
    assert http.get(f"{MV}/get-download-uri", params={"name": "m", "version": "2"}).json() == {"artifact_uri": "s3://b/2"}
    assert http.request("DELETE", f"{RM}/alias", json={"name": "m", "alias": "champion"}).json() == {}
    assert http.request("DELETE", f"{MV}/delete", json={"name": "m", "version": "1"}).json() == {}
    found = http.get(f"{MV}/search", params={"filter": "name = 'm'"}).json()["model_versions"]
    assert [v["version"] for v in found] == ["2"]
    # Prompts never appear among models, nor models among prompts.
    assert [m["name"] for m in http.get(f"{RM}/search").json()["registered_models"]] == ["m"]
    assert [p["name"] for p in http.get(f"{PROMPTS}/search").json()["prompts"]] == ["p"]


def test_prompt_routes_register_load_alias_and_delete(http: httpx.Client) -> None:
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "{{ q }}"}]
    created = http.post(
        f"{PROMPTS}/versions/create",
        json={"name": "p", "template": chat, "commit_message": "chat", "response_format": {"type": "object"}},
    ).json()["prompt_version"]
    assert created["version"] == "2" and created["description"] == "chat"
    assert created["prompt"]["template_type"] == "chat" and created["prompt"]["response_format"] == '{"type": "object"}'
    assert http.post(f"{PROMPTS}/alias", json={"name": "p", "alias": "production", "version": 1}).json() == {}
    by_alias = http.get(f"{PROMPTS}/versions/load", params={"name": "p", "alias": "production"}).json()
    assert by_alias["prompt_version"]["prompt"]["text"] == "Hi {{ x }}"
    newest = http.get(f"{PROMPTS}/versions/load", params={"name": "p"}).json()["prompt_version"]
    assert newest["version"] == "2"
    assert http.post(f"{PROMPTS}/versions/set-tag", json={"name": "p", "version": "2", "key": "k", "value": "v"}).json() == {}
    assert http.get(f"{PROMPTS}/versions/get", params={"name": "p", "version": "2"}).json()["prompt_version"]["tags"] == [
        {"key": "k", "value": "v"}
    ]
    assert http.request("DELETE", f"{PROMPTS}/versions/delete", json={"name": "p", "version": "1"}).json() == {}
    assert http.get(f"{PROMPTS}/get", params={"name": "p"}).json()["prompt"].get("aliases") is None
    assert http.request("DELETE", f"{PROMPTS}/delete", json={"name": "p"}).json() == {}
    _error(http.get(f"{PROMPTS}/get", params={"name": "p"}), 404, "RESOURCE_DOES_NOT_EXIST", "Prompt 'p' does not exist")


@pytest.mark.parametrize(
    ("method", "path", "payload", "words"),
    [
        ("POST", f"{RM}/create", {}, ["'name'"]),
        ("POST", f"{RM}/create", {"name": 3}, ["'name'", "valid string"]),
        ("POST", f"{RM}/create", {"name": "n", "tags": {"k": "v"}}, ["'tags'"]),
        ("POST", f"{RM}/create", {"name": "n", "tags": [{"key": "k"}]}, ["'tags[0].value'"]),
        ("POST", f"{RM}/create", {"name": "a/b"}, ["must not contain '/' or '@'"]),
        ("POST", f"{RM}/create", {"name": "n\u0000"}, ["'name'", "NUL"]),
        ("POST", f"{RM}/rename", {"name": "m"}, ["'new_name'"]),
        ("PATCH", f"{RM}/update", {"name": "m", "description": ["x"]}, ["'description'"]),
        ("POST", f"{RM}/alias", {"name": "m", "alias": "prod", "version": "one"}, ["Invalid version 'one'"]),
        ("POST", f"{RM}/alias", {"name": "m", "alias": "prod", "version": 1.5}, ["'version'"]),
        ("POST", f"{RM}/alias", {"name": "m", "alias": "3", "version": 1}, ["must not look like a version number"]),
        ("POST", f"{RM}/alias", {"alias": "prod", "version": 1}, ["'name'"]),
        ("POST", f"{MV}/create", {"name": "m"}, ["'source'"]),
        ("POST", f"{MV}/create", {"name": "m", "source": "s3://x", "tags": [{"key": "", "value": "v"}]}, ["Tag"]),
        ("POST", f"{MV}/transition-stage", {"name": "m", "version": "1", "stage": "Prod"}, ["None, Staging, Production, Archived"]),
        ("POST", f"{MV}/transition-stage", {"name": "m", "version": "0", "stage": "Staging"}, ["version numbers start at 1"]),
        ("POST", f"{MV}/transition-stage", {"name": "m", "version": "1", "stage": "Staging", "archive_existing_versions": "maybe"}, ["'archive_existing_versions'"]),
        ("POST", f"{MV}/set-tag", {"name": "m", "version": True, "key": "k", "value": "v"}, ["'version'"]),
        ("DELETE", f"{MV}/delete", {"name": "m", "version": "-1"}, ["Invalid version '-1'"]),
        ("DELETE", f"{RM}/delete", {}, ["'name'"]),
        ("POST", f"{PROMPTS}/versions/create", {"name": "p", "template": 42}, ["'template'"]),
        ("POST", f"{PROMPTS}/versions/create", {"name": "p", "template": []}, ["'template'"]),
        ("POST", f"{PROMPTS}/versions/create", {"name": "p", "template": "x", "template_format": "mustache"}, ["Unknown template_format 'mustache'"]),
        ("POST", f"{PROMPTS}/versions/create", {"name": "my prompt", "template": "x"}, ["letters, digits"]),
        ("POST", f"{PROMPTS}/alias", {"name": "p", "alias": "latest", "version": "1"}, ["reserved"]),
    ],
)
def test_bad_bodies_are_refused_naming_the_field_and_write_nothing(
    http: httpx.Client, method: str, path: str, payload: dict[str, Any], words: list[str]
) -> None:
    before = _state(http)
    _error(http.request(method, path, json=payload), 400, "INVALID_PARAMETER_VALUE", *words)
    assert _state(http) == before


@pytest.mark.parametrize(
    ("path", "query", "words"),
    [
        (f"{RM}/get", {}, ["'name'"]),
        (f"{MV}/get", {"name": "m", "version": "abc"}, ["Invalid version 'abc'"]),
        (f"{MV}/get", {"name": "m"}, ["'version'"]),
        (f"{RM}/search", {"max_results": "lots"}, ["'max_results'"]),
        (f"{RM}/search", {"max_results": "0"}, ["'max_results'"]),
        (f"{RM}/search", {"filter": "name = 'm'; DROP TABLE registered_models"}, ["Invalid filter", "';'"]),
        (f"{RM}/search", {"filter": "name = 'm' OR 1=1"}, ["Invalid filter"]),
        (f"{MV}/search", {"filter": "version_number > '1' --"}, ["Invalid filter"]),
        (f"{RM}/search", {"page_token": "not-a-token"}, ["page token"]),
        (f"{PROMPTS}/versions/load", {"name": "p", "version": "1", "alias": "a"}, ["at most one of version, alias and stage"]),
        ("/api/2.0/heron/registered-models/resolve", {"name": "m", "stage": "Prod"}, ["None, Staging, Production, Archived"]),
    ],
)
def test_bad_queries_are_refused(http: httpx.Client, path: str, query: dict[str, str], words: list[str]) -> None:
    _error(http.get(path, params=query), 400, "INVALID_PARAMETER_VALUE", *words)


def test_sql_looking_values_are_just_characters(http: httpx.Client) -> None:
    before = _state(http)
    found = http.get(f"{RM}/search", params={"filter": "name = 'm'' OR ''1''=''1'"}).json()
    assert found == {}
    assert _state(http) == before
    assert http.get(f"{RM}/search", params={"filter": "name = 'm'"}).json()["registered_models"][0]["name"] == "m"


def test_missing_things_are_404(http: httpx.Client) -> None:
    _error(http.get(f"{RM}/get", params={"name": "nope"}), 404, "RESOURCE_DOES_NOT_EXIST", "'nope' does not exist")
    _error(http.get(f"{MV}/get", params={"name": "m", "version": "9"}), 404, "RESOURCE_DOES_NOT_EXIST", "no version 9")
    _error(http.get(f"{RM}/alias", params={"name": "m", "alias": "gone"}), 404, "RESOURCE_DOES_NOT_EXIST", "no alias 'gone'")
    _error(http.post(f"{MV}/create", json={"name": "nope", "source": "s3://x"}), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(http.post(f"{RM}/create", json={"name": "p"}), 400, "RESOURCE_ALREADY_EXISTS", "used by a prompt")


def test_mlflows_not_a_prompt_clause_means_no_such_tag_or_not_true(http: httpx.Client) -> None:
    tag = {"key": "mlflow.prompt.is_prompt", "value": "true"}
    assert http.post(f"{RM}/create", json={"name": "mlflow-prompt", "tags": [tag]}).status_code == 200

    def names(flt: str | None) -> list[str]:
        found = http.get(f"{RM}/search", params={"filter": flt} if flt else {}).json()
        return sorted(m["name"] for m in found.get("registered_models", ()))

    clause = "tag.`mlflow.prompt.is_prompt` != 'true'"
    assert names(clause) == ["m"]  # 'm' has no such tag: MLflow's store returns it, and so does Heron
    assert names(f"name LIKE '%m%' AND {clause}") == ["m"]
    assert names(None) == ["m", "mlflow-prompt"]
    assert names("tags.`mlflow.prompt.is_prompt` = 'true'") == ["mlflow-prompt"]
