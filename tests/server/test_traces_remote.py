"""The trace read tests of tests/tracing, run unchanged with an http:// tracking URI.

Spans go to the live server over OTLP (``/v1/traces``); ``get_trace``, ``search_traces``,
``log_assessment`` and ``delete_traces`` go through the REST trace store and the server's trace routes
into its SQL store, on SQLite and PostgreSQL. The ``tracking_uri`` and ``sqlite_uri`` fixtures below
override the shared ones (tests/conftest.py), as tests/server/test_tracking_suite.py does for runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

import heron
import heron.openai
from heron.errors import HeronError
from heron.server import BackgroundServer
from heron.tracing.cost import price_for
from heron.tracing.reststore import RestTraceStore
from heron.tracing.sqlstore import SqlTraceStore
from heron.tracing.stores import get_trace_store
from heron.tracking.stores import get_sql_store
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.fakes.openai_server import FakeOpenAI
from tests.server.conftest import server_settings
from tests.tracing.test_search import (  # noqa: F401 - collected here, against the server
    test_argument_errors,
    test_dataframe,
    test_default_order_is_newest_first,
    test_filter_errors_name_the_token_and_position,
    test_filters,
    test_order_by_and_pages,
    test_other_experiment_and_explicit_ids,
    traces,
)
from tests.tracing.test_store import (  # noqa: F401
    test_assessments_are_logged_and_read_back,
    test_delete_traces_by_id_by_time_and_count,
    test_error_root_makes_an_error_trace,
    test_trace_row_is_merged_when_the_root_arrives_last,
    test_unpriced_model_flags_the_trace_and_never_counts_as_zero,
    test_usage_is_counted_once_when_an_llm_span_wraps_another,
)


@pytest.fixture
def tracking_uri(suite_tracking_uri: str) -> str:
    """The imported tests' store: a live server (tests/server/conftest.py), overriding tests/conftest.py's."""
    return suite_tracking_uri


@pytest.fixture
def sqlite_uri(tmp_path: Path) -> Iterator[str]:
    """A live server on SQLite as the tracking URI (the error tests need no PostgreSQL run)."""
    with BackgroundServer(server_settings(tmp_path)) as server:
        heron.set_tracking_uri(server.url)
        yield server.url


def test_the_store_follows_the_tracking_uri(sqlite_uri: str, tmp_path: Path) -> None:
    assert isinstance(get_trace_store(), RestTraceStore)
    assert isinstance(get_trace_store(f"sqlite:///{tmp_path / 'other.db'}"), SqlTraceStore)


def test_autolog_and_trace_decorator_end_to_end(tracking_uri: str, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    """What an app does: a traced function calling OpenAI, autologged, against a server."""
    heron.set_experiment("support-bot")
    heron.openai.autolog()
    try:
        client = openai.OpenAI(base_url=fake_openai.base_url, api_key="test", max_retries=0)

        @heron.trace(name="answer")
        def answer(question: str) -> str:
            heron.update_current_trace(session_id="s-42", tags={"channel": "web"})
            reply = client.chat.completions.create(model="gpt-4o-mini",
                                                   messages=[{"role": "user", "content": question}])
            return reply.choices[0].message.content or ""

        answer("Where is my refund?")
    finally:
        heron.openai.autolog(disable=True)

    found = heron.search_traces(filter_string="trace.session_id = 's-42'", return_type="list")
    assert [t.info.name for t in found] == ["answer"]
    info = found[0].info
    price = price_for("gpt-4o-mini")
    assert price is not None
    assert info.input_tokens > 0 and info.output_tokens > 0
    assert info.cost == pytest.approx(price.cost(info.input_tokens, info.output_tokens, info.cached_input_tokens))
    assert info.tags == {"channel": "web"} and not info.unpriced
    assert [s.span_type for s in found[0].data.spans] == ["UNKNOWN", "CHAT_MODEL"]
    assert info.experiment_id == heron.get_experiment_by_name("support-bot").experiment_id  # type: ignore[union-attr]

    frame = heron.search_traces(filter_string="span.type = 'CHAT_MODEL'")
    assert list(frame["name"]) == ["answer"] and frame.iloc[0]["total_tokens"] == info.total_tokens
    feedback = heron.log_feedback(info.trace_id, name="helpful", value=True, rationale="solved")
    assert feedback.assessment_id.startswith("a-")  # the server's id, read back from its answer
    assert heron.get_trace("tr-" + info.trace_id).info.assessments == (feedback,)  # type: ignore[union-attr]


def test_a_bad_argument_is_refused_and_nothing_is_written(sqlite_uri: str) -> None:
    with heron.start_span("only") as span:
        pass
    with pytest.raises(HeronError, match="Assessment name must be a non-empty string"):
        heron.log_assessment(span.trace_id, name="", value=1)
    with pytest.raises(HeronError, match="span_id") as caught:
        heron.log_assessment(span.trace_id, name="x", value=1, span_id="z" * 40)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert heron.get_trace(span.trace_id).info.assessments == ()  # type: ignore[union-attr]
    assert heron.get_trace("not a trace id") is None


def test_unreachable_server_names_the_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_HTTP_RETRY_TIMEOUT_S", "0.3")
    with BackgroundServer(server_settings(tmp_path)) as server:
        url = server.url
    heron.set_tracking_uri(url)
    with pytest.raises(HeronError, match=url.replace(".", r"\.")):
        heron.get_trace("ab" * 16)


def test_spans_written_through_the_server_are_in_its_database(tracking_uri: str, tmp_path: Path) -> None:
    """The REST store reads what the server's own SQL store holds (not a client-side copy)."""
    with heron.start_span("seen-by-both") as span:
        pass
    assert heron.get_trace(span.trace_id) is not None
    server_db = tmp_path / "server" / "heron.db"
    if server_db.exists():
        direct = SqlTraceStore(get_sql_store(f"sqlite:///{server_db}").db).get_traces([span.trace_id])
        assert [t.info.name for t in direct] == ["seen-by-both"]
