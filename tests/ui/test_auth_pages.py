"""Pages with ``heron server --auth`` in a real browser (Playwright driving Debian's Chromium): the
browser's login, the navigation showing only readable experiments, and the 403 page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import server_settings
from tests.server.live import LiveServer

MLFLOW = "/api/2.0/mlflow"
ADMIN = ("admin", "admin-password")
READER = ("reader", "reader-password")


@pytest.fixture
def auth_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LiveServer, str, str]]:
    monkeypatch.setenv("HERON_ADMIN_PASSWORD", ADMIN[1])
    with LiveServer(server_settings(tmp_path, auth=True)) as server:
        c = httpx.Client(base_url=server.url, auth=ADMIN)
        c.post(f"{MLFLOW}/users/create", json={"username": READER[0], "password": READER[1]}).raise_for_status()
        shared = c.post(f"{MLFLOW}/experiments/create", json={"name": "shared-exp"}).json()["experiment_id"]
        secret = c.post(f"{MLFLOW}/experiments/create", json={"name": "secret-exp"}).json()["experiment_id"]
        c.post(f"{MLFLOW}/experiments/permissions/create",
               json={"experiment_id": secret, "username": READER[0], "permission": "NO_PERMISSIONS"}).raise_for_status()
        yield server, shared, secret


def test_browser_login_navigation_and_403(browser: Any, auth_server: tuple[LiveServer, str, str]) -> None:  # noqa: F811
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
