"""OTLP/HTTP trace ingest (`POST /v1/traces`) on a live server: the official OTLP exporter, Heron's own
export path (in a subprocess), the real OpenInference OpenAI instrumentation, JSON, gzip, experiment
routing, and malformed payloads (400, nothing written)."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from heron.server import BackgroundServer
from heron.server.context import open_store
from heron.tracing.records import Trace
from heron.tracing.sqlstore import SqlTraceStore as TraceStore
from tests.fakes.openai_server import FakeOpenAI
from tests.server.conftest import server_settings

TRACE_HEX = "0af7651916cd43dd8448eb211c80319c"
ROOT_HEX = "b7ad6b7169203331"
CHILD_HEX = "00f067aa0ba902b7"


@pytest.fixture
def store(live_server: BackgroundServer) -> Iterator[TraceStore]:
    db = open_store(live_server.settings.resolved()).db
    yield TraceStore(db)
    db.dispose()


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundServer]:
    """One server for the malformed-payload tests (none of them may write anything)."""
    with BackgroundServer(server_settings(tmp_path_factory.mktemp("otlp"), max_body_bytes=4096)) as server:
        yield server


def _db_file(server: BackgroundServer) -> str:
    return server.settings.backend_store_uri.removeprefix("sqlite:///")


def _count(server: BackgroundServer, table: str) -> int:
    with sqlite3.connect(_db_file(server)) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def _experiment(server: BackgroundServer, name: str) -> str:
    r = httpx.post(f"{server.url}/api/2.0/mlflow/experiments/create", json={"name": name})
    assert r.status_code == 200, r.text
    return str(r.json()["experiment_id"])


def _only_trace(store: TraceStore, experiment_id: str) -> Trace:
    found, _ = store.search([experiment_id], None, None, 10, None, None)
    assert len(found) == 1, found
    return found[0]


def _provider(exporter: OTLPSpanExporter, resource: dict[str, Any] | None = None) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create(resource or {}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def _llm_attributes() -> dict[str, Any]:
    return {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100}


# ------------------------------------------------------------------------------ (a) official exporter


def test_official_exporter_protobuf_with_resource_experiment(live_server: BackgroundServer, store: TraceStore) -> None:
    exp = _experiment(live_server, "otlp-resource")
    provider = _provider(OTLPSpanExporter(endpoint=f"{live_server.url}/v1/traces"), {"heron.experiment_id": exp})
    tracer = provider.get_tracer("app")
    with tracer.start_as_current_span("agent", attributes={"input.value": "hi"}):
        with tracer.start_as_current_span("chat gpt-4o-mini", attributes=_llm_attributes()):
            pass
    provider.shutdown()  # SimpleSpanProcessor: each span was exported (and stored) before end() returned

    trace = _only_trace(store, exp)
    assert trace.info.name == "agent" and trace.info.status == "OK"
    assert trace.info.span_count == 2
    assert (trace.info.input_tokens, trace.info.output_tokens) == (1000, 100)
    assert trace.info.cost is not None and trace.info.cost > 0
    llm = trace.search_spans(name="chat gpt-4o-mini")[0]
    assert llm.span_type == "CHAT_MODEL"
    assert llm.parent_id == trace.search_spans(name="agent")[0].span_id


def test_official_exporter_gzip_and_header_routing(live_server: BackgroundServer, store: TraceStore) -> None:
    resource_exp = _experiment(live_server, "from-resource")
    header_exp = _experiment(live_server, "from-header")
    exporter = OTLPSpanExporter(endpoint=f"{live_server.url}/v1/traces", compression=Compression.Gzip,
                                headers={"x-heron-experiment-id": header_exp})
    provider = _provider(exporter, {"heron.experiment_id": resource_exp})
    with provider.get_tracer("app").start_as_current_span("gzipped", attributes=_llm_attributes()):
        pass
    provider.shutdown()
    assert _only_trace(store, header_exp).info.total_tokens == 1100  # the header wins over the resource
    assert store.search([resource_exp], None, None, 10, None, None)[0] == []


def test_default_experiment_when_nothing_says(live_server: BackgroundServer, store: TraceStore) -> None:
    provider = _provider(OTLPSpanExporter(endpoint=f"{live_server.url}/v1/traces"))
    with provider.get_tracer("app").start_as_current_span("plain"):
        pass
    provider.shutdown()
    assert _only_trace(store, "0").info.name == "plain"


# --------------------------------------------------------------------------- (b) Heron's own exporter


def test_heron_exporter_over_otlp_in_a_subprocess(live_server: BackgroundServer, store: TraceStore, tmp_path: Path) -> None:
    exp = _experiment(live_server, "heron-app")
    script = textwrap.dedent(f"""
        import heron

        @heron.trace(span_type=heron.SpanType.CHAIN)
        def answer(question):
            with heron.start_span("chat", span_type=heron.SpanType.CHAT_MODEL) as llm:
                llm.set_inputs({{"messages": [{{"role": "user", "content": question}}]}})
                llm.set_attributes({json.dumps(_llm_attributes())})
                llm.set_outputs("sure")
            heron.update_current_trace(tags={{"channel": "web"}})
            return "sure"

        answer("refund?")
        assert heron.flush_traces(30)
        stats = heron.tracing.stats()
        assert stats["exported"] == 2 and stats["dropped"] == 0, stats
    """)
    env = {**os.environ, "HERON_TRACKING_URI": f"sqlite:///{tmp_path / 'client.db'}",
           "HERON_OTLP_ENDPOINT": f"{live_server.url}/v1/traces", "HERON_EXPERIMENT_ID": exp}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr

    trace = _only_trace(store, exp)  # the experiment came from heron.experiment_id on the first span
    assert trace.info.name == "answer" and trace.info.tags == {"channel": "web"}
    assert trace.info.total_tokens == 1100 and trace.info.cost is not None
    root = trace.search_spans(name="answer")[0]
    assert root.span_type == "CHAIN" and root.inputs == {"question": "refund?"} and root.outputs == "sure"
    chat = trace.search_spans(name="chat")[0]
    assert chat.span_type == "CHAT_MODEL" and chat.inputs["messages"][0]["content"] == "refund?"
    assert "heron.experiment_id" not in root.attributes


def _span_request(span_id: str, parent: str | None, attributes: dict[str, Any]) -> ExportTraceServiceRequest:
    message = ExportTraceServiceRequest()
    span = message.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = bytes.fromhex(TRACE_HEX), bytes.fromhex(span_id), span_id
    span.start_time_unix_nano, span.end_time_unix_nano = 1_700_000_000 * 10**9, 1_700_000_001 * 10**9
    if parent is not None:
        span.parent_span_id = bytes.fromhex(parent)
    for key, value in attributes.items():
        kv = span.attributes.add()
        kv.key = key
        if isinstance(value, int):
            kv.value.int_value = value
        else:
            kv.value.string_value = value
    return message


def test_children_before_the_marked_first_span_follow_it(live_server: BackgroundServer, store: TraceStore) -> None:
    """Heron's exporter marks only a trace's first span with its experiment; children of a long-running
    root go out in earlier requests and must not leave the trace in Default."""
    exp = _experiment(live_server, "late-root")
    child = _span_request(CHILD_HEX, ROOT_HEX, _llm_attributes())
    root = _span_request(ROOT_HEX, None, {"heron.experiment_id": exp, "heron.span.type": "AGENT"})
    for message in (child, root):
        r = httpx.post(f"{live_server.url}/v1/traces", content=message.SerializeToString(),
                       headers={"content-type": "application/x-protobuf"})
        assert r.status_code == 200, r.text
    trace = _only_trace(store, exp)
    assert trace.info.span_count == 2 and trace.info.total_tokens == 1100 and trace.info.name == ROOT_HEX
    assert store.search(["0"], None, None, 10, None, None)[0] == []


def test_a_retried_request_counts_its_spans_once(live_server: BackgroundServer, store: TraceStore) -> None:
    """OTLP exporters send a request again when the answer was late: the spans are stored once, and the
    trace's span count, tokens and cost are what one request gave. A new span in a later request adds."""
    exp = _experiment(live_server, "retried")
    child = _span_request(CHILD_HEX, ROOT_HEX, _llm_attributes())
    root = _span_request(ROOT_HEX, None, {"heron.experiment_id": exp, "heron.span.type": "AGENT"})
    both = ExportTraceServiceRequest()
    both.resource_spans.extend([*child.resource_spans, *root.resource_spans])
    body = both.SerializeToString()
    for _ in range(3):
        r = httpx.post(f"{live_server.url}/v1/traces", content=body, headers={"content-type": "application/x-protobuf"})
        assert r.status_code == 200, r.text
    once = _only_trace(store, exp).info
    assert (once.span_count, once.input_tokens, once.output_tokens) == (2, 1000, 100) and once.cost
    again = ExportTraceServiceRequest()  # the child again, with a new sibling, in one request
    again.resource_spans.extend([*child.resource_spans,
                                 *_span_request("1111111111111111", ROOT_HEX, _llm_attributes()).resource_spans])
    r = httpx.post(f"{live_server.url}/v1/traces", content=again.SerializeToString(),
                   headers={"content-type": "application/x-protobuf"})
    assert r.status_code == 200, r.text
    trace = _only_trace(store, exp)
    assert (trace.info.span_count, trace.info.input_tokens, trace.info.output_tokens) == (3, 2000, 200)
    assert trace.info.cost == pytest.approx(2 * once.cost) and len(trace.data.spans) == 3


