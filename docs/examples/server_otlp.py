"""Traces into a Heron server over OTLP/HTTP: from any OpenTelemetry app, and from Heron itself.

This script starts a Heron server itself (in a background thread) on a free port of 127.0.0.1 and stops
it at the end; in real use you run `heron server ...` once and point OTLP exporters at
http://HOST:PORT/v1/traces.
"""

import tempfile

import httpx
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import heron
from heron.server import BackgroundServer, Settings

workdir = tempfile.mkdtemp(prefix="heron-otlp-demo-")
server = BackgroundServer(
    Settings(backend_store_uri=f"sqlite:///{workdir}/team.db", artifacts_destination=f"{workdir}/artifacts")
).start()  # heron server on 127.0.0.1 and a free port, in a thread of this script
url = server.url
try:
    # 1. Any OpenTelemetry app: the standard OTLP/HTTP exporter, pointed at /v1/traces. The experiment
    #    comes from the x-heron-experiment-id header (or the resource attribute heron.experiment_id).
    experiment_id = httpx.post(f"{url}/api/2.0/mlflow/experiments/create", json={"name": "otel-app"}).json()[
        "experiment_id"
    ]
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(
        OTLPSpanExporter(endpoint=f"{url}/v1/traces", headers={"x-heron-experiment-id": experiment_id})
    ))
    tracer = provider.get_tracer("my-app")
    with tracer.start_as_current_span("answer", attributes={"input.value": "When can I get a refund?"}):
        # OpenInference / OpenLLMetry / GenAI attributes are understood: tokens and cost are computed
        with tracer.start_as_current_span("chat gpt-4o-mini", attributes={
            "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": 1200, "gen_ai.usage.output_tokens": 80,
        }):
            pass
    provider.shutdown()  # flushes: the server stored the spans before answering

    found = httpx.post(f"{url}/api/2.0/heron/traces/search", json={"experiment_ids": [experiment_id]}).json()
    info = found["traces"][0]["info"]
    print(info["name"], info["total_tokens"], "tokens", f"${info['cost']:.6f}")
    assert info["total_tokens"] == 1280 and info["cost"] > 0

    # 2. Heron itself: with an http:// tracking URI, traces go to the server's /v1/traces
    #    (HERON_OTLP_ENDPOINT sends them to any other OTLP endpoint instead).
    heron.set_tracking_uri(url)
    heron.set_experiment("support-bot")

    @heron.trace
    def answer(question: str) -> str:
        return "Within 30 days."

    answer("When can I get a refund?")
    heron.flush_traces()
    bot = heron.get_experiment_by_name("support-bot").experiment_id
    found = httpx.post(f"{url}/api/2.0/heron/traces/search", json={"experiment_ids": [bot]}).json()
    trace_id = found["traces"][0]["info"]["trace_id"]

    # Heron's trace routes: get one trace, attach an assessment, delete.
    httpx.post(f"{url}/api/2.0/heron/traces/{trace_id}/assessments",
               json={"name": "correct", "value": True, "source": {"source_type": "HUMAN", "source_id": "alice"}})
    trace = httpx.get(f"{url}/api/2.0/heron/traces/{trace_id}").json()["trace"]
    print(trace["data"]["spans"][0]["inputs"], "->", trace["data"]["spans"][0]["outputs"],
          [a["name"] for a in trace["info"]["assessments"]])
    assert trace["data"]["spans"][0]["outputs"] == "Within 30 days."
    deleted = httpx.post(f"{url}/api/2.0/heron/traces/delete", json={"experiment_id": bot, "trace_ids": [trace_id]})
    assert deleted.json() == {"traces_deleted": 1}
finally:
    server.stop()  # graceful: in-flight requests finish first
