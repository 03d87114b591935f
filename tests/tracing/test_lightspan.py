"""Light spans (heron/tracing/lightspan.py): autolog's spans on Heron's own provider are stored exactly as
SDK spans would be, follow the provider's sampler and span limits, and nest in the OpenTelemetry context
both ways."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import heron
from heron.tracing import get_trace
from heron.tracing.lightspan import LightSpan
from heron.tracing.spans import start_detached_span, start_owned_span, use_span

REPO = Path(__file__).resolve().parents[2]

# Every span API call autolog and users make on a detached span, with awkward values; the same script
# runs on a light span and, with otel_global=True, on an SDK span.
_SCENARIO = """
import json, sys
import heron
from heron.tracing.spans import start_detached_span, use_span
heron.set_tracking_uri("sqlite:///" + sys.argv[1])
if sys.argv[2] == "sdk":
    heron.tracing.configure(otel_global=True)

class Odd:
    def __repr__(self):
        return "<odd>"

root = start_detached_span("chat gpt-4o", span_type="CHAT_MODEL",
                           attributes={"gen_ai.request.model": "gpt-4o", "n": 2, "big": 2**70, "skip": None,
                                       "stops": ["a", "b"], "mixed": [1, "x"], "obj": {"k": [1, 2]}})
root.set_inputs([{"role": "user", "content": "hi"}])
with use_span(root):
    heron.update_current_trace(tags={"team": "a"}, session_id="s1", user_id="u1")
    child = start_detached_span("tool", span_type="TOOL")
child.set_attribute("odd", Odd())
child.set_attributes({"gen_ai.request.model": "m", "t": (1.5, 2.5)})
child.add_event("retry", {"attempt": 1, "why": Odd()})
try:
    raise TimeoutError("slow")
except TimeoutError as exc:
    child.record_exception(exc)
child.end()
child.set_attribute("after", 1)  # ignored: ended
child.end()  # ignored: ended twice
root.set_attributes({"gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 3,
                     "gen_ai.response.finish_reasons": ["stop"]})
root.set_outputs({"answer": "hello"})
root.set_status("ERROR", description="bad")
root.set_status("OK")  # a later OK wins over ERROR, as in the SDK
root.end()
heron.flush_traces()
found = heron.get_trace(root.trace_id)
spans = []
for s in found.data.spans:
    events = [{"name": e.name, "attributes": {k: v for k, v in e.attributes.items() if k != "exception.stacktrace"},
               "has_stack": "exception.stacktrace" in e.attributes} for e in s.events]
    spans.append({"name": s.name, "span_type": s.span_type, "parent": s.parent_id == root.span_id,
                  "status": [s.status.status_code, s.status.description], "attributes": s.attributes,
                  "inputs": s.inputs, "outputs": s.outputs, "events": events})
info = found.info
print(json.dumps({"kind": type(root.otel_span).__name__, "spans": spans,
                  "trace": {"status": info.status, "tags": info.tags, "session": info.session_id,
                            "user": info.user_id, "tokens": [info.input_tokens, info.output_tokens],
                            "cost": info.cost, "spans": info.span_count}}, default=str))
"""


def _scenario(tmp_path: Path, mode: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _SCENARIO, str(tmp_path / f"{mode}.db"), mode], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_light_span_is_stored_as_an_sdk_span_would_be(tmp_path: Path) -> None:
    light, sdk = _scenario(tmp_path, "light"), _scenario(tmp_path, "sdk")
    assert (light["kind"], sdk["kind"]) == ("LightSpan", "_Span")
    assert light["spans"] == sdk["spans"]
    assert light["trace"] == sdk["trace"]
    root = next(s for s in light["spans"] if s["name"] == "chat gpt-4o")
    assert root["attributes"]["stops"] == ["a", "b"] and root["attributes"]["big"] == str(2**70)
    assert root["status"][0] == "OK"
    tool = next(s for s in light["spans"] if s["name"] == "tool")
    assert tool["parent"] and "after" not in tool["attributes"]
    assert tool["events"][1]["attributes"]["exception.type"] == "TimeoutError" and tool["events"][1]["has_stack"]
    assert light["trace"]["tags"] == {"team": "a"} and light["trace"]["session"] == "s1"


# OpenAI autolog's calls (attributes written at start and at end in one step each), run the same way.
_OPENAI_SCENARIO = """
import json, sys
import numpy, openai
import heron, heron.openai
sys.path.insert(0, sys.argv[3])
from tests.fakes.openai_server import FakeOpenAI
heron.set_tracking_uri("sqlite:///" + sys.argv[1])
if sys.argv[2] == "sdk":
    heron.tracing.configure(otel_global=True)
