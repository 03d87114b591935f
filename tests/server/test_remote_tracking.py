"""What only a remote store has: proxied artifacts, server-chosen locations, the wire, errors, retries.

(The shared tracking behaviour runs against the server in test_tracking_suite.py.)
"""

from __future__ import annotations

import json
import math
import os
import resource
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

import heron
import heron.artifacts
from heron.entities import Metric, Param, RunStatus, RunTag
from heron.errors import HeronError
from heron.server import BackgroundServer
from heron.tracking.artifacts import get_repository
from heron.tracking.artifacts.http import HttpArtifactRepository
from tests.server.conftest import server_settings


def test_experiments_and_runs_get_proxied_artifact_locations(remote_uri: str, tmp_path: Path) -> None:
    eid = heron.create_experiment("proxied", tags={"team": "ml"})
    experiment = heron.get_experiment(eid)
    assert experiment.artifact_location == f"mlflow-artifacts:/{eid}"
    assert heron.get_experiment("0").artifact_location == "mlflow-artifacts:/0"
    with heron.start_run(experiment_id=eid) as run:
        assert run.info.artifact_uri == f"mlflow-artifacts:/{eid}/{run.info.run_id}/artifacts"
    assert isinstance(get_repository(run.info.artifact_uri), HttpArtifactRepository)
    # An explicit location is kept as given.
    other = heron.create_experiment("explicit", artifact_location="s3://bucket/prefix")
    assert heron.get_experiment(other).artifact_location == "s3://bucket/prefix"
    with pytest.raises(HeronError, match="relative path") as info:
        heron.create_experiment("relative", artifact_location="some/folder")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_artifacts_round_trip_through_the_proxy(remote_uri: str, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("A")
    (tree / "sub" / "b.json").write_text('{"b": 1}')
    (tmp_path / "model.pkl").write_bytes(b"\x00\x01binary\xff")
    with heron.start_run() as run:
        heron.log_artifact(str(tmp_path / "model.pkl"))
        heron.log_artifact(str(tmp_path / "model.pkl"), artifact_path="models/v1")
        heron.log_artifacts(str(tree), artifact_path="data")
        heron.log_text("hello wörld", "notes/readme.md")
        heron.log_dict({"lr": 0.1, "layers": [1, 2]}, "config.yaml")
    run_id = run.info.run_id
    client = heron.Client()
    root = [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run_id)]
    assert root == [
        ("config.yaml", False, len("layers:\n- 1\n- 2\nlr: 0.1\n")),
        ("data", True, None),
        ("model.pkl", False, 9),
        ("models", True, None),
        ("notes", True, None),
    ]
    assert [f.path for f in client.list_artifacts(run_id, "data")] == ["data/a.txt", "data/sub"]
    assert client.list_artifacts(run_id, "model.pkl") == []  # a file has no children
    assert client.list_artifacts(run_id, "missing") == []
    assert heron.artifacts.load_text(f"runs:/{run_id}/notes/readme.md") == "hello wörld"
    assert heron.artifacts.load_dict(f"runs:/{run_id}/config.yaml") == {"lr": 0.1, "layers": [1, 2]}
    local = client.download_artifacts(run_id, "data", str(tmp_path / "down"))
    assert Path(local, "sub", "b.json").read_text() == '{"b": 1}' and Path(local, "a.txt").read_text() == "A"
    one = client.download_artifacts(run_id, "models/v1/model.pkl", str(tmp_path / "one"))
    assert Path(one).read_bytes() == b"\x00\x01binary\xff"
    with pytest.raises(HeronError) as info:
        client.download_artifacts(run_id, "nothing/here", str(tmp_path / "none"))
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    # The server keeps them under <destination>/<experiment>/<run>/artifacts.
    stored = tmp_path / "server" / "artifacts" / "0" / run_id / "artifacts"
    assert (stored / "models" / "v1" / "model.pkl").read_bytes() == b"\x00\x01binary\xff"
    assert (stored / "data" / "sub" / "b.json").exists()
    # The REST listing of a run's artifacts agrees.
    listed = httpx.get(f"{remote_uri}/api/2.0/mlflow/artifacts/list", params={"run_id": run_id, "path": "data"}).json()
    assert listed == {
        "root_uri": run.info.artifact_uri,
        "files": [{"path": "data/a.txt", "is_dir": False, "file_size": 1}, {"path": "data/sub", "is_dir": True}],
    }
    repo = get_repository(run.info.artifact_uri)
    repo.delete_artifacts("data/sub")
    assert not (stored / "data" / "sub").exists() and (stored / "data" / "a.txt").exists()
    assert [f.path for f in client.list_artifacts(run_id, "data")] == ["data/a.txt"]


