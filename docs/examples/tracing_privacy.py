"""Keeping secrets out of traces: span processors that redact or drop, and capture_content=False."""

import re

import heron
from heron.tracing import PendingSpan

CARD = re.compile(r"\b\d{4}(?:[ -]?\d{4}){3}\b")


def redact_cards(span: PendingSpan) -> None:
    """Runs on the export thread for every finished span, before it is stored."""
    if span.inputs is not None:
        span.inputs = CARD.sub("[card]", str(span.inputs))
    if span.outputs is not None:
        span.outputs = CARD.sub("[card]", str(span.outputs))


def drop_health_checks(span: PendingSpan) -> bool:
    return span.name != "health_check"  # False drops the span


heron.tracing.configure(span_processors=[redact_cards, drop_health_checks])


@heron.trace
def pay(message: str) -> str:
    return f"charged card in: {message}"


@heron.trace
def health_check() -> str:
    return "ok"


pay("please use 4111 1111 1111 1111")
stored = heron.get_trace(heron.get_last_active_trace_id()).data.spans[0]
print(stored.inputs, "->", stored.outputs)
assert "4111" not in str(stored.inputs) and "[card]" in str(stored.outputs)

health_check()
heron.flush_traces()
assert heron.tracing.stats()["dropped_by_processor"] == 1

# No content at all: timings, errors, models and token usage only.
heron.tracing.configure(capture_content=False)
pay("4111 1111 1111 1111")
span = heron.get_trace(heron.get_last_active_trace_id()).data.spans[0]
assert span.inputs is None and span.outputs is None
