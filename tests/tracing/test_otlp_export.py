"""Traces sent over OTLP/HTTP (protobuf) to a real HTTP endpoint on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

import heron


class _Collector:
    """A minimal OTLP/HTTP traces endpoint that keeps what it receives."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, ExportTraceServiceRequest]] = []
        self.switch_intervals: list[float] = []  # the sender's process is this one: what it had then
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                collector.requests.append((self.path, request))
                collector.switch_intervals.append(sys.getswitchinterval())
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def spans(self) -> dict[str, dict[str, Any]]:
        found = {}
        for _, request in self.requests:
            for resource_spans in request.resource_spans:
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        attributes = {a.key: _value(a.value) for a in span.attributes}
                        found[span.name] = {"trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                                            "parent": span.parent_span_id.hex(), "attributes": attributes,
                                            "status": span.status.code}
        return found

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


@pytest.fixture
def collector() -> Iterator[_Collector]:
    found = _Collector()
    yield found
    found.stop()


@heron.trace(span_type="CHAIN")
def pipeline(question: str) -> str:
    with heron.start_span("llm", span_type="LLM") as llm:
        llm.set_attributes({"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 5})
    return "answer"


@pytest.mark.parametrize("variable", ["HERON_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"])
def test_endpoint_variable_sends_spans_over_otlp(collector: _Collector, variable: str, sqlite_uri: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(variable, collector.url + "/v1/traces")
    heron.set_experiment("otlp-exp")
    assert pipeline("q") == "answer"
    assert heron.flush_traces(timeout=30)
    spans = collector.spans()
    assert set(spans) == {"pipeline", "llm"}
    assert collector.requests[0][0] == "/v1/traces"
    root, llm = spans["pipeline"], spans["llm"]
    assert llm["parent"] == root["span_id"] and llm["trace_id"] == root["trace_id"]
    assert root["attributes"]["heron.span.type"] == "CHAIN"
    assert root["attributes"]["heron.span.inputs"] == '{"question":"q"}'
    assert root["attributes"]["heron.experiment_id"] == heron.get_experiment_by_name("otlp-exp").experiment_id
    assert "heron.experiment_id" not in llm["attributes"]
    assert llm["attributes"]["gen_ai.usage.input_tokens"] == 5
    assert heron.tracing.stats()["exported"] == 2
    monkeypatch.delenv(variable)
    assert heron.search_traces(return_type="list") == []  # nothing went to the SQL store


def test_a_sinks_first_write_runs_with_a_short_switch_interval_then_the_interval_is_put_back(
        collector: _Collector, monkeypatch: pytest.MonkeyPatch) -> None:
    """The export thread's first write to a sink (imports, opening the store or the endpoint) runs with a
    0.1 ms switch interval, so that a busy app thread cannot keep it waiting 5 ms at every file read or
    statement; later writes, and the app afterwards, run with the interval the process had."""
    monkeypatch.setenv("HERON_OTLP_ENDPOINT", collector.url + "/v1/traces")
    before = sys.getswitchinterval()
    assert before > 0.0001
    pipeline("first")
    assert heron.flush_traces(timeout=30)
    assert sys.getswitchinterval() == before
    pipeline("second")
    assert heron.flush_traces(timeout=30)
    assert collector.switch_intervals == [pytest.approx(0.0001), before]
    assert sys.getswitchinterval() == before


def test_an_interval_the_app_sets_meanwhile_stands() -> None:
    from heron.tracing.export import _prompt_switches

    before = sys.getswitchinterval()
    try:
        with _prompt_switches():
            assert sys.getswitchinterval() == pytest.approx(0.0001)
            sys.setswitchinterval(0.002)  # the app's own choice, made while a sink opened
        assert sys.getswitchinterval() == pytest.approx(0.002)
        with _prompt_switches():
            assert sys.getswitchinterval() == pytest.approx(0.0001)
        assert sys.getswitchinterval() == pytest.approx(0.002)
    finally:
        sys.setswitchinterval(before)


def test_http_tracking_uri_sends_spans_to_the_server(collector: _Collector) -> None:
    heron.set_tracking_uri(collector.url)
    with heron.start_span("to-server"):
        pass
    assert heron.flush_traces(timeout=30)
    assert set(collector.spans()) == {"to-server"}
    assert collector.requests[0][0] == "/v1/traces"


def test_span_processors_apply_before_otlp(collector: _Collector, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_OTLP_ENDPOINT", collector.url + "/v1/traces")

    def redact(span: heron.tracing.PendingSpan) -> None:
        span.inputs = "[redacted]"

    heron.tracing.configure(span_processors=[redact])
    pipeline("secret")
    assert heron.flush_traces(timeout=30)
    assert collector.spans()["pipeline"]["attributes"]["heron.span.inputs"] == '"[redacted]"'


def test_unreachable_endpoint_drops_and_counts(monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    monkeypatch.setenv("HERON_OTLP_ENDPOINT", f"http://127.0.0.1:{port}/v1/traces")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1")
    with caplog.at_level(logging.WARNING, logger="heron.tracing"):
        assert pipeline("q") == "answer"
        assert heron.flush_traces(timeout=60)
    stats = heron.tracing.stats()
    assert stats["dropped_export_error"] == 2 and stats["exported"] == 0
    assert "did not accept" in caplog.text
