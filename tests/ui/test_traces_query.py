"""The traces page's query string: each field checked with a message naming it, the quick filters as
terms of search_traces' language, stable URLs."""

from __future__ import annotations

import pytest

from heron.errors import HeronError
from heron.tracing.search import parse_filter
from heron.ui.traces_query import TracesQuery


def test_defaults_and_round_trip() -> None:
    q = TracesQuery.parse({})
    assert (q.filter, q.errors, q.min_latency_ms, q.since, q.sort, q.descending) == ("", False, None, "", "start", True)
    assert q.search_filter(0) == "" and q.order_by() == ["timestamp_ms DESC"] and not q.narrowed
    assert q.url("/t") == "/t"
    full = TracesQuery.parse({"filter": " tags.a = 'x' OR trace.status = 'OK' ", "errors": "1",
                              "min_latency_ms": "250", "since": "1d", "sort": "cost", "dir": "asc",
                              "page_token": "abc"})
    assert TracesQuery.parse(dict(p.split("=") for p in full.url("/t").split("?")[1].split("&"))).since == "1d"
    text = full.search_filter(now_ms=100_000_000)
    assert text == ("(tags.a = 'x' OR trace.status = 'OK') AND trace.status = 'ERROR' AND "
                    "trace.execution_time_ms > 250 AND trace.timestamp_ms >= 13600000")
    assert parse_filter(text) is not None  # the combination is valid filter language
    assert full.order_by() == ["cost ASC"]
    assert "page_token" not in full.url("/t") and "page_token=x" in full.url("/t", page_token="x")
    assert full.sort_url("/t", "cost").endswith("dir=desc")  # the sorted column flips
    assert "sort=latency&dir=desc" in full.sort_url("/t", "latency")  # numbers start biggest first
    assert "sort=name&dir=asc" in full.sort_url("/t", "name")


@pytest.mark.parametrize(("params", "field"), [
    ({"min_latency_ms": "-5"}, "min_latency_ms"), ({"min_latency_ms": "1.5"}, "min_latency_ms"),
    ({"min_latency_ms": "9" * 20}, "min_latency_ms"), ({"since": "forever"}, "since"),
    ({"sort": "trace_id; DROP"}, "sort"), ({"dir": "sideways"}, "dir"), ({"errors": "true"}, "errors"),
])
def test_a_bad_field_is_named_in_the_error(params: dict[str, str], field: str) -> None:
    with pytest.raises(HeronError, match=f"Invalid {field} .*expected") as caught:
        TracesQuery.parse(params)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