heron.openai.autolog()
hello = [{"role": "user", "content": "hello there"}]
with FakeOpenAI() as fake:
    client = openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0)
    with heron.start_span("app") as app:
        client.chat.completions.create(model="gpt-4o-mini", messages=hello, temperature=numpy.float64(0.5),
                                       stop=["x"], seed=3)
        for _ in client.chat.completions.create(model="gpt-4o-mini", messages=hello, stream=True):
            pass
        client.responses.create(model="gpt-4o-mini", input="weather in Paris?", tools=[{"type": "function",
                                "name": "get_weather", "parameters": {"type": "object", "properties": {}}}])
        client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
        client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=hello)
        fake.fail_next(429)
        try:
            client.chat.completions.create(model="gpt-4o-mini", messages=hello)
        except openai.RateLimitError:
            pass
heron.flush_traces()
found = heron.get_trace(app.trace_id)
varying = {"server.port", "gen_ai.response.id"}
spans = [{"name": s.name, "type": s.span_type, "status": [s.status.status_code, s.status.description],
          "attributes": {k: v for k, v in s.attributes.items() if k not in varying}, "inputs": s.inputs,
          "outputs": s.outputs, "events": [e.name for e in s.events], "parent": s.parent_id is not None}
         for s in found.data.spans]
info = found.info
print(json.dumps({"spans": spans, "trace": [info.status, info.input_tokens, info.output_tokens, info.cost,
                                            info.span_count]}, default=str))
"""


def test_openai_autolog_spans_are_stored_the_same_light_or_sdk(tmp_path: Path) -> None:
    def run(mode: str) -> dict[str, Any]:
        done = subprocess.run([sys.executable, "-c", _OPENAI_SCENARIO, str(tmp_path / f"{mode}.db"), mode, str(REPO)],
                              capture_output=True, text=True, cwd=tmp_path, timeout=120,
                              env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    light, sdk = run("light"), run("sdk")
    assert light == sdk
    names = [s["name"] for s in light["spans"]]
    assert names.count("chat gpt-4o-mini") == 5 and "embeddings text-embedding-3-small" in names
    chat = next(s for s in light["spans"] if s["name"] == "chat gpt-4o-mini")
    assert chat["attributes"]["gen_ai.request.temperature"] == 0.5
    assert chat["attributes"]["gen_ai.request.stop_sequences"] == ["x"]
    assert [s["status"][0] for s in light["spans"]].count("ERROR") == 1  # the 429


def test_owned_attributes_keep_the_sdks_rules(sqlite_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a light span is given whole (``start_owned_span``, ``finish``) follows the same rules as
    attributes set one by one: a replaced key moves to the end, a full span drops its oldest."""
    span = start_owned_span("owned", "LLM", {"a": 1, "b": 2})
    assert isinstance(span, LightSpan)
    span.finish({"a": 3, "c": 4})  # "a" is already there: set one by one, it moves to the end
    heron.flush_traces()
    stored = get_trace(format(span.get_span_context().trace_id, "032x")).data.spans[0]
    assert list(stored.attributes) == ["b", "a", "c"] and stored.attributes["a"] == 3
    assert stored.span_type == "LLM" and stored.status.status_code == "OK"

    monkeypatch.setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "3")
    heron.tracing.configure()
    span = start_owned_span("full", "LLM", {f"a{i}": i for i in range(4)})
    assert isinstance(span, LightSpan)
    span.finish({"z": 9})
    heron.flush_traces()
    stored = get_trace(format(span.get_span_context().trace_id, "032x")).data.spans[0]
    assert stored.attributes == {"a2": 2, "a3": 3, "z": 9}  # the type and a0, a1 went first, as in the SDK
    assert stored.span_type == "UNKNOWN"


def test_autolog_spans_are_light_on_herons_provider(sqlite_uri: str) -> None:
    span = start_detached_span("step", span_type="CHAIN")
    assert isinstance(span.otel_span, LightSpan)
    span.end()
    with heron.start_span("decorated-style") as live:
        assert isinstance(live.otel_span, SdkSpan)  # @heron.trace and start_span stay on the SDK


