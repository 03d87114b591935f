"""Heron inside an app that already uses OpenTelemetry: spans nest both ways, nothing is hijacked."""

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import heron

# The app's own OpenTelemetry setup (its exporter could be Jaeger, Tempo, ...).
app_exporter = InMemorySpanExporter()
app_provider = TracerProvider()
app_provider.add_span_processor(SimpleSpanProcessor(app_exporter))
trace.set_tracer_provider(app_provider)
tracer = trace.get_tracer("my-web-app")


@heron.trace
def answer(question: str) -> str:
    with tracer.start_as_current_span("database lookup"):  # the app's span, inside Heron's
        return "42"


with tracer.start_as_current_span("POST /ask") as request:  # Heron's span inside the app's
    answer("what is the answer?")

heron.flush_traces()
trace_id = format(request.get_span_context().trace_id, "032x")
stored = heron.get_trace(trace_id)
(span,) = stored.data.spans  # Heron stores its own spans; the app's exporter keeps the app's
assert span.parent_id == format(request.get_span_context().span_id, "016x")
lookup = next(s for s in app_exporter.get_finished_spans() if s.name == "database lookup")
assert format(lookup.parent.span_id, "016x") == span.span_id
assert trace.get_tracer_provider() is app_provider  # Heron never replaced it
print("one trace id across both:", trace_id)

# To record every OpenTelemetry instrumentation's spans into Heron traces as well:
heron.tracing.configure(otel_global=True)
with tracer.start_as_current_span("POST /ask again") as request:
    answer("again?")
stored = heron.get_trace(format(request.get_span_context().trace_id, "032x"))
print(sorted(s.name for s in stored.data.spans))
assert {s.name for s in stored.data.spans} == {"POST /ask again", "answer", "database lookup"}
