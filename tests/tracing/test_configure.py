"""heron.tracing.configure: content capture, span processors (redaction, dropping), sampling."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import heron
from heron.errors import HeronError
from heron.tracing import PendingSpan, configure


def _spans(trace_id: str | None) -> dict[str, Any]:
    assert trace_id is not None
    found = heron.get_trace(trace_id)
    assert found is not None
    return {s.name: s for s in found.data.spans}


@heron.trace
def chat(question: str) -> str:
    with heron.start_span("llm", span_type="CHAT_MODEL") as llm:
        llm.set_inputs({"messages": [{"role": "user", "content": question}]})
        llm.set_attributes({"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 12,
                            "gen_ai.usage.output_tokens": 3,
                            "gen_ai.input.messages": '[{"role":"user","content":"secret"}]'})
        llm.set_outputs("answer for " + question)
    return "answer"


def test_capture_content_false_keeps_no_inputs_outputs_or_messages(sqlite_uri: str) -> None:
    configure(capture_content=False)
    chat("my card is 4111")
    spans = _spans(heron.get_last_active_trace_id())
    for span in spans.values():
        assert span.inputs is None and span.outputs is None
    assert "gen_ai.input.messages" not in spans["llm"].attributes
    assert spans["llm"].attributes["gen_ai.usage.input_tokens"] == 12  # usage and models stay
    info = heron.get_trace(spans["chat"].trace_id).info  # type: ignore[union-attr]
    assert info.request_preview is None and info.total_tokens == 15


def test_span_processors_redact_and_drop(sqlite_uri: str) -> None:
    seen: list[str] = []

    def redact(span: PendingSpan) -> None:
        seen.append(span.name)
        if span.inputs is not None:
            span.inputs = str(span.inputs).replace("4111", "****")
        span.attributes.pop("gen_ai.input.messages", None)

    def drop_llm(span: PendingSpan) -> bool:
        return span.span_type != "CHAT_MODEL"

    configure(span_processors=[redact, drop_llm])
    chat("my card is 4111")
    spans = _spans(heron.get_last_active_trace_id())
    assert sorted(seen) == ["chat", "llm"]
    assert set(spans) == {"chat"}  # the LLM span was dropped
    assert "****" in spans["chat"].inputs and "4111" not in spans["chat"].inputs
    assert heron.tracing.stats()["dropped_by_processor"] == 1


def test_a_processor_that_raises_drops_the_span_and_logs(sqlite_uri: str, caplog: pytest.LogCaptureFixture) -> None:
    def broken(span: PendingSpan) -> None:
        if span.name == "llm":
            raise RuntimeError("redactor bug")

    configure(span_processors=[broken])
    with caplog.at_level(logging.WARNING, logger="heron.tracing"):
        assert chat("x") == "answer"  # the traced code never sees the error
        spans = _spans(heron.get_last_active_trace_id())
    assert set(spans) == {"chat"}  # fail closed: never exported unredacted
    assert "redactor bug" in caplog.text
    assert heron.tracing.stats()["processor_errors"] == 1


def test_sampling_ratio_zero_records_nothing_and_one_records_all(sqlite_uri: str) -> None:
    configure(sampling_ratio=0.0)
    assert chat("x") == "answer"
    assert heron.flush_traces(timeout=10)
    assert heron.search_traces(return_type="list") == []
    configure(sampling_ratio=1.0)
    chat("y")
    assert len(heron.search_traces(return_type="list")) == 1


def test_sampling_is_per_trace(sqlite_uri: str) -> None:
    configure(sampling_ratio=0.5)
    for i in range(200):
        chat(str(i))
    found = heron.search_traces(return_type="list")
    assert 40 < len(found) < 160
    assert all(t.info.span_count == 2 for t in found)  # children follow their root's decision


def test_sampling_ratio_from_the_environment(sqlite_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_TRACE_SAMPLING_RATIO", "0")
    configure()
    chat("x")
    assert heron.search_traces(return_type="list") == []


@pytest.mark.parametrize("kwargs", [{"sampling_ratio": 1.5}, {"sampling_ratio": -0.1},
                                    {"span_processors": ["not a function"]}])
def test_configure_rejects_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(HeronError) as caught:
        configure(**kwargs)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_max_value_chars(sqlite_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_TRACE_MAX_VALUE_CHARS", "200")
    configure()
    chat("q" * 10_000)
    spans = _spans(heron.get_last_active_trace_id())
    assert len(str(spans["chat"].inputs)) < 400
    assert "truncated" in str(spans["chat"].inputs)


def test_configure_while_a_trace_is_open_keeps_its_spans(sqlite_uri: str) -> None:
    with heron.start_span("outer") as outer:
        configure(capture_content=False)
        with heron.start_span("inner"):
            pass
    spans = _spans(outer.trace_id)
    assert set(spans) == {"outer", "inner"}
    assert spans["inner"].parent_id == outer.span_id


def test_environment_settings_apply_without_configure(sqlite_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_TRACE_SAMPLING_RATIO", "0")
    chat("x")  # no configure() call: the first span reads the environment
    assert heron.flush_traces(timeout=10)
    assert heron.search_traces(return_type="list") == []


def test_bad_environment_values_never_raise_into_traced_code(
    sqlite_uri: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HERON_TRACE_SAMPLING_RATIO", "lots")
    monkeypatch.setenv("HERON_TRACE_QUEUE_SIZE", "many")
    with caplog.at_level(logging.WARNING, logger="heron.tracing"):
        heron.tracing.reset_for_tests()  # the queue size is read when the export thread (re)starts
        assert chat("x") == "answer"
    assert "HERON_TRACE_SAMPLING_RATIO" in caplog.text and "HERON_TRACE_QUEUE_SIZE" in caplog.text
    assert len(heron.search_traces(return_type="list")) == 1
