"""Stored traces on SQLite and PostgreSQL: the trace row, token and cost totals, delete, assessments."""

from __future__ import annotations

import time

import pytest

import heron
from heron.errors import HeronError
from heron.tracing import AssessmentSource, LiveSpan, Trace, set_price, start_detached_span


def _trace(trace_id: str) -> Trace:
    found = heron.get_trace(trace_id)
    assert found is not None
    return found


def _llm(span: LiveSpan, model: str, inp: int, out: int, cached: int = 0) -> None:
    span.set_attributes({"gen_ai.request.model": model, "gen_ai.usage.input_tokens": inp,
                         "gen_ai.usage.output_tokens": out})
    if cached:
        span.set_attribute("gen_ai.usage.cache_read.input_tokens", cached)


def test_trace_row_is_merged_when_the_root_arrives_last(tracking_uri: str) -> None:
    set_price("test-model", input_per_million=1.0, output_per_million=2.0, cached_input_per_million=0.5)
    with heron.start_span("agent", span_type="AGENT") as root:
        root.set_inputs({"question": "refund?"})
        for i in range(3):
            with heron.start_span(f"llm-{i}", span_type="LLM") as llm:
                _llm(llm, "test-model", 1_000_000, 500_000, cached=200_000)
            assert heron.flush_traces(timeout=30)  # children written while the root is still open
            partial = _trace(root.trace_id).info
            assert partial.status == "IN_PROGRESS"
            assert partial.span_count == i + 1
        heron.update_current_trace(tags={"kind": "eval"})
        root.set_outputs("within 30 days")
    info = _trace(root.trace_id).info
    assert info.status == "OK"
    assert info.name == "agent"
    assert info.span_count == 4
    assert (info.input_tokens, info.output_tokens, info.total_tokens) == (3_000_000, 1_500_000, 4_500_000)
    assert info.cached_input_tokens == 600_000
    # per call: 0.8M input at $1 + 0.2M cached at $0.5 + 0.5M output at $2 = 0.8 + 0.1 + 1.0
    assert info.cost == pytest.approx(3 * 1.9)
    assert not info.unpriced
    assert info.request_preview == '{"question":"refund?"}'
    assert info.response_preview == '"within 30 days"'
    assert dict(info.tags) == {"kind": "eval"}
    assert info.execution_time_ms is not None and info.execution_time_ms >= 0
    llm_spans = _trace(root.trace_id).search_spans(span_type="LLM")
    assert [s.attributes["heron.cost.usd"] for s in llm_spans] == [pytest.approx(1.9)] * 3


def test_usage_is_counted_once_when_an_llm_span_wraps_another(tracking_uri: str) -> None:
    """A LangChain chat-model span reporting the usage of the OpenAI call traced inside it."""
    set_price("wrapped-model", input_per_million=1.0, output_per_million=1.0)
    with heron.start_span("chain", span_type="CHAIN") as chain:
        outer = start_detached_span("ChatOpenAI", span_type="CHAT_MODEL")
        with heron.tracing.use_span(outer):
            with heron.start_span("openai.chat", span_type="CHAT_MODEL") as inner:
                with heron.start_span("http"):
                    pass
                _llm(inner, "wrapped-model", 100, 50)
        _llm(outer, "wrapped-model", 100, 50)
        outer.end()
        with heron.start_span("lone-llm", span_type="LLM") as lone:  # not nested: counts too
            _llm(lone, "wrapped-model", 10, 5)
    info = _trace(chain.trace_id).info
    assert (info.input_tokens, info.output_tokens, info.total_tokens) == (110, 55, 165)
    assert info.cost == pytest.approx(165 / 1_000_000)


def test_token_counts_written_as_text_are_counted_as_they_are_priced(tracking_uri: str) -> None:
    """Some instrumentations write counts as strings: a span is counted in its trace's totals exactly
    when it is priced, so the trace's cost never comes without its tokens."""
    set_price("text-count-model", input_per_million=1.0, output_per_million=2.0)
    with heron.start_span("app") as root:
        with heron.start_span("llm", span_type="LLM") as llm:
            llm.set_attributes({"gen_ai.request.model": "text-count-model", "gen_ai.usage.input_tokens": " 1000 ",
                                "gen_ai.usage.output_tokens": "500"})
        with heron.start_span("odd", span_type="LLM") as odd:  # not counts: neither counted nor priced
            odd.set_attributes({"gen_ai.request.model": "text-count-model", "gen_ai.usage.input_tokens": "²",
                                "gen_ai.usage.output_tokens": "1.5"})
    info = _trace(root.trace_id).info
    assert (info.input_tokens, info.output_tokens, info.total_tokens) == (1000, 500, 1500)
    assert info.cost == pytest.approx(2000 / 1_000_000) and not info.unpriced
    spans = {s.name: s for s in _trace(root.trace_id).data.spans}
    assert spans["llm"].attributes["heron.cost.usd"] == pytest.approx(2000 / 1_000_000)
    assert "heron.cost.usd" not in spans["odd"].attributes
    assert spans["odd"].attributes["gen_ai.usage.input_tokens"] == "²"  # kept as written