# ------------------------------------------------------------------------ (c) OpenInference + OpenAI


def test_openinference_openai_spans_get_tokens_and_cost(
    live_server: BackgroundServer, store: TraceStore, fake_openai: FakeOpenAI
) -> None:
    instrumentation = pytest.importorskip("openinference.instrumentation.openai")
    exp = _experiment(live_server, "openinference")
    exporter = OTLPSpanExporter(endpoint=f"{live_server.url}/v1/traces", headers={"x-heron-experiment-id": exp})
    provider = _provider(exporter)
    instrumentor = instrumentation.OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        client = openai.OpenAI(base_url=fake_openai.base_url, api_key="test", max_retries=0)
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hello there"}])
    finally:
        instrumentor.uninstrument()
        provider.shutdown()

    trace = _only_trace(store, exp)
    assert trace.info.input_tokens > 0 and trace.info.output_tokens > 0
    assert trace.info.cost is not None and trace.info.cost > 0 and not trace.info.unpriced
    span = trace.data.spans[0]
    assert span.span_type == "CHAT_MODEL"
    assert span.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert span.attributes["heron.cost.usd"] == pytest.approx(trace.info.cost)


# --------------------------------------------------------------------------------------- JSON, gzip


def _json_request(span_id: str = CHILD_HEX, trace_id: str = TRACE_HEX) -> dict[str, Any]:
    return {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
        "scopeSpans": [{"scope": {"name": "x"}, "spans": [
            {"traceId": trace_id, "spanId": span_id, "parentSpanId": ROOT_HEX, "name": "llm", "kind": 3,
             "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000500000000",
             "attributes": [
                 {"key": "openinference.span.kind", "value": {"stringValue": "LLM"}},
                 {"key": "llm.model_name", "value": {"stringValue": "gpt-4o-mini"}},
                 {"key": "llm.token_count.prompt", "value": {"intValue": "10"}},
                 {"key": "llm.token_count.completion", "value": {"intValue": 5}},
                 {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}]}}},
             ]},
            {"traceId": trace_id, "spanId": ROOT_HEX, "name": "root",
             "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000001000000000",
             "status": {"code": 2, "message": "boom"}},
        ]}],
    }]}


