"""search_traces on SQLite and PostgreSQL: filters, full text, ordering, pages, frames, errors."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pandas as pd
import pytest

import heron
from heron.errors import HeronError
from heron.tracing import set_price


def _names(filter_string: str | None = None, **kwargs: object) -> list[str]:
    found = heron.search_traces(filter_string=filter_string, return_type="list", **kwargs)  # type: ignore[arg-type]
    return [t.info.name for t in found]


@pytest.fixture
def traces(tracking_uri: str) -> Iterator[None]:
    """Four traces: refund (OK, LLM, tokens), billing (ERROR), chitchat (session), slow (long)."""
    set_price("search-model", input_per_million=10.0, output_per_million=10.0)

    @heron.trace(name="refund")
    def refund(question: str) -> str:
        heron.update_current_trace(tags={"team": "support", "lang": "en"}, metadata={"app": "v2"},
                                   user_id="alice")
        with heron.start_span("llm", span_type="CHAT_MODEL") as llm:
            llm.set_inputs([{"role": "user", "content": question}])
            llm.set_attributes({"gen_ai.request.model": "search-model", "gen_ai.usage.input_tokens": 1000,
                                "gen_ai.usage.output_tokens": 200})
            llm.set_outputs("Refunds take 30 days")
        return "ok"

    @heron.trace(name="billing")
    def billing() -> None:
        heron.update_current_trace(tags={"team": "billing"})
        with heron.start_span("retrieve", span_type="RETRIEVER") as span:
            span.set_attribute("retrieval.k", 5)
        raise ValueError("invoice missing")

    @heron.trace(name="chitchat")
    def chitchat(text: str) -> str:
        heron.update_current_trace(session_id="sess-1", user_id="bob")
        return text

    @heron.trace(name="slow")
    def slow() -> None:
        time.sleep(0.05)

    refund("Where is my REFUND?")
    time.sleep(0.002)
    with pytest.raises(ValueError):
        billing()
    time.sleep(0.002)
    chitchat("hello there")
    time.sleep(0.002)
    slow()
    yield


def test_default_order_is_newest_first(traces: None) -> None:
    assert _names() == ["slow", "chitchat", "billing", "refund"]


FILTERS = [
    ("trace.status = 'OK'", ["slow", "chitchat", "refund"]),
    ("status = 'ERROR'", ["billing"]),
    ("attributes.status != 'OK'", ["billing"]),
    ("trace.name IN ('refund', 'slow')", ["slow", "refund"]),
    ("trace.name LIKE 'ch%'", ["chitchat"]),
    ("trace.name LIKE 'CH%'", []),
    ("trace.name ILIKE 'CH%'", ["chitchat"]),
    ("trace.execution_time_ms >= 40", ["slow"]),
    ("trace.duration_ms < 40 AND trace.status = 'OK'", ["chitchat", "refund"]),
    ("trace.input_tokens = 1000", ["refund"]),
    ("trace.total_tokens > 1100 AND trace.output_tokens <= 200", ["refund"]),
    ("trace.cost > 0.01", ["refund"]),
    ("trace.cost IS NULL", ["slow", "chitchat", "billing"]),
    ("trace.session_id = 'sess-1'", ["chitchat"]),
    ("trace.user_id IN ('alice', 'bob')", ["chitchat", "refund"]),
    ("tags.team = 'support'", ["refund"]),
    ("tags.team != 'support'", ["billing"]),
    ("tags.lang IS NULL", ["slow", "chitchat", "billing"]),
    ("tags.team IS NOT NULL", ["billing", "refund"]),
    ("metadata.app = 'v2'", ["refund"]),
    ("span.name = 'retrieve'", ["billing"]),
    ("span.type = 'CHAT_MODEL'", ["refund"]),
    ("span.status = 'ERROR'", ["billing"]),
    ("span.attributes.gen_ai.request.model = 'search-model'", ["refund"]),
    ("span.attributes.gen_ai.usage.input_tokens > 500", ["refund"]),
    ("span.attributes.retrieval.k IN (4, 5)", ["billing"]),
    ("span.attributes.gen_ai.request.model LIKE 'search%'", ["refund"]),
    ("trace.text ILIKE '%refund%'", ["refund"]),
    ("trace.text LIKE '%30 days%'", ["refund"]),
    ("trace.text ILIKE '%HELLO THERE%'", ["chitchat"]),
    ("trace.text ILIKE '%invoice missing%'", []),
    ("(tags.team = 'support' OR trace.session_id = 'sess-1') AND trace.status = 'OK'", ["chitchat", "refund"]),
    ("trace.name = 'slow' OR trace.name = 'billing' AND trace.status = 'OK'", ["slow"]),
    ("(trace.name = 'slow' OR trace.name = 'billing') AND trace.status = 'ERROR'", ["billing"]),
    ("trace.timestamp_ms > 0 and trace.span_count = 2", ["billing", "refund"]),
]


def test_filters(traces: None) -> None:
    # one store for all filters (a fresh PostgreSQL database per filter would take a minute)
    wrong = {f: (_names(f), expected) for f, expected in FILTERS if _names(f) != expected}
    assert wrong == {}


def test_order_by_and_pages(traces: None) -> None:
    assert _names(order_by=["trace.name ASC"]) == ["billing", "chitchat", "refund", "slow"]
    assert _names(order_by=["execution_time_ms DESC"])[0] == "slow"
    assert _names(order_by=["cost DESC"])[0] == "refund"  # missing costs last
    first = heron.search_traces(max_results=3, return_type="list", order_by=["timestamp_ms ASC"])
    assert [t.info.name for t in first] == ["refund", "billing", "chitchat"]
    assert first.token is not None
    rest = heron.search_traces(max_results=3, page_token=first.token, return_type="list", order_by=["timestamp_ms ASC"])
    assert [t.info.name for t in rest] == ["slow"] and rest.token is None


def test_other_experiment_and_explicit_ids(traces: None) -> None:
    default_id = heron.tracking.fluent.resolve_experiment_id()
    heron.set_experiment("elsewhere")
    assert _names() == []
    with heron.start_span("there"):
        pass
    assert _names() == ["there"]
    assert _names(experiment_ids=[default_id]) == ["slow", "chitchat", "billing", "refund"]


def test_dataframe(traces: None) -> None:
    frame = heron.search_traces(filter_string="trace.name = 'refund'")
    assert isinstance(frame, pd.DataFrame)
    row = frame.iloc[0]
    assert row["state"] == row["status"] == "OK"
    assert row["request"] == {"question": "Where is my REFUND?"}
    assert row["response"] == "ok"
    assert row["tags"] == {"team": "support", "lang": "en"}
    assert row["total_tokens"] == 1200
    assert row["trace"].info.trace_id == row["trace_id"] == row["request_id"]
    assert len(row["spans"]) == 2
    assert frame.attrs["next_page_token"] is None
    empty = heron.search_traces(filter_string="trace.name = 'nothing'")
    assert list(empty.columns) == list(frame.columns) and len(empty) == 0


@pytest.mark.parametrize(("filter_string", "message"), [
    ("trace.bogus = 1", "at position 0, expected a trace field"),
    ("trace.status = 1", "compares to strings"),
    ("trace.cost > 'a'", "compares to numbers"),
    ("trace.text = 'x'", "LIKE or ILIKE"),
    ("trace.status = 'OK' AND", "at position 23"),
    ("(trace.status = 'OK'", "to close the '('"),
    ("runs.x = 'a'", "expected a key starting with trace., tags., metadata. or span."),
    ("span.bogus = 'a'", "span.name, span.type, span.status or span.attributes.KEY"),
    ("tags.team ~ 'x'", "unexpected character"),
    ("trace.cost LIKE 'x'", "compares to numbers"),
])
def test_filter_errors_name_the_token_and_position(sqlite_uri: str, filter_string: str, message: str) -> None:
    with pytest.raises(HeronError) as caught:
        heron.search_traces(filter_string=filter_string)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert message in caught.value.message
    assert filter_string in caught.value.message


def test_argument_errors(sqlite_uri: str) -> None:
    with pytest.raises(HeronError, match="order"):
        heron.search_traces(order_by=["trace.text"])
    with pytest.raises(HeronError, match="return_type"):
        heron.search_traces(return_type="json")  # type: ignore[arg-type]
    with pytest.raises(HeronError, match="max_results"):
        heron.search_traces(max_results=0)
    with pytest.raises(HeronError, match="page token"):
        heron.search_traces(page_token="garbage")
