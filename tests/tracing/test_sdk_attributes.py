"""sdk_attributes: Heron's already-valid attributes go straight into SDK spans, and every case the SDK
must handle itself (limits, other value types, ended spans, other spans) still goes through the SDK."""

from __future__ import annotations

import logging
import math

import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import SpanLimits, TracerProvider

import heron
from heron.tracing.attributes import INPUTS, OUTPUTS
from heron.tracing.sdk_attributes import put, put_all, put_attributes
from heron.tracing.spans import attribute_value


def _span(limits: SpanLimits | None = None) -> otel_trace.Span:
    return TracerProvider(span_limits=limits).get_tracer("test").start_span("s")


def test_put_stores_plain_values_as_the_sdk_would() -> None:
    span = _span()
    put(span, "a", "text")
    put(span, "b", 3)
    put_all(span, {"c": True, "d": 1.5}, "e", "last")
    put(span, "a", "again")  # a replaced key moves to the end, as with set_attribute
    assert list(span.attributes.items()) == [  # type: ignore[attr-defined]
        ("b", 3), ("c", True), ("d", 1.5), ("e", "last"), ("a", "again")]


def test_put_leaves_lists_and_objects_to_the_sdk() -> None:
    span = _span()
    put(span, "tags", ["x", "y"])
    put_all(span, {}, "ids", [1, 2])
    assert span.attributes["tags"] == ("x", "y")  # type: ignore[attr-defined]  # the SDK's tuple
    assert span.attributes["ids"] == (1, 2)  # type: ignore[attr-defined]


def test_put_attributes_stores_what_set_attributes_of_converted_values_would() -> None:
    values = {"s": "text", "n": 3, "f": 0.5, "b": False, "reasons": ["stop", "length"], "ids": [1, 2],
              "mixed": [1, "a"], "empty": [], "obj": {"a": 1}, "": "no key", "none": None, "big": 2**70,
              "nan": float("nan"), 7: "int key", "tuple": ("x",)}
    direct, checked = _span(), _span()
    put_attributes(direct, values, ("heron.span.type", "CHAIN"))
    converted = {"heron.span.type": "CHAIN"}
    converted.update({str(k): attribute_value(v) for k, v in values.items() if attribute_value(v) is not None})
    checked.set_attributes(converted)
    stored = dict(direct.attributes)  # type: ignore[attr-defined]
    assert list(stored) == list(checked.attributes)  # type: ignore[attr-defined]  # same keys, same order
    assert {k: v for k, v in stored.items() if k != "nan"} == {
        k: v for k, v in checked.attributes.items() if k != "nan"}  # type: ignore[attr-defined]
    assert math.isnan(stored["nan"])
    assert stored["reasons"] == ("stop", "length") and stored["ids"] == (1, 2)  # tuples, as the SDK keeps them
    assert stored["obj"] == '{"a":1}' and stored["big"] == str(2**70) and stored["7"] == "int key"
    assert "" not in stored and "none" not in stored
    ended = _span()
    ended.end()
    put_attributes(ended, {"late": "value"})
    assert "late" not in ended.attributes  # type: ignore[attr-defined]


def test_put_respects_the_sdk_limits() -> None:
    span = _span(SpanLimits(max_span_attributes=2, max_attribute_length=5))
    put_all(span, {"a": "123456789", "b": "x"}, "c", "y")
    assert dict(span.attributes) == {"b": "x", "c": "y"}  # type: ignore[attr-defined]  # oldest dropped
    put(span, "d", "abcdefgh")
    assert span.attributes["d"] == "abcde"  # type: ignore[attr-defined]  # cut by the SDK
    put_attributes(span, {"e": "abcdefgh", "f": ["abcdefgh"]})
    assert dict(span.attributes) == {"e": "abcde", "f": ("abcde",)}  # type: ignore[attr-defined]


def test_put_on_an_ended_span_is_ignored_with_the_sdk_warning(caplog: pytest.LogCaptureFixture) -> None:
    span = _span()
    span.end()
    with caplog.at_level(logging.WARNING):
        put(span, "late", "value")
    assert "late" not in span.attributes  # type: ignore[attr-defined]
    assert "Setting attribute on ended span" in caplog.text


def test_put_on_a_non_recording_span_does_nothing() -> None:
    put(otel_trace.INVALID_SPAN, "a", "b")
    put_all(otel_trace.INVALID_SPAN, {"a": "b"}, "c", "d")


def test_traced_call_keeps_the_value_length_limit(sqlite_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "120")
    heron.tracing.reset_for_tests()  # the provider reads the limit when it is built
    seen: dict[str, int] = {}

    @heron.trace(attributes={"fixed": "f" * 300, "tags": ["a", "b"]})
    def echo(text: str) -> str:
        span = heron.get_current_active_span()
        assert span is not None
        attributes = span.otel_span.attributes  # type: ignore[attr-defined]
        seen.update({key: len(attributes[key]) for key in (INPUTS, "fixed", "tags")})
        return text

    assert echo("x" * 1000) == "x" * 1000
    assert seen == {INPUTS: 120, "fixed": 120, "tags": 2}
    (span,) = heron.get_trace(heron.get_last_active_trace_id() or "").data.spans  # type: ignore[union-attr]
    assert OUTPUTS not in span.attributes and span.attributes["tags"] == ["a", "b"]
