"""Pages with ``heron server --auth``: in a real browser (Playwright driving Debian's Chromium) the
browser's login, the navigation showing only readable experiments, and the 403 page; over HTTP, every page
route of the app visited by a user with READ on one experiment, model and prompt (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from heron.server import BackgroundServer, policy
from tests.server.conftest import server_settings, store_uri_for

MLFLOW = "/api/2.0/mlflow"
ADMIN = ("admin", "admin-password")
READER = ("reader", "reader-password")


@pytest.fixture
def auth_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[BackgroundServer, str, str]]:
    monkeypatch.setenv("HERON_ADMIN_PASSWORD", ADMIN[1])
    with BackgroundServer(server_settings(tmp_path, auth=True)) as server:
        c = httpx.Client(base_url=server.url, auth=ADMIN)
        c.post(f"{MLFLOW}/users/create", json={"username": READER[0], "password": READER[1]}).raise_for_status()
        shared = c.post(f"{MLFLOW}/experiments/create", json={"name": "shared-exp"}).json()["experiment_id"]
        secret = c.post(f"{MLFLOW}/experiments/create", json={"name": "secret-exp"}).json()["experiment_id"]
        c.post(f"{MLFLOW}/experiments/permissions/create",
               json={"experiment_id": secret, "username": READER[0], "permission": "NO_PERMISSIONS"}).raise_for_status()
        yield server, shared, secret


def test_browser_login_navigation_and_403(browser: Any, auth_server: tuple[BackgroundServer, str, str]) -> None:  # noqa: F811
    server, shared, secret = auth_server
    anonymous = browser.new_context()
    try:  # Chromium shows its own login prompt for a 401; its request API sees the answer itself
        refused = anonymous.request.get(f"{server.url}/experiments/{shared}/traces")
        assert refused.status == 401 and refused.headers["www-authenticate"].startswith("Basic")
    finally:
        anonymous.close()
    context = browser.new_context(http_credentials={"username": READER[0], "password": READER[1]})
    try:
        page = context.new_page()
        response = page.goto(f"{server.url}/experiments/{shared}/traces")
        assert response.status == 200
        nav = page.locator("nav.sidebar").inner_text()
        assert "shared-exp" in nav and "secret-exp" not in nav
        assert page.goto(f"{server.url}/experiments/{secret}/traces").status == 403
        assert "READ permission" in page.content()
    finally:
        context.close()
    admin = browser.new_context(http_credentials={"username": ADMIN[0], "password": ADMIN[1]})
    try:
        page = admin.new_page()
        assert page.goto(f"{server.url}/experiments/{secret}/traces").status == 200
        assert "secret-exp" in page.locator("nav.sidebar").inner_text()
    finally:
        admin.close()


# ---------------------------------------------------------------------------------- every page route

SHARED_TRACE, SECRET_TRACE = "5b8aa5a2d2c872e8321cf37308d69d01", "5b8aa5a2d2c872e8321cf37308d69d02"
SHARED_SPAN, SECRET_SPAN = "00f067aa0ba90201", "00f067aa0ba90202"
SKIPPED = ("/api/", "/v1/", "/docs", "/redoc", "/openapi")  # the REST API: tests/server/test_auth.py


def _otlp(trace_hex: str, span: str, word: str) -> str:
    def attr(key: str, value: str) -> dict[str, Any]:
        return {"key": key, "value": {"stringValue": value}}

    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": trace_hex, "spanId": span, "name": f"{word}-span",
        "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000500000000",
        "attributes": [attr("gen_ai.request.model", "gpt-4o-mini"), attr("session.id", f"{word}-session"),
                       attr("heron.trace.tags", json.dumps({"heron.prompt.shared-prompt": "1", "who": word})),
                       attr("heron.span.inputs", json.dumps({"question": f"{word} question"}))],
    }]}]}]})


@dataclass
class Seeded:
    url: str
    routes: list[tuple[str, tuple[str, ...]]]  # every GET page route of the app: path template, parameters
    shared: dict[str, str]  # the value of each path parameter naming what the reader may READ
    secret: dict[str, str]  # ... and naming what they may not
    shared_runs: list[str]
    secret_run: str


@pytest.fixture(params=["sqlite", "postgres"])
def seeded_pages(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Seeded]:
    store_uri = store_uri_for(request.param, request)
    monkeypatch.setenv("HERON_ADMIN_PASSWORD", ADMIN[1])
    apps: list[Any] = []

    def keep(app: Any) -> Any:
        apps.append(app)
        return app

    settings = server_settings(tmp_path, store_uri, auth=True, default_permission="NO_PERMISSIONS")
    with BackgroundServer(settings, wrap=keep) as server:
        c = httpx.Client(base_url=server.url, auth=ADMIN, timeout=30)

        def ok(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
            r = c.request(method, path, **kwargs)
            assert r.status_code == 200, (path, r.text)
            found: dict[str, Any] = r.json()
            return found

        ok("POST", f"{MLFLOW}/users/create", json={"username": READER[0], "password": READER[1]})
        ids, runs = {}, {}
        for word in ("shared", "secret"):
            ids[word] = ok("POST", f"{MLFLOW}/experiments/create", json={"name": f"{word}-exp"})["experiment_id"]
            runs[word] = [ok("POST", f"{MLFLOW}/runs/create", json={"experiment_id": ids[word],
                                                                     "run_name": f"{word}-run-{i}"})["run"]["info"]["run_id"]
                          for i in (1, 2)]
            for run_id in runs[word]:
                ok("POST", f"{MLFLOW}/runs/log-batch", json={
                    "run_id": run_id, "params": [{"key": f"{word}-param", "value": f"{word}-value"}],
                    "metrics": [{"key": f"{word}-loss", "value": 0.5, "timestamp": 1, "step": 0}]})
                assert c.put(f"/api/2.0/mlflow-artifacts/artifacts/{ids[word]}/{run_id}/artifacts/notes.txt",
                              content=f"{word} notes".encode()).status_code == 200
            ok("POST", f"{MLFLOW}/registered-models/create", json={"name": f"{word}-model"})
            ok("POST", f"{MLFLOW}/model-versions/create",
               json={"name": f"{word}-model", "source": f"s3://b/{word}", "run_id": runs[word][0]})
            for text in (f"{word} v1 {{{{ q }}}}", f"{word} v2 {{{{ q }}}}"):
                ok("POST", "/api/2.0/heron/prompts/versions/create", json={"name": f"{word}-prompt", "template": text})
        for word, trace_hex, span in (("shared", SHARED_TRACE, SHARED_SPAN), ("secret", SECRET_TRACE, SECRET_SPAN)):
            assert c.post("/v1/traces", content=_otlp(trace_hex, span, word), headers={
                "content-type": "application/json", "x-heron-experiment-id": ids[word]}).status_code == 200
        ok("POST", f"{MLFLOW}/experiments/permissions/create",
           json={"experiment_id": ids["shared"], "username": READER[0], "permission": "READ"})
        for name in ("shared-model", "shared-prompt"):
            ok("POST", f"{MLFLOW}/registered-models/permissions/create",
               json={"name": name, "username": READER[0], "permission": "READ"})
        routes = []
        for route in _flat(apps[0].routes):
            path = getattr(route, "path", "")
            if "GET" in (getattr(route, "methods", None) or ()) and not path.startswith(SKIPPED):
                if not policy.rule_for("GET", path).public:
                    routes.append((path, tuple(getattr(route, "param_convertors", {}))))

        def values(word: str, trace_hex: str, span: str) -> dict[str, str]:
            return {"experiment_id": ids[word], "run_id": runs[word][0], "trace_id": trace_hex, "span_id": span,
                    "session_id": f"{word}-session", "model": f"{word}-model", "prompt": f"{word}-prompt",
                    "version": "1"}

        yield Seeded(server.url, routes, values("shared", SHARED_TRACE, SHARED_SPAN),
                     values("secret", SECRET_TRACE, SECRET_SPAN), runs["shared"], runs["secret"][0])


def _flat(routes: list[Any]) -> Iterator[Any]:
    """The app's routes, those of included routers too (FastAPI keeps those as one entry per router)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _flat(included.routes)
        else:
            yield route


