"""Heron's trace routes (`/api/2.0/heron/traces/...`) on a live server: get, search, delete, assessments.
Traces are put in through OTLP ingest (`POST /v1/traces`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from heron.server import BackgroundServer
from tests.server.conftest import server_settings

API = "/api/2.0/heron/traces"


def _trace_id(n: int) -> str:
    return f"{n:032x}"


def _ingest(server: BackgroundServer, n: int, tokens: int, start_s: int, experiment: str = "0") -> str:
    """One single-span trace ``n`` started at ``start_s`` (seconds since the epoch)."""
    trace_id = _trace_id(n)
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": trace_id, "spanId": f"{n:016x}", "name": f"call-{n}",
        "startTimeUnixNano": str(start_s * 10**9), "endTimeUnixNano": str(start_s * 10**9 + 5 * 10**8),
        "attributes": [
            {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
            {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(tokens)}},
            {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "1"}},
        ],
    }]}]}]}
    r = httpx.post(f"{server.url}/v1/traces", content=json.dumps(body),
                   headers={"content-type": "application/json", "x-heron-experiment-id": experiment})
    assert r.status_code == 200, r.text
    return trace_id


def _post(server: BackgroundServer, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.url}{API}{path}", json=body)


def _seed(server: BackgroundServer) -> BackgroundServer:
    for n, tokens in enumerate([10, 200, 30], start=1):
        _ingest(server, n, tokens, 1_700_000_000 + n)
    _ingest(server, 9, 5, 1_700_000_009, experiment="7")
    return server


@pytest.fixture
def seeded(live_server: BackgroundServer) -> BackgroundServer:
    """A fresh server with traces 1-3 in Default and 9 in experiment 7, for the tests that write."""
    return _seed(live_server)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundServer]:
    """The same traces on one server for the read-only tests of this module."""
    with BackgroundServer(server_settings(tmp_path_factory.mktemp("traces"))) as server:
        yield _seed(server)


def test_get_trace(shared: BackgroundServer) -> None:
    r = httpx.get(f"{shared.url}{API}/tr-{_trace_id(2)}")
    assert r.status_code == 200, r.text
    trace = r.json()["trace"]
    assert trace["info"]["trace_id"] == _trace_id(2) and trace["info"]["input_tokens"] == 200
    assert trace["info"]["cost"] > 0 and trace["info"]["unpriced"] is False
    assert [s["name"] for s in trace["data"]["spans"]] == ["call-2"]
    assert trace["data"]["spans"][0]["span_type"] == "CHAT_MODEL"

    missing = httpx.get(f"{shared.url}{API}/{'f' * 32}")
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert httpx.get(f"{shared.url}{API}/not-an-id").status_code == 400


def test_search_filter_order_and_pages(shared: BackgroundServer) -> None:
    r = _post(shared, "/search", {"experiment_ids": ["0"], "filter": "trace.input_tokens > 20",
                                  "order_by": ["trace.input_tokens DESC"]})
    assert r.status_code == 200, r.text
    assert [t["info"]["input_tokens"] for t in r.json()["traces"]] == [200, 30]

    first = _post(shared, "/search", {"experiment_ids": ["0"], "max_results": 2, "include_spans": False}).json()
    assert len(first["traces"]) == 2 and first["traces"][0]["data"]["spans"] == []
    rest = _post(shared, "/search", {"experiment_ids": ["0"], "max_results": 2,
                                     "page_token": first["next_page_token"]}).json()
    assert len(rest["traces"]) == 1 and "next_page_token" not in rest
    seen = {t["info"]["trace_id"] for t in first["traces"] + rest["traces"]}
    assert seen == {_trace_id(1), _trace_id(2), _trace_id(3)}

    both = _post(shared, "/search", {"experiment_ids": ["0", "7"]}).json()
    assert len(both["traces"]) == 4


@pytest.mark.parametrize(
    "body",
    [
        {"experiment_ids": ["0"], "filter": "trace.nope = 1"},
        {"experiment_ids": ["0"], "page_token": "garbage"},
        {"experiment_ids": []},
        {"experiment_ids": ["0"], "max_results": 0},
        {"experiment_ids": ["0"], "filter": "x' OR 1=1 --"},
    ],
)
def test_search_bad_input_is_400(shared: BackgroundServer, body: dict[str, Any]) -> None:
    r = _post(shared, "/search", body)
    assert r.status_code == 400, r.text
    assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_delete_by_ids_and_by_time(seeded: BackgroundServer) -> None:
    r = _post(seeded, "/delete", {"experiment_id": "0", "trace_ids": [f"tr-{_trace_id(1)}"]})
    assert r.status_code == 200 and r.json() == {"traces_deleted": 1}
    r = _post(seeded, "/delete", {"experiment_id": "0", "max_timestamp_millis": 1_700_000_003_000, "max_traces": 1})
    assert r.json() == {"traces_deleted": 1}  # the oldest left: trace 2
    left = _post(seeded, "/search", {"experiment_ids": ["0", "7"]}).json()["traces"]
    assert sorted(t["info"]["trace_id"] for t in left) == [_trace_id(3), _trace_id(9)]

    for bad in ({"experiment_id": "0"}, {"experiment_id": "0", "trace_ids": [], "max_timestamp_millis": 1},
                {"experiment_id": "0", "trace_ids": ["a"], "max_traces": 1}):
        r = _post(seeded, "/delete", bad)
        assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_assessments(seeded: BackgroundServer) -> None:
    tid = _trace_id(3)
    r = _post(seeded, f"/{tid}/assessments", {"name": "helpful", "value": True, "rationale": "on point",
                                              "source": {"source_type": "human", "source_id": "alice"},
                                              "metadata": {"round": 1}})
    assert r.status_code == 200, r.text
    made = r.json()["assessment"]
    assert made["trace_id"] == tid and made["source"] == {"source_type": "HUMAN", "source_id": "alice"}
    r = _post(seeded, f"/tr-{tid}/assessments", {"name": "answer", "value": {"text": "30 days"},
                                                 "kind": "expectation", "source": "CODE"})
    assert r.status_code == 200, r.text

    stored = httpx.get(f"{seeded.url}{API}/{tid}").json()["trace"]["info"]["assessments"]
    assert {(a["name"], a["kind"], json.dumps(a["value"])) for a in stored} == {
        ("helpful", "feedback", "true"), ("answer", "expectation", '{"text": "30 days"}')}

    missing = _post(seeded, f"/{'e' * 32}/assessments", {"name": "x", "value": 1})
    assert missing.status_code == 404
    for bad in ({"name": "", "value": 1}, {"name": "x", "kind": "vote"}, {"name": "x", "source": "ROBOT"}):
        r = _post(seeded, f"/{tid}/assessments", bad)
        assert r.status_code == 400, (bad, r.text)
    after = httpx.get(f"{seeded.url}{API}/{tid}").json()["trace"]["info"]["assessments"]
    assert len(after) == 2
