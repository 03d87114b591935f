"""``POST /v1/traces``: OTLP/HTTP trace ingest, protobuf (``application/x-protobuf``) or JSON
(``application/json``, OTLP's JSON mapping with hex ids), optionally gzip-compressed.

Spans from any OpenTelemetry exporter (the official OTLP one, Heron's own export path, OpenInference or
OpenLLMetry instrumentations) become Heron traces through the same path Heron's export thread uses:
each OTLP span is read into an SDK ``ReadableSpan`` and handed to ``pending.from_readable`` (which
normalises OpenInference/OpenLLMetry attributes to the GenAI names), totals and cost come from
``usage.summarize`` with ``cost.span_cost``, and ``sqlwrite.TraceWriter`` writes the rows. A request
is written in one transaction before the answer goes out; a malformed payload gets 400 with the reason
and nothing of it is written.

The experiment of a trace: the ``x-heron-experiment-id`` header, else the resource attribute
``heron.experiment_id``, else the ``heron.experiment_id`` attribute Heron's exporter puts on a trace's
first span, else Default ("0").
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Request, Response
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OtlpSpan
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from starlette.concurrency import run_in_threadpool

from heron.auth.records import EXPERIMENT, Role
from heron.errors import MALFORMED_REQUEST, HeronError
from heron.server.access import Access, access_of
from heron.server.context import ServerContext
from heron.server.errors import BodyTooLarge
from heron.server.messages import ERRORS
from heron.tracing.attributes import EXPERIMENT_ID, RUN_ID
from heron.tracing.cost import span_cost
from heron.tracing.pending import PendingSpan, Target, from_readable
from heron.tracing.sqlwrite import TraceWriter
from heron.tracing.usage import UsageLedger, summarize

__all__ = ["router", "EXPERIMENT_HEADER", "ingest"]

router = APIRouter(tags=["otlp"], responses=ERRORS)

EXPERIMENT_HEADER = "x-heron-experiment-id"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
DEFAULT_EXPERIMENT = "0"
_MAX_EXPERIMENT_ID = 2**31 - 1
# OTLP span flags: bit 8 says whether bit 9 (the parent is remote) is known
_PARENT_REMOTE_KNOWN = 0x100
_PARENT_REMOTE = 0x200
_KINDS = {
    OtlpSpan.SPAN_KIND_SERVER: SpanKind.SERVER,
    OtlpSpan.SPAN_KIND_CLIENT: SpanKind.CLIENT,
    OtlpSpan.SPAN_KIND_PRODUCER: SpanKind.PRODUCER,
    OtlpSpan.SPAN_KIND_CONSUMER: SpanKind.CONSUMER,
}


class _Ingest:
    """What one app keeps between requests: the usage ledger (a trace's spans may arrive over several
    requests; see ``heron.tracing.usage``) and the writer, under one lock (the ledger is not
    thread-safe, and a request's summary and write belong together)."""

    def __init__(self, is_sqlite: bool) -> None:
        self.lock = threading.Lock()
        self.ledger = UsageLedger()
        self.writer = TraceWriter(is_sqlite)


_INGESTS_LOCK = threading.Lock()


def _ingest_state(request: Request, context: ServerContext) -> _Ingest:
    state = request.app.state
    found = getattr(state, "heron_otlp", None)
    if isinstance(found, _Ingest):
        return found
    with _INGESTS_LOCK:
        found = getattr(state, "heron_otlp", None)
        if not isinstance(found, _Ingest):
            found = _Ingest(context.store.db.is_sqlite)
            state.heron_otlp = found
        return found


@router.post(
    "/v1/traces",
    summary="OTLP/HTTP trace ingest",
    description="An OTLP ExportTraceServiceRequest as application/x-protobuf or application/json (hex ids), "
    "optionally Content-Encoding: gzip. The experiment comes from the x-heron-experiment-id header, else the "
    "resource attribute heron.experiment_id, else Default. Answers an empty ExportTraceServiceResponse in the "
    "request's content type once the spans are stored.",
)
async def export_traces(request: Request) -> Response:
    context: ServerContext = request.app.state.heron
    kind = _content_type(request.headers.get("content-type"))
    header = request.headers.get(EXPERIMENT_HEADER)
    experiment = _experiment_id(header, f"header {EXPERIMENT_HEADER}") if header is not None else None
    encoding = request.headers.get("content-encoding")
    body = await request.body()
    state = _ingest_state(request, context)
    # decompressing, parsing and writing off the event loop
    await run_in_threadpool(_decode_and_ingest, context, state, body, kind, encoding, experiment, access_of(request))
    if kind == JSON:
        return Response(b"{}", media_type=JSON)
    return Response(ExportTraceServiceResponse().SerializeToString(), media_type=PROTOBUF)


def _decode_and_ingest(context: ServerContext, state: _Ingest, body: bytes, kind: str, encoding: str | None,
                       experiment: str | None, access: Access) -> int:
    message = _parse(_decode(body, encoding, context.settings.max_body_bytes), kind)
    return ingest(context, state, message, experiment, access)


def ingest(context: ServerContext, state: _Ingest, message: ExportTraceServiceRequest, experiment: str | None,
           access: Access | None = None) -> int:
    """Store the spans of ``message`` in one transaction; returns how many were new (a span already stored,
    as when an exporter retries a request, is not stored or counted again). Raises HeronError (400) for a
    malformed span, or PERMISSION_DENIED (403) when ``access`` lacks EDIT on an experiment the spans go
    to, before anything is written."""
    spans, marked = _pending_spans(message, experiment)
    if not spans:
        return 0
    if access is not None:
        for experiment_id in sorted({target.experiment_id for _, target in spans}):
            access.require(EXPERIMENT, experiment_id, Role.EDIT)
    spans.sort(key=lambda item: item[0].end_time_ns)  # children end before parents: the ledger's order
    db = context.store.db
    # A trace's row keeps the experiment of its first spans; when its children came in an earlier request
    # than the first span Heron's exporter marked with heron.experiment_id, the mark moves the trace.
    moves = [(int(t.experiment_id), tid) for tid, t in marked.items()]
    with state.lock:
        with db.raw_write() as cursor:
            spans = state.writer.unseen(cursor, spans)  # a retried request: its spans count once
            partials = summarize(spans, state.ledger, span_cost)
            state.writer.write(cursor, partials.values(), [s for s, _ in spans])
            if moves:
                cursor.executemany(_MOVE if db.is_sqlite else _MOVE.replace("?", "%s"), moves)
    return len(spans)


_MOVE = "UPDATE traces SET experiment_id = ? WHERE trace_id = ?"


# ------------------------------------------------------------------------------------- decoding


def _content_type(value: str | None) -> str:
    kind = (value or "").split(";", 1)[0].strip().lower()
    if kind not in (PROTOBUF, JSON):
        raise HeronError(
            f"OTLP/HTTP takes Content-Type {PROTOBUF} or {JSON}, got {value or 'none'!r}.", MALFORMED_REQUEST
        )
    return kind


def _decode(body: bytes, encoding: str | None, limit: int) -> bytes:
    encoding = (encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding not in ("gzip", "deflate"):
        raise HeronError(f"Unsupported Content-Encoding {encoding!r}: send gzip or none.", MALFORMED_REQUEST)
    decoder = zlib.decompressobj(wbits=47 if encoding == "gzip" else 15)  # 47: gzip or zlib header
    try:
        out = decoder.decompress(body, limit + 1) if limit else decoder.decompress(body)
    except zlib.error as exc:
        raise HeronError(f"Request body is not valid {encoding} data: {exc}.", MALFORMED_REQUEST) from None
    if limit and len(out) > limit:
        raise BodyTooLarge(limit, "an OTLP request once decompressed")
    if not decoder.eof:
        raise HeronError(f"Request body is truncated {encoding} data.", MALFORMED_REQUEST)
    return out


def _parse(body: bytes, kind: str) -> ExportTraceServiceRequest:
    message = ExportTraceServiceRequest()
    if kind == PROTOBUF:
        try:
            message.ParseFromString(body)
        except (DecodeError, ValueError) as exc:
            raise HeronError(f"Request body is not an OTLP ExportTraceServiceRequest: {exc}", MALFORMED_REQUEST) \
                from None
        return message
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HeronError(f"Request body is not valid JSON: {exc}.", MALFORMED_REQUEST) from None
    if not isinstance(data, dict):
        raise HeronError("OTLP JSON request body must be an object with resourceSpans.", MALFORMED_REQUEST)
    _hex_ids_to_base64(data)
    try:
        json_format.ParseDict(data, message, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise HeronError(f"Request body is not an OTLP ExportTraceServiceRequest: {exc}", MALFORMED_REQUEST) \
            from None
    return message


_ID_FIELDS = {"traceId": 16, "trace_id": 16, "spanId": 8, "span_id": 8, "parentSpanId": 8, "parent_span_id": 8}


def _hex_ids_to_base64(data: dict[str, Any]) -> None:
    """OTLP/JSON writes trace and span ids as hex; protobuf's JSON mapping reads bytes as base64."""
    for resource in _objects(data.get("resourceSpans", data.get("resource_spans"))):
        for scope in _objects(resource.get("scopeSpans", resource.get("scope_spans"))):
            for span in _objects(scope.get("spans")):
                _convert_ids(span)
                for link in _objects(span.get("links")):
                    _convert_ids(link)


def _objects(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise HeronError(f"Expected a list in the OTLP JSON body, got {_short(value)}.", MALFORMED_REQUEST)
    return [v for v in value if isinstance(v, dict)]


def _convert_ids(obj: dict[str, Any]) -> None:
    for key, size in _ID_FIELDS.items():
        value = obj.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str) or len(value) != 2 * size:
            raise HeronError(f"OTLP JSON {key} must be {2 * size} hex digits, got {_short(value)}.", MALFORMED_REQUEST)
        try:
            raw = binascii.unhexlify(value)
        except (binascii.Error, ValueError):
            raise HeronError(f"OTLP JSON {key} must be {2 * size} hex digits, got {_short(value)}.",
                             MALFORMED_REQUEST) from None
        obj[key] = base64.b64encode(raw).decode("ascii")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _experiment_id(value: Any, where: str) -> str:
    text = str(value).strip()
    if not text.isdigit() or int(text) > _MAX_EXPERIMENT_ID:
        raise HeronError.invalid(f"Experiment id in {where} must be a non-negative integer, got {_short(value)}.")
    return str(int(text))


# ------------------------------------------------------------------------ OTLP span -> PendingSpan


def _pending_spans(
    message: ExportTraceServiceRequest, header: str | None
) -> tuple[list[tuple[PendingSpan, Target]], dict[str, Target]]:
    """Every span of the request as the export thread would have it, with its trace's target; and the
    targets that came from Heron's ``heron.experiment_id`` span attribute, by trace id."""
    found: list[tuple[PendingSpan, str | None, str | None, str | None]] = []  # span, resource exp, span exp, run
    for resource_spans in message.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        resource_experiment = resource.get(EXPERIMENT_ID)
        if resource_experiment is not None:
            resource_experiment = _experiment_id(resource_experiment, f"resource attribute {EXPERIMENT_ID}")
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                pending = _pending(span)
                attrs = pending.attributes
                span_experiment = attrs.pop(EXPERIMENT_ID, None)
                run_id = attrs.pop(RUN_ID, None)
                if span_experiment is not None:
                    # as the SQL sink does: a bad id in Heron's own attribute keeps the trace in Default
                    text = str(span_experiment).strip()
                    span_experiment = text if text.isdigit() and int(text) <= _MAX_EXPERIMENT_ID else None
                found.append((pending, resource_experiment, span_experiment,
                              str(run_id) if run_id is not None else None))
    # A trace's experiment and run: the header, the resource, then Heron's first-span attributes.
    experiments: dict[str, str] = {}
    runs: dict[str, str] = {}
    for pending, resource_experiment, _, run_id in found:
        if resource_experiment is not None:
            experiments.setdefault(pending.trace_id, resource_experiment)
        if run_id:
            runs.setdefault(pending.trace_id, run_id)
    marked_ids: set[str] = set()
    for pending, _, span_experiment, _ in found:
        if span_experiment is not None and pending.trace_id not in experiments:
            experiments[pending.trace_id] = span_experiment
            marked_ids.add(pending.trace_id)
    targets: dict[str, Target] = {}
    for pending, *_ in found:
        tid = pending.trace_id
        if tid not in targets:
            targets[tid] = Target("otlp", header or experiments.get(tid, DEFAULT_EXPERIMENT), runs.get(tid))
    marked = {tid: targets[tid] for tid in marked_ids if header is None}
    return [(pending, targets[pending.trace_id]) for pending, *_ in found], marked


def _pending(span: OtlpSpan) -> PendingSpan:
    trace_id, span_id, parent_id = span.trace_id, span.span_id, span.parent_span_id
    if len(trace_id) != 16 or not any(trace_id):
        raise HeronError(f"Span {span.name!r} has an invalid trace_id (16 non-zero bytes expected).", MALFORMED_REQUEST)
    if len(span_id) != 8 or not any(span_id):
        raise HeronError(f"Span {span.name!r} has an invalid span_id (8 non-zero bytes expected).", MALFORMED_REQUEST)
    if parent_id and len(parent_id) != 8:
        raise HeronError(f"Span {span.name!r} has an invalid parent_span_id (8 bytes expected).", MALFORMED_REQUEST)
    if span.end_time_unix_nano and span.end_time_unix_nano < span.start_time_unix_nano:
        raise HeronError(f"Span {span.name!r} ends before it starts.", MALFORMED_REQUEST)
    tid = int.from_bytes(trace_id, "big")
    context = SpanContext(tid, int.from_bytes(span_id, "big"), is_remote=False,
                          trace_flags=TraceFlags(TraceFlags.SAMPLED))
    has_parent = bool(parent_id) and any(parent_id)
    parent = SpanContext(tid, int.from_bytes(parent_id, "big"), is_remote=False) if has_parent else None
    attributes = _attributes(span.attributes)
    code = {1: StatusCode.OK, 2: StatusCode.ERROR}.get(span.status.code, StatusCode.UNSET)
    readable = ReadableSpan(
        name=span.name,
        context=context,
        parent=parent,
        attributes=attributes,
        events=[Event(e.name, _attributes(e.attributes), e.time_unix_nano) for e in span.events],
        kind=_KINDS.get(span.kind, SpanKind.INTERNAL),
        status=Status(code, (span.status.message or None) if code is StatusCode.ERROR else None),
        start_time=span.start_time_unix_nano,
        end_time=span.end_time_unix_nano or span.start_time_unix_nano,
    )
    remote_parent = span.flags & _PARENT_REMOTE_KNOWN and span.flags & _PARENT_REMOTE
    # A trace's first span in the process that made it: its root, the span under a remote parent, or
    # the span Heron's exporter marked with the experiment.
    is_local_root = not has_parent or bool(remote_parent) or EXPERIMENT_ID in attributes
    pending = from_readable(readable, is_local_root)
    pending.source = None  # nothing keeps the protobuf-built span once it is read
    return pending


def _attributes(pairs: Sequence[KeyValue]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in pairs:
        value = _value(kv.value)
        if kv.key and value is not None:
            out[kv.key] = value
    return out


def _value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        items = [_value(v) for v in value.array_value.values]
        if all(isinstance(v, str | bool | int | float) for v in items):
            return items
        return json.dumps(items, default=str)
    if which == "kvlist_value":
        return json.dumps(_plain(value.kvlist_value.values), default=str)
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return getattr(value, which)


def _plain(pairs: Sequence[KeyValue]) -> Mapping[str, Any]:
    out: dict[str, Any] = {}
    for kv in pairs:
        item = _value(kv.value)
        if isinstance(item, str) and kv.value.WhichOneof("value") == "kvlist_value":
            item = json.loads(item)
        out[kv.key] = item
    return out