def test_artifact_paths_are_checked_before_any_request(remote_uri: str, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    with heron.start_run():
        for bad in ("../escape", "/abs", "a/../../b", "C:/x", "a\\b"):
            with pytest.raises(HeronError) as info:
                heron.log_artifact(str(tmp_path / "f.txt"), artifact_path=bad)
            assert info.value.error_code == "INVALID_PARAMETER_VALUE", bad
    assert not any((tmp_path / "server").rglob("escape"))


@pytest.mark.slow
def test_a_big_artifact_streams_both_ways(live_server: BackgroundServer, tmp_path: Path) -> None:
    """300 MB up and down through the proxy; neither side ever holds it in memory."""
    size = 300 * 1024 * 1024
    big = tmp_path / "big.bin"
    block = os.urandom(1024 * 1024)
    with open(big, "wb") as f:
        for _ in range(size // len(block)):
            f.write(block)
    heron.set_tracking_uri(live_server.url)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with heron.start_run() as run:
        heron.log_artifact(str(big))
    path = heron.Client().download_artifacts(run.info.run_id, "big.bin", str(tmp_path / "down"))
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - peak_before
    assert os.path.getsize(path) == size
    with open(path, "rb") as f:
        assert f.read(len(block)) == block
    # Client and server share this process: a whole copy anywhere would add >= 300 MB to the peak.
    assert growth < 100 * 1024 * 1024, f"peak RSS grew by {growth / 2**20:.0f} MB"


def test_search_runs_dataframe_and_pages_over_http(remote_uri: str) -> None:
    heron.set_experiment("grid")
    for depth in range(1, 6):
        with heron.start_run(run_name=f"d{depth}"):
            heron.log_params({"depth": depth, "kind": "tree"})
            heron.log_metrics({"acc": depth / 10, "loss": math.nan if depth == 3 else 1 / depth})
    frame = heron.search_runs(filter_string="metrics.acc >= 0.3 and params.kind = 'tree'", order_by=["metrics.acc DESC"])
    assert list(frame["params.depth"]) == ["5", "4", "3"]  # type: ignore[index]
    assert math.isnan(frame["metrics.loss"].iloc[2])  # type: ignore[index]
    client = heron.Client()
    experiment_id = heron.get_experiment_by_name("grid").experiment_id  # type: ignore[union-attr]
    page = client.search_runs([experiment_id], max_results=2, order_by=["params.depth"])
    walked = [r.data.params["depth"] for r in page]
    while page.token:
        page = client.search_runs([experiment_id], max_results=2, order_by=["params.depth"], page_token=page.token)
        walked += [r.data.params["depth"] for r in page]
    assert walked == ["1", "2", "3", "4", "5"]
    with pytest.raises(HeronError, match="Invalid filter") as info:
        heron.search_runs(filter_string="metrics.acc >> 1")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_values_cross_the_wire_unchanged(remote_uri: str) -> None:
    client = heron.Client()
    run = client.create_run("0", start_time=1234, tags={"note": "naïve ☃ 'quoted' \"double\""}, run_name="wire")
    metrics = [
        Metric("m", math.nan, 10, -5),
        Metric("m", math.inf, 11, 0),
        Metric("m", -math.inf, 12, 1),
        Metric("m", 1e-310, 13, 2),
        Metric("m", 2**53 + 1.0, 2**62, 2**40),
    ]
    client.log_batch(run.info.run_id, metrics, [Param("p", "x" * 6000)], [RunTag("empty", "")])
    history = client.get_metric_history(run.info.run_id, "m")
    assert [(m.timestamp, m.step) for m in history] == [(10, -5), (11, 0), (12, 1), (13, 2), (2**62, 2**40)]
    assert math.isnan(history[0].value) and history[1:4] == [
        Metric("m", math.inf, 11, 0, run.info.run_id),
        Metric("m", -math.inf, 12, 1, run.info.run_id),
        Metric("m", 1e-310, 13, 2, run.info.run_id),
    ]
    stored = client.get_run(run.info.run_id)
    assert stored.info.start_time == 1234 and stored.info.run_name == "wire"
    assert stored.data.tags["note"] == "naïve ☃ 'quoted' \"double\"" and stored.data.tags["empty"] == ""
    assert stored.data.params["p"] == "x" * 6000
    assert stored.data.metrics["m"] == 2**53 + 1.0
    client.set_terminated(run.info.run_id, RunStatus.KILLED, end_time=5678)
    info = client.get_run(run.info.run_id).info
    assert (info.status, info.end_time) == (RunStatus.KILLED, 5678)


def test_unreachable_server_raises_naming_the_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    monkeypatch.setenv("HERON_HTTP_RETRY_TIMEOUT_S", "1")
    heron.set_tracking_uri(f"http://127.0.0.1:{port}")
    start = time.monotonic()
    with pytest.raises(HeronError) as info:
        heron.get_experiment("0")
    # It retried: sleeps of 0.1, 0.2 and 0.4 s with jitter down to half sum to at least 0.35 s.
    assert 0.3 < time.monotonic() - start < 5
    assert info.value.error_code == "TEMPORARILY_UNAVAILABLE"
    assert f"http://127.0.0.1:{port}" in info.value.message and "heron server" in info.value.message


class _Recorder:
    """ASGI wrapper recording each request's method, path and Authorization header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[tuple[str, str, str | None]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            auth = headers.get(b"authorization")
            self.seen.append((scope["method"], scope["path"], auth.decode() if auth else None))
        await self.app(scope, receive, send)


def test_tracking_token_is_sent_as_a_bearer_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorders: list[_Recorder] = []

    def wrap(app: ASGIApp) -> ASGIApp:
        recorders.append(_Recorder(app))
        return recorders[-1]

    with BackgroundServer(server_settings(tmp_path), wrap=wrap) as server:
        monkeypatch.setenv("HERON_TRACKING_TOKEN", "s3cret-token")
        heron.set_tracking_uri(server.url)
        with heron.start_run():
            heron.log_metric("m", 1.0)
            heron.log_text("x", "t.txt")
    seen = recorders[0].seen
    assert {"POST", "PUT", "GET"} <= {method for method, _, _ in seen}
    assert all(auth == "Bearer s3cret-token" for _, _, auth in seen), seen


def _flaky(app: ASGIApp, failures: dict[str, int], status: int) -> ASGIApp:
    """Answer ``status`` to the first ``failures[path]`` requests to each path, then pass through."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and failures.get(scope["path"], 0) > 0:
            failures[scope["path"]] -= 1
            body = json.dumps({"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"}).encode()
            await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return wrapped


def test_reads_are_retried_on_503_and_writes_are_not(tmp_path: Path) -> None:
    failures: dict[str, int] = {}
    with BackgroundServer(server_settings(tmp_path), wrap=lambda app: _flaky(app, failures, 503)) as server:
        heron.set_tracking_uri(server.url)
        run = heron.Client().create_run("0")
        failures["/api/2.0/mlflow/runs/get"] = 3
        assert heron.get_run(run.info.run_id).info.run_id == run.info.run_id
        assert failures["/api/2.0/mlflow/runs/get"] == 0
        failures["/api/2.0/mlflow/runs/log-metric"] = 1
        with pytest.raises(HeronError) as info:
            heron.Client().log_metric(run.info.run_id, "m", 1.0)
        assert info.value.error_code == "TEMPORARILY_UNAVAILABLE"
        assert heron.get_run(run.info.run_id).data.metrics == {}


@pytest.fixture
def dropping_server() -> Iterator[tuple[str, list[bytes]]]:
    """A TCP server that reads each request and closes the connection without answering."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    requests: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    requests.append(conn.recv(65536))
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", requests
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_a_write_that_may_have_arrived_is_not_sent_twice(
    dropping_server: tuple[str, list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, requests = dropping_server
    monkeypatch.setenv("HERON_HTTP_RETRY_TIMEOUT_S", "1")
    heron.set_tracking_uri(url)
    with pytest.raises(HeronError, match="may or may not have stored it") as info:
        heron.Client().log_metric("a" * 32, "m", 1.0)
    assert info.value.error_code == "TEMPORARILY_UNAVAILABLE"
    assert len(requests) == 1  # sent once, never again
    requests.clear()
    with pytest.raises(HeronError, match="Cannot reach the Heron server"):
        heron.Client().get_run("a" * 32)  # a read is retried until the budget runs out
    assert len(requests) > 1


def test_server_info_health_and_version(live_server: BackgroundServer) -> None:
    assert httpx.get(f"{live_server.url}/health").text == "OK"
    assert httpx.get(f"{live_server.url}/version").text == heron.__version__
    info: dict[str, Any] = httpx.get(f"{live_server.url}/api/3.0/mlflow/server-info").json()
    assert info["store_type"] == "SqlStore" and info["workspaces_enabled"] is False
    schema = httpx.get(f"{live_server.url}/openapi.json").json()
    assert "/api/2.0/mlflow/runs/log-batch" in schema["paths"]
    assert "/api/2.0/mlflow-artifacts/artifacts/{artifact_path}" in schema["paths"]


def test_the_proxy_can_keep_artifacts_in_s3(s3_bucket: str, tmp_path: Path) -> None:
    """Clients only speak HTTP to the server (no S3 client, no credentials); the server writes to S3."""
    settings = replace(server_settings(tmp_path), artifacts_destination=f"s3://{s3_bucket}/team")
    with BackgroundServer(settings) as server:
        heron.set_tracking_uri(server.url)
        (tmp_path / "weights.bin").write_bytes(b"w" * 100_000)
        with heron.start_run() as run:
            heron.log_artifact(str(tmp_path / "weights.bin"), artifact_path="model")
            heron.log_text("x", "notes.txt")
        assert isinstance(get_repository(run.info.artifact_uri), HttpArtifactRepository)
        client = heron.Client()
        assert [(f.path, f.is_dir) for f in client.list_artifacts(run.info.run_id)] == [("model", True), ("notes.txt", False)]
        local = client.download_artifacts(run.info.run_id, "model/weights.bin", str(tmp_path / "down"))
        assert Path(local).read_bytes() == b"w" * 100_000
        get_repository(run.info.artifact_uri).delete_artifacts("notes.txt")
    import boto3

    listing = boto3.client("s3", endpoint_url=os.environ["HERON_S3_ENDPOINT_URL"]).list_objects_v2(Bucket=s3_bucket)
    assert [obj["Key"] for obj in listing.get("Contents", [])] == [f"team/0/{run.info.run_id}/artifacts/model/weights.bin"]
