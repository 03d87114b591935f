"""Where finished spans go: the SQL tracking store, or an OTLP/HTTP endpoint. Used by the export thread."""

from __future__ import annotations

import os
from typing import Any, Protocol

from opentelemetry.sdk.trace.export import SpanExportResult

from heron import config
from heron.tracing.cost import span_cost
from heron.tracing.pending import PendingSpan, Target, to_readable
from heron.tracing.sqlwrite import TraceWriter
from heron.tracing.usage import UsageLedger, summarize
from heron.tracking.stores import get_sql_store
from heron.tracking.uri import resolve

__all__ = ["Sink", "SqlSink", "OtlpSink", "PartialWrite", "open_sink", "sink_key", "OTLP_PREFIX"]

OTLP_PREFIX = "otlp:"
_OTLP_CHUNK = 512  # spans per request, well under collectors' request size limits


class PartialWrite(OSError):
    """A write that failed after ``written`` of its spans had gone out."""

    def __init__(self, message: str, written: int) -> None:
        super().__init__(message)
        self.written = written


class Sink(Protocol):
    def write(self, spans: list[tuple[PendingSpan, Target]]) -> None:
        """Write the spans (in end order); raise on any failure (the batch is then counted as dropped)."""


class SqlSink:
    """The tracking store at ``uri``: trace rows upserted, spans inserted, one transaction a batch."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.ledger = UsageLedger()
        self._writer: TraceWriter | None = None

    def write(self, spans: list[tuple[PendingSpan, Target]]) -> None:
        store = get_sql_store(self.uri)
        db = store.db
        writer = self._writer
        if writer is None:
            writer = self._writer = TraceWriter(db.is_sqlite)
        with db.raw_write() as cursor:
            spans = writer.unseen(cursor, spans)
            partials = summarize(spans, self.ledger, span_cost)
            writer.write(cursor, partials.values(), (s for s, _ in spans))


class OtlpSink:
    """OTLP/HTTP protobuf to ``endpoint`` (a full traces URL such as http://host:4318/v1/traces)."""

    def __init__(self, endpoint: str) -> None:
        # Optional dependency, imported only when traces go out over OTLP.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        self.endpoint = endpoint
        # timeout, headers, compression and TLS come from the standard OTEL_EXPORTER_OTLP_TRACES_* variables
        self._exporter: Any = OTLPSpanExporter(endpoint=endpoint)

    def write(self, spans: list[tuple[PendingSpan, Target]]) -> None:
        for start in range(0, len(spans), _OTLP_CHUNK):
            chunk = spans[start:start + _OTLP_CHUNK]
            result = self._exporter.export([to_readable(s, t) for s, t in chunk])
            if result is not SpanExportResult.SUCCESS:
                raise PartialWrite(f"the OTLP endpoint {self.endpoint} did not accept {len(chunk)} spans", start)


def sink_key(target: Target) -> str:
    """The sink a trace's spans go to now: an OTLP endpoint when HERON_OTLP_ENDPOINT or
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, else the tracking URI the trace started with."""
    endpoint = config.OTLP_ENDPOINT.get() or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    return OTLP_PREFIX + endpoint if endpoint else target.sink


def open_sink(key: str) -> Sink:
    """The sink for a target's ``sink`` key: ``otlp:URL``, an http(s) tracking URI, or a SQL store URI."""
    if key.startswith(OTLP_PREFIX):
        return OtlpSink(key[len(OTLP_PREFIX):])
    location = resolve(key)
    if location.kind == "rest":
        return OtlpSink(location.uri.rstrip("/") + "/v1/traces")
    return SqlSink(key)
