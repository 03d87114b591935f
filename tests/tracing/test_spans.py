"""start_span, LiveSpan (the contract integrations code against), detached spans, the current trace."""

from __future__ import annotations

import logging
import re
import threading

import pytest

import heron
from heron.tracing import LiveSpan, Trace, start_detached_span, use_span


def _trace(trace_id: str | None) -> Trace:
    assert trace_id is not None
    found = heron.get_trace(trace_id)
    assert found is not None
    return found


def test_start_span_yields_a_live_span_with_the_whole_api(sqlite_uri: str) -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "<Opaque>"

    with heron.start_span("llm", span_type=heron.SpanType.CHAT_MODEL, attributes={"fixed": "yes"}) as span:
        assert isinstance(span, LiveSpan)
        assert re.fullmatch(r"[0-9a-f]{32}", span.trace_id)
        assert re.fullmatch(r"[0-9a-f]{16}", span.span_id)
        assert span.span_type == "CHAT_MODEL"
        span.span_type = "LLM"
        span.set_inputs({"messages": [{"role": "user", "content": "hi"}]})
        span.set_attribute("gen_ai.request.model", "gpt-4o-mini")
        span.set_attributes({"gen_ai.request.temperature": 0.2, "obj": Opaque(), "skip": None, "seq": [1, 2]})
        span.add_event("retry", {"attempt": 2})
        span.set_outputs(Opaque())
        assert span.inputs == {"messages": [{"role": "user", "content": "hi"}]}
        assert heron.get_current_active_span() == span
        trace_id = span.trace_id
    assert heron.get_current_active_span() is None
    (stored,) = _trace(trace_id).data.spans
    assert stored.span_type == "LLM"
    assert stored.inputs == {"messages": [{"role": "user", "content": "hi"}]}
    assert stored.outputs == "<Opaque>"
    assert stored.attributes["fixed"] == "yes"
    assert stored.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert stored.attributes["gen_ai.request.temperature"] == 0.2
    assert stored.attributes["obj"] == '"<Opaque>"'
    assert stored.attributes["seq"] == [1, 2]
    assert "skip" not in stored.attributes
    assert [(e.name, dict(e.attributes)) for e in stored.events] == [("retry", {"attempt": 2})]
    assert stored.status.status_code == "OK"


def test_start_span_records_an_exception_and_reraises(sqlite_uri: str) -> None:
    with pytest.raises(ZeroDivisionError), heron.start_span("calc") as span:
        trace_id = span.trace_id
        _ = 1 / 0
    (stored,) = _trace(trace_id).data.spans
    assert stored.status.status_code == "ERROR"
    assert stored.events[0].name == "exception"


def test_set_status_record_exception_and_explicit_end(sqlite_uri: str) -> None:
    with heron.start_span("outer") as outer:
        span = start_detached_span("tool", span_type="TOOL")
        span.record_exception(TimeoutError("slow"))
        span.end()
        span.set_attribute("after", "end")  # ignored: the span has ended
        span.end()  # ending twice is ignored
        other = start_detached_span("judged")
        other.set_status("ERROR", "wrong answer")
        other.end(outputs={"score": 0})
        third = start_detached_span("bad-status")
        third.set_status("MAYBE")  # logged, ignored
        third.end()
    spans = {s.name: s for s in _trace(outer.trace_id).data.spans}
    assert spans["tool"].status.status_code == "ERROR"
    assert spans["tool"].events[0].attributes["exception.type"] == "TimeoutError"
    assert "after" not in spans["tool"].attributes
    assert spans["judged"].status == heron.tracing.SpanStatus("ERROR", "wrong answer")
    assert spans["judged"].outputs == {"score": 0}
    assert spans["bad-status"].status.status_code == "OK"
    assert {s.parent_id for s in spans.values() if s.name != "outer"} == {outer.span_id}


def test_detached_span_is_not_current_until_used(sqlite_uri: str) -> None:
    with heron.start_span("root") as root:
        chain = start_detached_span("chain", span_type="CHAIN")
        assert heron.get_current_active_span() == root
        llm = start_detached_span("llm", span_type="LLM", parent=chain, attributes={"gen_ai.request.model": "m"})
        with use_span(llm):
            assert heron.get_current_active_span() == llm
            with heron.start_span("inside") as inside:
                pass
        assert heron.get_current_active_span() == root
        llm.end()
        chain.end()
    spans = {s.name: s for s in _trace(root.trace_id).data.spans}
    assert spans["chain"].parent_id == root.span_id
    assert spans["llm"].parent_id == spans["chain"].span_id
    assert spans["inside"].parent_id == llm.span_id == inside.parent_id


def test_detached_span_ended_on_another_thread(sqlite_uri: str) -> None:
    span = start_detached_span("callback-run")
    thread = threading.Thread(target=span.end)
    thread.start()
    thread.join()
    assert _trace(span.trace_id).data.spans[0].name == "callback-run"


def test_update_current_trace_tags_metadata_session_user_name(sqlite_uri: str) -> None:
    @heron.trace
    def handle(question: str) -> str:
        heron.update_current_trace(tags={"team": "support"}, session_id="s-1", user_id="u-7")
        with heron.start_span("inner"):
            heron.update_current_trace(tags={"channel": "chat"}, metadata={"version": 3}, name="support-answer")
            heron.update_current_trace(tags={"team": "billing"})  # later values win
        return "ok"

    handle("refund?")
    info = _trace(heron.get_last_active_trace_id()).info
    assert dict(info.tags) == {"team": "billing", "channel": "chat"}
    assert dict(info.trace_metadata) == {"version": "3"}
    assert (info.session_id, info.user_id, info.name) == ("s-1", "u-7", "support-answer")


def test_update_current_trace_outside_a_span_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="heron.tracing"):
        heron.update_current_trace(tags={"a": "b"})
    assert "outside any traced span" in caplog.text


def test_mlflow_session_and_user_metadata_keys(sqlite_uri: str) -> None:
    with heron.start_span("chat") as span:
        heron.update_current_trace(metadata={"mlflow.trace.session": "sess", "mlflow.trace.user": "alice"})
    info = _trace(span.trace_id).info
    assert (info.session_id, info.user_id) == ("sess", "alice")


def test_last_active_trace_id_per_thread(sqlite_uri: str) -> None:
    with heron.start_span("main") as main_span:
        pass
    found: list[str | None] = []

    def work() -> None:
        with heron.start_span("worker"):
            pass
        found.append(heron.get_last_active_trace_id(thread_local=True))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert heron.get_last_active_trace_id(thread_local=True) == main_span.trace_id
    assert heron.get_last_active_trace_id() == found[0] != main_span.trace_id


def test_trace_linked_to_active_run_and_experiment(tracking_uri: str) -> None:
    experiment = heron.set_experiment("tracing-exp")
    with heron.start_run() as run:
        with heron.start_span("in-run") as span:
            pass
    with heron.start_span("no-run") as other:
        pass
    info = _trace(span.trace_id).info
    assert info.run_id == run.info.run_id
    assert info.experiment_id == experiment.experiment_id
    assert _trace(other.trace_id).info.run_id is None
    listed = heron.search_traces(run_id=run.info.run_id, return_type="list")
    assert [t.info.trace_id for t in listed] == [span.trace_id]


def test_trace_id_prefix_and_unknown_trace(sqlite_uri: str) -> None:
    with heron.start_span("x") as span:
        pass
    assert _trace("tr-" + span.trace_id).info.trace_id == span.trace_id
    assert heron.get_trace("0" * 32) is None


def test_flush_traces_with_nothing_queued_returns_true() -> None:
    assert heron.flush_traces(timeout=5) is True
