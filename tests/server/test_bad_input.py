"""Bad requests get a clear 4xx in MLflow's error shape, and nothing is written."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

import heron
from heron.server import BackgroundServer, Settings
from tests.server.conftest import server_settings, store_uri_for

API = "/api/2.0/mlflow"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[httpx.Client, str]]:
    """An HTTP client on a small-limit server (64 KiB bodies, 1 MiB artifacts) and a run of its own."""
    settings: Settings = server_settings(tmp_path, max_body_bytes=64 * 1024, max_artifact_bytes=1024 * 1024)
    with BackgroundServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        run = http.post(f"{API}/runs/create", json={"experiment_id": "0", "start_time": 1}).json()
        heron.set_tracking_uri(server.url)
        yield http, run["run"]["info"]["run_id"]


def _written(http: httpx.Client, run_id: str) -> dict[str, Any]:
    data = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    return {k: v for k, v in data.items() if k != "tags" or [t for t in v if t["key"] != "mlflow.runName"]}


def _error(response: httpx.Response, status: int, code: str, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"} and body["error_code"] == code, body
    for word in words:
        assert word in body["message"], body["message"]


def test_malformed_json(api: tuple[httpx.Client, str]) -> None:
    http, run_id = api
    for raw in (b'{"run_id": "x", ', b"not json", b'{"run_id": NaN', b"\xff\xfe"):
        response = http.post(f"{API}/runs/log-batch", content=raw, headers={"Content-Type": "application/json"})
        _error(response, 400, "MALFORMED_REQUEST", "not valid JSON")
    _error(http.post(f"{API}/runs/log-batch", json=[1, 2]), 400, "INVALID_PARAMETER_VALUE", "JSON object")
    _error(http.post(f"{API}/runs/log-batch", json="text"), 400, "INVALID_PARAMETER_VALUE", "JSON object")
    _error(
        http.post(f"{API}/runs/log-batch", content=b"", headers={"Content-Type": "application/json"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "Missing request body",
    )
    assert _written(http, run_id) == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metrics": [{"key": "m", "value": "abc", "timestamp": 1}]}, "metrics[0].value"),
        ({"metrics": [{"key": "m", "value": True, "timestamp": 1}]}, "metrics[0].value"),
        ({"metrics": [{"key": "m", "value": 1, "timestamp": "soon"}]}, "metrics[0].timestamp"),
        ({"metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": 1.5}]}, "metrics[0].step"),
        ({"metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": 2**63}]}, "metrics[0].step"),
        ({"metrics": [{"key": 7, "value": 1, "timestamp": 1}]}, "metrics[0].key"),
        ({"metrics": [{"value": 1, "timestamp": 1}]}, "metrics[0].key"),
        ({"metrics": {"key": "m"}}, "metrics"),
        ({"params": [{"key": "p", "value": 3}]}, "params[0].value"),
        ({"params": [{"key": "p", "value": "a\u0000b"}]}, "params[0].value"),
        ({"tags": [{"key": "t", "value": None}]}, "tags[0].value"),
        ({"tags": "t=1"}, "tags"),
    ],
)
def test_wrong_types_name_the_field_and_write_nothing(api: tuple[httpx.Client, str], body: dict[str, Any], field: str) -> None:
    http, run_id = api
    good = {"key": "ok", "value": 1.0, "timestamp": 1}
    batch = {"run_id": run_id, "metrics": [good], **body}
    if "metrics" in body and isinstance(body["metrics"], list):
        batch["metrics"] = [good, *body["metrics"]]
        field = field.replace("metrics[0]", "metrics[1]")
    _error(http.post(f"{API}/runs/log-batch", json=batch), 400, "INVALID_PARAMETER_VALUE", f"'{field}'")
    assert _written(http, run_id) == {}


def test_store_validation_errors_come_back_with_the_stores_message(api: tuple[httpx.Client, str]) -> None:
    http, run_id = api
    bad_key = {"run_id": run_id, "metrics": [{"key": "ok", "value": 1, "timestamp": 1}, {"key": "../x", "value": 1, "timestamp": 1}]}
    _error(http.post(f"{API}/runs/log-batch", json=bad_key), 400, "INVALID_PARAMETER_VALUE", "../x")
    _error(http.post(f"{API}/runs/log-batch", json={"metrics": []}), 400, "INVALID_PARAMETER_VALUE", "'run_id'")
    _error(http.get(f"{API}/runs/get", params={"run_id": "f" * 32}), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(http.get(f"{API}/experiments/get", params={"experiment_id": "abc"}), 400, "INVALID_PARAMETER_VALUE")
    _error(http.get(f"{API}/experiments/get"), 400, "INVALID_PARAMETER_VALUE", "'experiment_id'")
    _error(http.get(f"{API}/experiments/get-by-name", params={"experiment_name": "nope"}), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(http.post(f"{API}/experiments/search", json={"view_type": "SOME"}), 400, "INVALID_PARAMETER_VALUE", "'view_type'")
    _error(http.post(f"{API}/runs/search", json={"max_results": 0}), 400, "INVALID_PARAMETER_VALUE", "max_results")
    _error(http.post(f"{API}/runs/update", json={"run_id": run_id, "status": "DONE"}), 400, "INVALID_PARAMETER_VALUE", "'status'")
    _error(http.get(f"{API}/no/such/route"), 404, "ENDPOINT_NOT_FOUND")
    _error(http.get(f"{API}/runs/log-batch"), 405, "BAD_REQUEST")
    assert _written(http, run_id) == {}


def test_unknown_fields_are_refused_and_mlflow_fields_accepted(api: tuple[httpx.Client, str]) -> None:
    """Every route: tests/server/test_unknown_fields.py."""
    http, run_id = api
    metric = {"key": "m", "value": 1.5, "timestamp": 1, "step": 0, "dataset_digest": "x"}
    body = {"run_id": run_id, "metrics": [{**metric, "extra": [1]}], "future_field": {"anything": True}}
    response = http.post(f"{API}/runs/log-batch", json=body)
    _error(response, 400, "INVALID_PARAMETER_VALUE", "Unknown field 'future_field'", "Unknown field 'metrics[0].extra'")
    assert _written(http, run_id) == {}
    response = http.get(f"{API}/runs/get", params={"run_id": run_id, "future_param": "1"})
    _error(response, 400, "INVALID_PARAMETER_VALUE", "Unknown query parameter 'future_param'", "run_id, run_uuid")
    assert http.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": [metric]}).json() == {}
    assert _written(http, run_id) == {"metrics": [{"key": "m", "value": 1.5}]}


def test_negative_steps_and_special_values_are_accepted(api: tuple[httpx.Client, str]) -> None:
    http, run_id = api
    metrics = [
        {"key": "m", "value": "NaN", "timestamp": -5, "step": -3},
        {"key": "m", "value": "-Infinity", "timestamp": 2, "step": -1},
        {"key": "m", "value": "2.5", "timestamp": "3", "step": "4"},  # numbers as strings, as protobuf JSON allows
    ]
    assert http.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": metrics}).status_code == 200
    history = http.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "m"}).json()
    assert history == {
        "metrics": [
            {"key": "m", "value": "NaN", "timestamp": -5, "step": -3},
            {"key": "m", "value": "-Infinity", "timestamp": 2, "step": -1},
            {"key": "m", "value": 2.5, "timestamp": 3, "step": 4},
        ]
    }


def test_oversized_bodies_get_413_and_write_nothing(api: tuple[httpx.Client, str], tmp_path: Path) -> None:
    http, run_id = api
    big = {"run_id": run_id, "params": [{"key": f"p{i}", "value": "x" * 5000} for i in range(20)]}  # ~100 KB
    _error(http.post(f"{API}/runs/log-batch", json=big), 413, "REQUEST_LIMIT_EXCEEDED", "65,536")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"run_id": "' + run_id.encode() + b'", "params": ['
        for i in range(40):
            yield (b'{"key": "q%d", "value": "' % i) + b"y" * 4000 + b'"},'
        yield b'{"key": "last", "value": "z"}]}'

    response = http.post(f"{API}/runs/log-batch", content=chunks(), headers={"Content-Type": "application/json"})
    _error(response, 413, "REQUEST_LIMIT_EXCEEDED")
    _error(http.put(f"{PROXY}/0/{run_id}/artifacts/big.bin", content=b"0" * (1024 * 1024 + 1)), 413, "REQUEST_LIMIT_EXCEEDED")

    def blocks() -> Iterator[bytes]:  # a streamed upload, refused once it passes the limit
        for _ in range(20):
            yield b"1" * 100_000

    _error(http.put(f"{PROXY}/0/{run_id}/artifacts/streamed.bin", content=blocks()), 413, "REQUEST_LIMIT_EXCEEDED")
    assert http.get(PROXY, params={"path": f"0/{run_id}/artifacts"}).json() == {}
    assert _written(http, run_id) == {}
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and "artifacts" in p.parts]  # no temporary left
    # Just under the limits is fine.
    assert http.put(f"{PROXY}/0/{run_id}/artifacts/ok.bin", content=b"0" * (1024 * 1024)).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "0/%2e%2e/%2e%2e/outside.txt",
        "..%2f..%2foutside.txt",
        "%2Ftmp%2Foutside.txt",
        "0/r/a%5C..%5C..%5Coutside.txt",
        "0/r/nul%00.txt",
        "C:%2Foutside.txt",
    ],
)
def test_artifact_path_traversal_is_refused(api: tuple[httpx.Client, str], tmp_path: Path, path: str) -> None:
    http, _ = api
    for method in ("PUT", "GET", "DELETE"):
        response = http.request(method, f"{PROXY}/{path}", content=b"x" if method == "PUT" else None)
        _error(response, 400, "INVALID_PARAMETER_VALUE", "Invalid artifact path")
    _error(http.get(PROXY, params={"path": unquote(path)}), 400, "INVALID_PARAMETER_VALUE")
    assert not list(tmp_path.rglob("outside.txt")) and not list(Path("/tmp").glob("outside.txt"))


def test_literal_dot_dot_in_the_request_line_is_refused(api: tuple[httpx.Client, str], tmp_path: Path) -> None:
    http, _ = api
    host, port = str(http.base_url.host), int(http.base_url.port or 80)
    request = (
        f"PUT {PROXY}/0/../../../outside.txt HTTP/1.1\r\nHost: {host}\r\nContent-Length: 1\r\n"
        "Connection: close\r\n\r\nx"
    ).encode()
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"INVALID_PARAMETER_VALUE" in answer
    assert not list(tmp_path.rglob("outside.txt"))


def test_run_artifact_listing_is_confined(api: tuple[httpx.Client, str]) -> None:
    http, run_id = api
    _error(http.get(f"{API}/artifacts/list", params={"run_id": run_id, "path": "../../.."}), 400, "INVALID_PARAMETER_VALUE")
    exp = http.post(f"{API}/experiments/create", json={"name": "local", "artifact_location": "/etc"}).json()
    run = http.post(f"{API}/runs/create", json={"experiment_id": exp["experiment_id"]}).json()["run"]
    # The server does not list its own disk outside its artifacts destination for whoever asks.
    _error(http.get(f"{API}/artifacts/list", params={"run_id": run["info"]["run_id"]}), 403, "PERMISSION_DENIED")


@pytest.mark.parametrize(
    "filter_string",
    [
        "params.p = '1' OR 1=1; DROP TABLE runs",
        "metrics.acc > 0 UNION SELECT * FROM params",
        "params.p = ''; DELETE FROM runs; --'",
        "attributes.run_id = (SELECT run_uuid FROM runs)",
        "tags.`x` = 1 --",
    ],
)
def test_sql_looking_filters_are_refused(api: tuple[httpx.Client, str], filter_string: str) -> None:
    http, run_id = api
    response = http.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "filter": filter_string})
    _error(response, 400, "INVALID_PARAMETER_VALUE", "filter")
    found = http.post(f"{API}/runs/search", json={"experiment_ids": ["0"]}).json()
    assert [r["info"]["run_id"] for r in found["runs"]] == [run_id]


def test_sql_looking_values_are_stored_and_matched_literally(api: tuple[httpx.Client, str]) -> None:
    http, run_id = api
    sneaky = "x' OR '1'='1"
    http.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": sneaky}).raise_for_status()
    literal = "params.p = 'x'' OR ''1''=''1'"
    found = http.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "filter": literal}).json()
    assert [r["info"]["run_id"] for r in found["runs"]] == [run_id]
    other = http.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "filter": "params.p = 'x'"}).json()
    assert other == {}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_values_wider_than_their_columns_are_400_on_both_backends(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store_uri = store_uri_for(backend, request)
    with BackgroundServer(server_settings(tmp_path, store_uri)) as server, httpx.Client(base_url=server.url) as http:
        _error(http.post(f"{API}/runs/create", json={"user_id": "u" * 257}), 400, "INVALID_PARAMETER_VALUE", "'user_id'")
        too_long = {"name": "x", "artifact_location": "s3://b/" + "a" * 1000}
        _error(http.post(f"{API}/experiments/create", json=too_long), 400, "INVALID_PARAMETER_VALUE", "'artifact_location'")
        for experiment_id in ("2147483648", "9" * 30):
            _error(http.get(f"{API}/experiments/get", params={"experiment_id": experiment_id}), 400, "INVALID_PARAMETER_VALUE")
            _error(http.post(f"{API}/runs/create", json={"experiment_id": experiment_id}), 400, "INVALID_PARAMETER_VALUE")
        _error(http.post(f"{API}/runs/search", json={"experiment_ids": ["9" * 30]}), 400, "INVALID_PARAMETER_VALUE")
        assert http.post(f"{API}/runs/search", json={"experiment_ids": ["0"]}).json() == {}
        assert [e["name"] for e in http.get(f"{API}/experiments/search").json()["experiments"]] == ["Default"]
