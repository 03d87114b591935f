"""Heron and an app's own OpenTelemetry setup, both ways. OpenTelemetry's global TracerProvider can be set
once per process, so each scenario runs in a fresh interpreter and prints what it saw as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

_PRELUDE = """
import json, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
import heron

heron.set_tracking_uri("sqlite:///" + sys.argv[1])

def hexid(n):
    return format(n, "016x")

def stored(trace_id):
    found = heron.get_trace(trace_id)
    return [] if found is None else [
        {"name": s.name, "span_id": s.span_id, "parent_id": s.parent_id, "trace_id": s.trace_id}
        for s in found.data.spans]

def app_spans(exporter):
    return [{"name": s.name, "span_id": hexid(s.context.span_id), "trace_id": format(s.context.trace_id, "032x"),
             "parent_id": hexid(s.parent.span_id) if s.parent else None} for s in exporter.get_finished_spans()]
"""


def _run(tmp_path: Path, body: str) -> dict[str, Any]:
    script = _PRELUDE + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "heron.db")], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_heron_spans_nest_in_app_spans_and_app_spans_in_heron_spans(tmp_path: Path) -> None:
    out = _run(tmp_path, """
        exporter = InMemorySpanExporter()
        app_provider = TracerProvider()
        app_provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(app_provider)
        app = trace.get_tracer("app")

        @heron.trace
        def answer(q):
            with app.start_as_current_span("db-query"):
                pass
            return q

        with app.start_as_current_span("http-request") as request:
            answer("hi")
        heron.flush_traces()
        trace_id = format(request.get_span_context().trace_id, "032x")
        print(json.dumps({"trace_id": trace_id, "request_id": hexid(request.get_span_context().span_id),
                          "app": app_spans(exporter), "heron": stored(trace_id),
                          "global_is_app": trace.get_tracer_provider() is app_provider}))
    """)
    app = {s["name"]: s for s in out["app"]}
    heron_spans = {s["name"]: s for s in out["heron"]}
    assert set(heron_spans) == {"answer"}  # Heron records only its own spans by default
    assert set(app) == {"http-request", "db-query"}  # and the app's exporter never sees Heron's
    answer = heron_spans["answer"]
    assert answer["trace_id"] == out["trace_id"] == app["db-query"]["trace_id"]
    assert answer["parent_id"] == out["request_id"]  # Heron span inside the app's span
    assert app["db-query"]["parent_id"] == answer["span_id"]  # app span inside the Heron span
    assert out["global_is_app"] is True  # Heron never replaced the app's provider


def test_heron_leaves_the_global_provider_alone(tmp_path: Path) -> None:
    out = _run(tmp_path, """
        with heron.start_span("alone") as span:
            pass
        heron.flush_traces()
        print(json.dumps({"global": type(trace.get_tracer_provider()).__name__, "heron": stored(span.trace_id)}))
    """)
    assert out["global"] == "ProxyTracerProvider"
    assert [s["name"] for s in out["heron"]] == ["alone"]


def test_otel_global_records_every_instrumentation_into_heron_traces(tmp_path: Path) -> None:
    out = _run(tmp_path, """
        exporter = InMemorySpanExporter()
        app_provider = TracerProvider()
        app_provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(app_provider)
        heron.tracing.configure(otel_global=True)
        lib = trace.get_tracer("some.instrumentation")

        @heron.trace
        def answer(q):
            with lib.start_as_current_span("http-call", attributes={"http.method": "GET"}):
                pass
            return q

        with lib.start_as_current_span("incoming") as request:
            answer("hi")
        heron.flush_traces()
        trace_id = format(request.get_span_context().trace_id, "032x")
        print(json.dumps({"app": app_spans(exporter), "heron": stored(trace_id)}))
    """)
    heron_spans = {s["name"]: s for s in out["heron"]}
    assert set(heron_spans) == {"incoming", "answer", "http-call"}
    assert heron_spans["incoming"]["parent_id"] is None
    assert heron_spans["answer"]["parent_id"] == heron_spans["incoming"]["span_id"]
    assert heron_spans["http-call"]["parent_id"] == heron_spans["answer"]["span_id"]
    assert {s["name"] for s in out["app"]} == {"incoming", "answer", "http-call"}  # the app's exporter too


def test_otel_global_without_an_app_provider_installs_one(tmp_path: Path) -> None:
    out = _run(tmp_path, """
        heron.tracing.configure(otel_global=True)
        lib = trace.get_tracer("some.instrumentation")
        with lib.start_as_current_span("lib-root", attributes={"openinference.span.kind": "LLM",
                                                               "llm.model_name": "gpt-4o",
                                                               "llm.token_count.prompt": 7,
                                                               "llm.token_count.completion": 3}) as root:
            with heron.start_span("heron-child"):
                pass
        heron.flush_traces()
        trace_id = format(root.get_span_context().trace_id, "032x")
        info = heron.get_trace(trace_id).info
        spans = {s.name: s for s in heron.get_trace(trace_id).data.spans}
        print(json.dumps({"global": type(trace.get_tracer_provider()).__name__, "heron": stored(trace_id),
                          "tokens": info.total_tokens, "type": spans["lib-root"].span_type}))
    """)
    assert out["global"] == "TracerProvider"
    assert {s["name"] for s in out["heron"]} == {"lib-root", "heron-child"}
    assert out["tokens"] == 10  # OpenInference attributes normalised into the trace totals
    assert out["type"] == "LLM"