def test_unpriced_model_flags_the_trace_and_never_counts_as_zero(tracking_uri: str) -> None:
    set_price("known-model", input_per_million=1.0, output_per_million=1.0)
    with heron.start_span("mixed") as root:
        with heron.start_span("known", span_type="LLM") as known:
            _llm(known, "known-model", 1000, 1000)
        with heron.start_span("mystery", span_type="LLM") as mystery:
            _llm(mystery, "no-such-model-xyz", 10, 10)
    info = _trace(root.trace_id).info
    assert info.unpriced and info.unpriced_spans == 1
    assert info.cost == pytest.approx(2000 / 1_000_000)  # the priced part; the flag says it is incomplete
    spans = {s.name: s for s in _trace(root.trace_id).data.spans}
    assert spans["mystery"].attributes["heron.cost.unpriced"] is True
    assert "heron.cost.usd" not in spans["mystery"].attributes

    with heron.start_span("only-unknown") as only:
        with heron.start_span("mystery", span_type="LLM") as m:
            _llm(m, "no-such-model-xyz", 10, 10)
    info = _trace(only.trace_id).info
    assert info.cost is None and info.unpriced

    with heron.start_span("no-llm") as plain:
        pass
    info = _trace(plain.trace_id).info
    assert info.cost is None and not info.unpriced and info.total_tokens == 0


def test_error_root_makes_an_error_trace(tracking_uri: str) -> None:
    with pytest.raises(RuntimeError), heron.start_span("boom") as span:
        raise RuntimeError("x")
    assert _trace(span.trace_id).info.status == "ERROR"


def test_delete_traces_by_id_by_time_and_count(tracking_uri: str) -> None:
    experiment_id = heron.tracking.fluent.resolve_experiment_id()
    ids = []
    for i in range(5):
        with heron.start_span(f"t{i}") as span:
            pass
        ids.append(span.trace_id)
        time.sleep(0.002)
    heron.log_assessment(ids[0], name="score", value=1)
    assert heron.delete_traces(experiment_id, trace_ids=[ids[0], "tr-" + ids[1]]) == 2
    assert heron.get_trace(ids[0]) is None
    assert heron.delete_traces(experiment_id, max_timestamp_millis=int(time.time() * 1000), max_traces=1) == 1
    assert heron.get_trace(ids[2]) is None  # the oldest goes first
    assert heron.delete_traces(experiment_id, older_than=0) == 2
    assert heron.search_traces(return_type="list") == []
    assert heron.delete_traces("123456", older_than=0) == 0
    with pytest.raises(HeronError, match="exactly one"):
        heron.delete_traces(experiment_id)
    with pytest.raises(HeronError):
        heron.delete_traces(experiment_id, trace_ids=["a"], max_timestamp_millis=1)


def test_assessments_are_logged_and_read_back(tracking_uri: str) -> None:
    with heron.start_span("answer") as span:
        with heron.start_span("retrieve") as child:
            pass
    first = heron.log_assessment(span.trace_id, name="correctness", value=0.8, rationale="mostly right",
                                 source=AssessmentSource("LLM_JUDGE", "gpt-4o"), metadata={"judge": "v1"})
    heron.log_assessment(span.trace_id, name="relevant", value={"ok": True}, source="human", span_id=child.span_id)
    heron.log_expectation(span.trace_id, name="expected", value="30 days")
    heron.log_feedback(span.trace_id, name="thumbs", value=True, source={"source_type": "HUMAN", "source_id": "u1"})
    assessments = _trace(span.trace_id).info.assessments
    by_name = {a.name: a for a in assessments}
    assert first.assessment_id == by_name["correctness"].assessment_id
    assert by_name["correctness"].value == 0.8
    assert by_name["correctness"].rationale == "mostly right"
    assert by_name["correctness"].source == AssessmentSource("LLM_JUDGE", "gpt-4o")
    assert dict(by_name["correctness"].metadata) == {"judge": "v1"}
    assert by_name["relevant"].value == {"ok": True} and by_name["relevant"].span_id == child.span_id
    assert by_name["relevant"].source.source_type == "HUMAN"
    assert by_name["expected"].kind == "expectation"
    assert by_name["thumbs"].source == AssessmentSource("HUMAN", "u1")
    with pytest.raises(HeronError, match="not found"):
        heron.log_assessment("f" * 32, name="x", value=1)
    with pytest.raises(HeronError, match="source_type"):
        heron.log_assessment(span.trace_id, name="x", value=1, source="ROBOT")
    with pytest.raises(HeronError, match="JSON"):
        heron.log_assessment(span.trace_id, name="x", value=object())


def test_spans_written_again_count_once_in_the_trace(tracking_uri: str) -> None:
    """The same finished spans reaching the store twice (an exporter retrying a batch whose answer was
    lost) are stored once, and the trace's span count, tokens and cost stay what one write gave."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from heron.tracing.pending import Target, from_readable
    from heron.tracing.sinks import open_sink

    set_price("twice-model", input_per_million=1.0, output_per_million=2.0)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("app")
    with tracer.start_as_current_span("agent"):
        with tracer.start_as_current_span("llm", attributes={"gen_ai.request.model": "twice-model",
                                                             "gen_ai.usage.input_tokens": 1_000,
                                                             "gen_ai.usage.output_tokens": 100}):
            pass
    finished = exporter.get_finished_spans()  # the llm span, then the agent span
    target = Target(tracking_uri, "0", None)
    sink = open_sink(tracking_uri)

    def batch() -> list[tuple[object, Target]]:
        return [(from_readable(span, span.parent is None), target) for span in finished]

    sink.write(batch())  # type: ignore[arg-type]
    sink.write(batch())  # type: ignore[arg-type]
    sink.write(batch()[:1] + batch()[:1])  # type: ignore[arg-type]  # and twice in one batch
    info = _trace(format(finished[0].context.trace_id, "032x")).info
    assert (info.span_count, info.input_tokens, info.output_tokens) == (2, 1_000, 100)
    assert info.cost == pytest.approx(0.0012) and info.name == "agent" and info.status == "OK"
    assert len(_trace(info.trace_id).data.spans) == 2
