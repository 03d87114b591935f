"""Reading, searching and deleting stored traces, and writing assessments, on a SQL tracking store.

The write path of spans is ``sqlwrite.py`` (run by the export thread); everything here runs on the
caller's thread through SQLAlchemy Core.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from heron.errors import HeronError
from heron.tracing import search, search_sql
from heron.tracing.records import (
    Assessment,
    AssessmentSource,
    Span,
    SpanEvent,
    SpanStatus,
    Trace,
    TraceData,
    TraceInfo,
)
from heron.tracking.search import decode_page_token, encode_page_token
from heron.tracking.store.db import Database
from heron.tracking.store.schema import assessments, spans, trace_metadata, trace_tags, traces

__all__ = ["SqlTraceStore"]

_CHUNK = 500  # ids per IN (...) list


class SqlTraceStore:
    """The traces of one SQL tracking store (:class:`heron.tracing.store.TraceStore`). Thread-safe (each
    call uses its own connection)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------------------------ reads

    def exists(self, trace_id: str) -> bool:
        with self.db.read() as conn:
            found = conn.execute(sa.select(traces.c.trace_id).where(traces.c.trace_id == trace_id)).first()
        return found is not None

    def get_traces(self, trace_ids: Sequence[str], include_spans: bool = True) -> list[Trace]:
        """The traces with these ids, in the order given (missing ones left out)."""
        if not trace_ids:
            return []
        with self.db.read() as conn:
            rows: dict[str, Row[Any]] = {}
            for chunk in _chunks(trace_ids):
                for row in conn.execute(sa.select(traces).where(traces.c.trace_id.in_(chunk))):
                    rows[row.trace_id] = row
            ids = [i for i in trace_ids if i in rows]
            tags = _key_values(conn, trace_tags, ids)
            metadata = _key_values(conn, trace_metadata, ids)
            found_assessments = _assessments(conn, ids)
            found_spans = _spans(conn, ids) if include_spans else {}
        return [
            Trace(
                info=_info(rows[i], tags.get(i, {}), metadata.get(i, {}), tuple(found_assessments.get(i, ()))),
                data=TraceData(found_spans.get(i, [])),
            )
            for i in ids
        ]

    def get_spans(self, trace_id: str, span_ids: Sequence[str]) -> list[Span]:
        """The spans of one trace with these ids (with their payloads), by start time."""
        with self.db.read() as conn:
            stmt = sa.select(spans).where(spans.c.trace_id == trace_id, spans.c.span_id.in_(list(span_ids)))
            return [_span(row) for row in conn.execute(stmt.order_by(spans.c.start_time_ns, spans.c.span_id))]

    def search(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None,
        order_by: Sequence[str] | None,
        max_results: int,
        page_token: str | None,
        run_id: str | None,
        include_spans: bool = True,
    ) -> tuple[list[Trace], str | None]:
        """One page of traces matching the filter, and the token of the next page (None at the end).

        Raises HeronError(INVALID_PARAMETER_VALUE) for a bad filter, order_by or page token.
        """
        expr = search.parse_filter(filter_string)
        orders = search.parse_order_by_list(order_by)
        offset = decode_page_token(page_token)
        sqlite = self.db.is_sqlite
        where: list[sa.ColumnElement[bool]] = [traces.c.experiment_id.in_([_int(e) for e in experiment_ids])]
        if run_id is not None:
            where.append(traces.c.run_id == run_id)
        if expr is not None:
            where.append(search_sql.condition(expr, sqlite))
        stmt = (sa.select(traces.c.trace_id).where(*where).order_by(*search_sql.ordering(orders))
                .limit(max_results + 1).offset(offset))
        with self.db.read() as conn:
            ids = [str(i) for i in conn.execute(stmt).scalars()]
        token = None
        if len(ids) > max_results:
            ids = ids[:max_results]
            token = encode_page_token(offset + max_results)
        return self.get_traces(ids, include_spans), token

    # ----------------------------------------------------------------------------------- writes

    def delete(
        self,
        experiment_id: str,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> int:
        """Delete traces (with their spans, tags, metadata and assessments); returns how many."""
        where: list[sa.ColumnElement[bool]] = [traces.c.experiment_id == _int(experiment_id)]
        if max_timestamp_millis is not None:
            where.append(traces.c.start_time <= int(max_timestamp_millis))
        deleted = 0
        with self.db.write() as conn:
            if trace_ids is not None:
                ids = [str(i) for i in trace_ids]
            else:
                stmt = sa.select(traces.c.trace_id).where(*where).order_by(traces.c.start_time.asc())
                if max_traces is not None:
                    stmt = stmt.limit(int(max_traces))
                ids = [str(i) for i in conn.execute(stmt).scalars()]
            for chunk in _chunks(ids):
                result = conn.execute(sa.delete(traces).where(*where, traces.c.trace_id.in_(chunk)))
                deleted += int(result.rowcount or 0)
        return deleted

    def log_assessment(self, assessment: Assessment) -> Assessment:
        with self.db.write() as conn:
            found = conn.execute(sa.select(traces.c.trace_id).where(traces.c.trace_id == assessment.trace_id))
            if found.first() is None:
                raise HeronError.not_found(f"Trace with id {assessment.trace_id!r} not found.")
            conn.execute(sa.insert(assessments).values(
                assessment_id=assessment.assessment_id,
                trace_id=assessment.trace_id,
                span_id=assessment.span_id,
                name=assessment.name,
                kind=assessment.kind,
                value=json.dumps(assessment.value),
                rationale=assessment.rationale,
                source_type=assessment.source.source_type,
                source_id=assessment.source.source_id,
                run_id=assessment.run_id,
                metadata=json.dumps(dict(assessment.metadata)) if assessment.metadata else None,
                created_time=assessment.create_time_ms,
            ))
        return assessment


def _int(value: str | int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # matches nothing: experiment ids are integers


def _chunks(ids: Sequence[str]) -> list[list[str]]:
    return [list(ids[i:i + _CHUNK]) for i in range(0, len(ids), _CHUNK)]


def _key_values(conn: Connection, table: sa.Table, ids: list[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for chunk in _chunks(ids):
        for row in conn.execute(sa.select(table).where(table.c.trace_id.in_(chunk))):
            found[row.trace_id][row.key] = row.value
    return found


def _assessments(conn: Connection, ids: list[str]) -> dict[str, list[Assessment]]:
    found: dict[str, list[Assessment]] = defaultdict(list)
    for chunk in _chunks(ids):
        stmt = sa.select(assessments).where(assessments.c.trace_id.in_(chunk)).order_by(
            assessments.c.created_time, assessments.c.assessment_id)
        for row in conn.execute(stmt):
            found[row.trace_id].append(Assessment(
                assessment_id=row.assessment_id,
                trace_id=row.trace_id,
                name=row.name,
                value=_loads(row.value),
                source=AssessmentSource(row.source_type, row.source_id),
                rationale=row.rationale,
                span_id=row.span_id,
                run_id=row.run_id,
                kind=row.kind,
                metadata=_loads(row.metadata) or {},
                create_time_ms=row.created_time,
            ))
    return found


def _spans(conn: Connection, ids: list[str]) -> dict[str, list[Span]]:
    found: dict[str, list[Span]] = defaultdict(list)
    for chunk in _chunks(ids):
        stmt = sa.select(spans).where(spans.c.trace_id.in_(chunk)).order_by(
            spans.c.trace_id, spans.c.start_time_ns, spans.c.span_id)
        for row in conn.execute(stmt):
            found[row.trace_id].append(_span(row))
    return found


def _span(row: Row[Any]) -> Span:
    events = tuple(SpanEvent(e.get("name", ""), int(e.get("timestamp_ns", 0)), e.get("attributes") or {})
                   for e in (_loads(row.events) or []))
    return Span(
        trace_id=row.trace_id,
        span_id=row.span_id,
        parent_id=row.parent_span_id,
        name=row.name,
        span_type=row.span_type,
        status=SpanStatus(row.status, row.status_message or ""),
        start_time_ns=row.start_time_ns,
        end_time_ns=row.end_time_ns,
        inputs=_loads(row.inputs),
        outputs=_loads(row.outputs),
        attributes=_loads(row.attributes) or {},
        events=events,
    )


def _info(row: Row[Any], tags: dict[str, str], metadata: dict[str, str],
          found_assessments: tuple[Assessment, ...]) -> TraceInfo:
    return TraceInfo(
        trace_id=row.trace_id,
        experiment_id=str(row.experiment_id),
        run_id=row.run_id,
        name=row.name,
        status=row.status,
        request_time=row.start_time,
        execution_duration=None if row.end_time is None else row.end_time - row.start_time,
        request_preview=row.request_preview,
        response_preview=row.response_preview,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        total_tokens=row.total_tokens,
        cached_input_tokens=row.cached_input_tokens,
        cost=row.cost,
        unpriced_spans=row.unpriced_spans,
        span_count=row.span_count,
        session_id=row.session_id,
        user_id=row.user_id,
        tags=tags,
        trace_metadata=metadata,
        assessments=found_assessments,
    )


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
