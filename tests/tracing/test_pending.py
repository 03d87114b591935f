"""pending.py: span and trace ids as OpenTelemetry prints them, whatever the id."""

from __future__ import annotations

import pytest

from heron.tracing.pending import span_hex, trace_hex


@pytest.mark.parametrize("value", [0, 1, 0xDEADBEEF, 2**64 - 1, 2**127 + 5, 2**128 - 1, 2**128, 2**130, -1])
def test_trace_hex_is_format_032x(value: int) -> None:
    assert trace_hex(value) == format(value, "032x")
    assert trace_hex(value) == format(value, "032x")  # the remembered last id


@pytest.mark.parametrize("value", [0, 1, 0xDEADBEEF, 2**63, 2**64 - 1, 2**64, 2**70, -1])
def test_span_hex_is_format_016x(value: int) -> None:
    assert span_hex(value) == format(value, "016x")