def _fill(template: str, params: tuple[str, ...], values: dict[str, str]) -> str:
    path = template
    for param in params:
        key = param
        if param == "name":
            key = "model" if template.startswith("/models/") else "prompt"
        assert key in values, f"page route {template} has a parameter {param!r} this test does not know: add it"
        path = path.replace("{" + param + "}", quote(values[key], safe="")).replace("{" + param + ":path}", values[key])
    return path


def _query(template: str, seeded: Seeded, runs: list[str]) -> dict[str, str]:
    return {"/compare": {"runs": ",".join(runs)}, "/runs/{run_id}/artifact": {"path": "notes.txt"},
            "/prompts/{name}/diff": {"from": "1", "to": "2"}}.get(template, {})


def test_every_page_shows_only_what_the_user_may_read(seeded_pages: Seeded) -> None:
    """A reader with READ on one experiment, one model and one prompt visits every GET page route of the app:
    nothing of the others appears anywhere; direct links to them answer 403."""
    s = seeded_pages
    templates = {t for t, _ in s.routes}
    for expected in ("/", "/experiments", "/models", "/prompts", "/compare", "/experiments/{experiment_id}/traces",
                     "/experiments/{experiment_id}/traces/summary", "/experiments/{experiment_id}/sessions",
                     "/traces/{trace_id}/outline", "/traces/{trace_id}/spans/{span_id}", "/runs/{run_id}/artifact",
                     "/prompts/{name}/versions/{version}", "/prompts/{name}/diff"):
        assert expected in templates, expected
    reader = httpx.Client(base_url=s.url, auth=READER, timeout=30, follow_redirects=True)
    visited = refused = 0
    for template, params in s.routes:
        shown = reader.get(_fill(template, params, s.shared), params=_query(template, s, s.shared_runs))
        assert shown.status_code == 200, (template, shown.status_code, shown.text[:500])
        text = shown.text.lower()
        assert "secret" not in text and s.secret_run not in text and SECRET_TRACE not in text, template
        visited += 1
        if params or template == "/compare":
            hidden = reader.get(_fill(template, params, s.secret),
                                params=_query(template, s, [s.shared_runs[0], s.secret_run]))
            assert hidden.status_code == 403, (template, hidden.status_code, hidden.text[:500])
            refused += 1
    assert visited == len(s.routes) and refused >= 15
    # what the reader does see: their own experiment, run, trace, model and prompt
    assert "shared-exp" in reader.get("/experiments").text
    assert "shared-model" in reader.get("/models").text and "shared-prompt" in reader.get("/prompts").text
    used = reader.get("/prompts/shared-prompt/versions/1").text
    assert SHARED_TRACE in used.lower() or "shared-span" in used
    assert reader.get("/").url.path == "/experiments"  # the Default experiment is not theirs
