"""What only the REST registry store has: the server's URI in errors, the bearer token, retries.

(The shared registry and prompt behaviour runs against the server in test_registry_suite.py.)
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from starlette.types import ASGIApp

import heron
from heron import MlflowClient
from heron.errors import HeronError
from heron.registry import get_registry_store
from heron.registry.rest import RestRegistryStore
from heron.server import BackgroundServer
from tests.server.conftest import server_settings
from tests.server.test_remote_tracking import _Recorder


def test_a_server_uri_gets_the_rest_registry(remote_uri: str) -> None:
    assert isinstance(get_registry_store(), RestRegistryStore)
    version = heron.register_model("s3://b/model", "m")
    MlflowClient().set_registered_model_alias("m", "champion", version.version)
    assert heron.registry.get_underlying_uri("models:/m@champion") == "s3://b/model"
    heron.register_prompt("qa", "Answer {{ q }}")
    heron.set_prompt_alias("qa", "production", 1)
    assert heron.load_prompt("prompts:/qa@production").format(q="why?") == "Answer why?"  # type: ignore[union-attr]


def test_unreachable_server_raises_naming_the_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    monkeypatch.setenv("HERON_HTTP_RETRY_TIMEOUT_S", "1")
    heron.set_tracking_uri(f"http://127.0.0.1:{port}")
    for call in (lambda: MlflowClient().get_registered_model("m"), lambda: heron.load_prompt("prompts:/qa@production")):
        with pytest.raises(HeronError) as info:
            call()
        assert info.value.error_code == "TEMPORARILY_UNAVAILABLE"
        assert f"http://127.0.0.1:{port}" in info.value.message


def test_tracking_token_is_sent_on_registry_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorders: list[_Recorder] = []

    def wrap(app: ASGIApp) -> ASGIApp:
        recorders.append(_Recorder(app))
        return recorders[-1]

    with BackgroundServer(server_settings(tmp_path), wrap=wrap) as server:
        monkeypatch.setenv("HERON_TRACKING_TOKEN", "s3cret-token")
        heron.set_tracking_uri(server.url)
        heron.register_model("s3://b/1", "m")
        heron.register_prompt("qa", "Hi")
        heron.load_prompt("qa")
    seen = recorders[0].seen
    paths = {path for _, path, _ in seen}
    assert {"/api/2.0/mlflow/registered-models/create", "/api/2.0/mlflow/model-versions/create"} <= paths
    assert {"/api/2.0/heron/prompts/versions/create", "/api/2.0/heron/prompts/versions/load"} <= paths
    assert all(auth == "Bearer s3cret-token" for _, _, auth in seen), seen


def test_a_client_keeps_going_across_a_server_restart(tmp_path: Path) -> None:
    server = BackgroundServer(server_settings(tmp_path)).start()
    try:
        heron.set_tracking_uri(server.url)
        heron.register_model("s3://b/1", "m")
        server.stop()
        restarter = threading.Timer(1.0, server.start)
        restarter.start()
        started = time.monotonic()
        client = MlflowClient()
        assert client.get_model_version("m", 1).source == "s3://b/1"  # retried until the server is back
        assert client.create_model_version("m", "s3://b/2").version == 2  # never sent before: safe to send
        assert time.monotonic() - started >= 0.5
        restarter.join()
    finally:
        server.stop()