def test_json_payload_with_hex_ids(live_server: BackgroundServer, store: TraceStore) -> None:
    r = httpx.post(f"{live_server.url}/v1/traces", content=json.dumps(_json_request()),
                   headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json" and r.json() == {}
    trace = _only_trace(store, "0")
    assert trace.info.trace_id == TRACE_HEX and trace.search_spans(name="root")[0].parent_id is None
    assert trace.info.status == "ERROR" and trace.info.execution_duration == 1000
    assert (trace.info.input_tokens, trace.info.output_tokens) == (10, 5) and trace.info.cost is not None
    llm = trace.search_spans(name="llm")[0]
    assert llm.parent_id == ROOT_HEX and llm.span_type == "LLM" and llm.attributes["tags"] == ["a"]
    assert trace.search_spans(name="root")[0].status.description == "boom"


def test_gzip_json_and_protobuf_answer_in_kind(live_server: BackgroundServer, store: TraceStore) -> None:
    body = gzip.compress(json.dumps(_json_request()).encode())
    r = httpx.post(f"{live_server.url}/v1/traces", content=body,
                   headers={"content-type": "application/json; charset=utf-8", "content-encoding": "gzip"})
    assert r.status_code == 200, r.text
    assert _only_trace(store, "0").info.span_count == 2

    empty = ExportTraceServiceRequest().SerializeToString()
    r = httpx.post(f"{live_server.url}/v1/traces", content=empty, headers={"content-type": "application/x-protobuf"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-protobuf"
    ExportTraceServiceResponse().ParseFromString(r.content)


# ------------------------------------------------------------------------------- malformed payloads


@pytest.mark.parametrize(
    ("content", "headers", "reason"),
    [
        (b"\x0a\xff\xff\xff", {"content-type": "application/x-protobuf"}, "not an OTLP"),
        (b'{"resourceSpans": [', {"content-type": "application/json"}, "not valid JSON"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": 7}]}]}]}', {"content-type": "application/json"},
         "traceId"),
        (b'{"resourceSpans": {"no": "list"}}', {"content-type": "application/json"}, "list"),
        (b"{}", {"content-type": "text/plain"}, "Content-Type"),
        (b"{}", {}, "Content-Type"),
        (b"not gzip", {"content-type": "application/json", "content-encoding": "gzip"}, "gzip"),
        (b"{}", {"content-type": "application/json", "content-encoding": "br"}, "Content-Encoding"),
        (b"{}", {"content-type": "application/json", "x-heron-experiment-id": "abc"}, "x-heron-experiment-id"),
    ],
)
def test_malformed_payloads_get_400(refusing: BackgroundServer, content: bytes, headers: dict[str, str],
                                    reason: str) -> None:
    r = httpx.post(f"{refusing.url}/v1/traces", content=content, headers=headers)
    assert r.status_code == 400, r.text
    assert r.json()["error_code"] in ("MALFORMED_REQUEST", "INVALID_PARAMETER_VALUE")
    assert reason in r.json()["message"]


def test_one_bad_span_writes_nothing(refusing: BackgroundServer) -> None:
    good = _json_request()
    bad = _json_request(trace_id="1" * 32)
    good["resourceSpans"].extend(bad["resourceSpans"])
    good["resourceSpans"][1]["scopeSpans"][0]["spans"][0]["spanId"] = "zz" * 8  # not hex
    r = httpx.post(f"{refusing.url}/v1/traces", json=good)
    assert r.status_code == 400 and "spanId" in r.json()["message"]

    message = ExportTraceServiceRequest()
    span = message.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = bytes.fromhex(TRACE_HEX), bytes.fromhex(ROOT_HEX), "ok"
    broken = message.resource_spans[0].scope_spans[0].spans.add()
    broken.trace_id, broken.span_id, broken.name = bytes.fromhex(TRACE_HEX), b"\x01\x02\x03", "short id"
    r = httpx.post(f"{refusing.url}/v1/traces", content=message.SerializeToString(),
                   headers={"content-type": "application/x-protobuf"})
    assert r.status_code == 400 and "span_id" in r.json()["message"]
    assert (_count(refusing, "traces"), _count(refusing, "spans")) == (0, 0)


def test_gzip_bomb_is_refused(refusing: BackgroundServer) -> None:
    body = gzip.compress(b" " * 100_000)  # small on the wire, over the 4 KiB limit once decompressed
    r = httpx.post(f"{refusing.url}/v1/traces", content=body,
                   headers={"content-type": "application/json", "content-encoding": "gzip"})
    assert r.status_code == 413 and r.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert (_count(refusing, "traces"), _count(refusing, "spans")) == (0, 0)