def test_nesting_follows_the_opentelemetry_context_both_ways(sqlite_uri: str) -> None:
    exporter = InMemorySpanExporter()
    app_provider = TracerProvider()  # an app's own provider, not the global one
    app_provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = app_provider.get_tracer("app")
    with app.start_as_current_span("request") as request:
        call = start_detached_span("chat m", span_type="CHAT_MODEL")
        with use_span(call):
            with app.start_as_current_span("http POST"):
                with heron.start_span("inner") as inner:
                    pass
        call.end()
    heron.flush_traces()
    request_ctx = request.get_span_context()
    assert call.trace_id == format(request_ctx.trace_id, "032x")
    assert call.parent_id == format(request_ctx.span_id, "016x")  # light span inside the app's span
    http = next(s for s in exporter.get_finished_spans() if s.name == "http POST")
    assert http.parent is not None and format(http.parent.span_id, "016x") == call.span_id  # and the reverse
    assert inner.parent_id == format(http.context.span_id, "016x")
    stored = {s.name: s for s in get_trace(call.trace_id).data.spans}
    assert set(stored) == {"chat m", "inner"}
    assert stored["chat m"].parent_id == call.parent_id


def test_sampling_follows_the_ratio_and_the_parent(sqlite_uri: str) -> None:
    heron.tracing.configure(sampling_ratio=0.5)
    kept = 0
    for _ in range(2_000):
        span = start_detached_span("maybe")
        kept += span.is_recording()
        span.end()
    assert 850 < kept < 1_150
    heron.tracing.configure(sampling_ratio=0.0)
    dropped = start_detached_span("dropped")
    assert not dropped.is_recording() and not dropped.otel_span.get_span_context().trace_flags.sampled
    child = start_detached_span("child of a dropped root", parent=dropped)
    assert not child.is_recording()  # children follow their root
    app = TracerProvider().get_tracer("app")  # an app's sampled span: its children are kept
    with app.start_as_current_span("sampled parent"):
        assert start_detached_span("kept").is_recording()


def test_span_count_limit_is_the_sdks(sqlite_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "4")
    heron.tracing.configure()
    span = start_detached_span("limited", attributes={f"a{i}": i for i in range(10)})
    assert isinstance(span.otel_span, LightSpan)
    span.set_attribute("a0", "replaced")
    span.end()
    heron.flush_traces()
    stored = get_trace(span.trace_id).data.spans[0]
    # the SDK drops the oldest attribute to make room for a new one (here the span type went first)
    assert stored.attributes == {"a7": 7, "a8": 8, "a9": 9, "a0": "replaced"}
    assert stored.span_type == "UNKNOWN"


def test_a_value_length_limit_makes_autolog_spans_sdk_spans(sqlite_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "5")
    heron.tracing.configure()
    span = start_detached_span("cut", attributes={"long": "abcdefghij"})
    assert isinstance(span.otel_span, SdkSpan)  # only the SDK cuts values: Heron does not copy that
    span.end()
    heron.flush_traces()
    assert get_trace(span.trace_id).data.spans[0].attributes["long"] == "abcde"


def test_ending_from_many_threads_exports_once(sqlite_uri: str) -> None:
    span = start_detached_span("raced")
    barrier = threading.Barrier(8)

    def end() -> None:
        barrier.wait()
        span.end()

    threads = [threading.Thread(target=end) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert heron.flush_traces()
    assert heron.tracing.stats()["exported"] == 1
    assert get_trace(span.trace_id).info.span_count == 1


def test_the_span_api_on_a_light_span(sqlite_uri: str) -> None:
    live = start_detached_span("api")
    span = live.otel_span
    assert isinstance(span, LightSpan) and span.is_recording()
    span.update_name("renamed")
    span.add_link(otel_trace.INVALID_SPAN_CONTEXT)  # invalid: ignored, as by the SDK
    other = start_detached_span("other")
    span.add_link(other.otel_span.get_span_context(), {"why": "batch"})
    span.set_attribute("", 1)  # an empty key is dropped
    span.set_attribute("obj", object())  # OpenTelemetry cannot hold it: dropped (LiveSpan stores JSON)
    assert "obj" not in span.attributes and "" not in span.attributes
    assert [(link.context, dict(link.attributes or {})) for link in span.links] == [
        (other.otel_span.get_span_context(), {"why": "batch"})]  # the valid link only
    other.end()
    live.end()
    assert not span.is_recording()
    span.update_name("too late")
    span.add_link(other.otel_span.get_span_context())  # ignored: ended
    assert len(span.links) == 1
    heron.flush_traces()
    stored = get_trace(live.trace_id).data.spans[0]
    assert stored.name == "renamed"
