"""The tracing API around traces as a whole: update the current one, flush, read, search, delete, assess.

MLflow's names and signatures (``mlflow.update_current_trace``, ``mlflow.get_trace``,
``mlflow.search_traces``, ``mlflow.delete_traces``, ``mlflow.log_feedback`` …). Reads flush the export
queue first, so a trace is found as soon as the traced call has returned, as with MLflow's synchronous
export. The store is the tracking URI's (a SQL database, or a Heron server over REST:
``heron.tracing.stores``); each function also takes an explicit ``store``, which the server's routes and
pages use to answer from their own database with the same checks users get.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from opentelemetry import trace as otel_trace

from heron.errors import HeronError
from heron.tracing import cost, decorator, processor, provider
from heron.tracing.attributes import SESSION_ID, TRACE_METADATA, TRACE_NAME, TRACE_TAGS, USER_ID
from heron.tracing.export import EXPORTER
from heron.tracing.records import Assessment, AssessmentSource, Trace
from heron.tracing.store import TraceStore
from heron.tracing.stores import get_trace_store
from heron.tracking import fluent as tracking_fluent

if TYPE_CHECKING:
    import pandas

__all__ = [
    "update_current_trace", "get_last_active_trace_id", "flush_traces", "stats", "get_trace", "search_traces",
    "delete_traces", "log_assessment", "log_feedback", "log_expectation", "PagedList", "reset_for_tests",
]

_logger = logging.getLogger("heron.tracing")
_READ_FLUSH_TIMEOUT_S = 60.0
_SEARCH_PAGE = 1_000
_SOURCE_TYPES = ("HUMAN", "LLM_JUDGE", "CODE")


class PagedList(list[Any]):
    """A page of results; ``token`` is the next page's token (None on the last page)."""

    def __init__(self, items: Sequence[Any], token: str | None) -> None:
        super().__init__(items)
        self.token = token


# ------------------------------------------------------------------------------ the current trace


def update_current_trace(
    tags: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    session_id: str | None = None,
    user_id: str | None = None,
    name: str | None = None,
) -> None:
    """Add tags and metadata to the trace of the current span, and set its session, user or name.

    Tags and metadata merge with earlier calls (later values win). They are kept on the trace's root
    span while it is open. Outside any span it logs a warning and does nothing; it never raises into the
    traced code. Values are stored as strings.
    """
    current = otel_trace.get_current_span()
    span = provider.local_root(current) or current
    if not span.is_recording():
        span = current
    if not span.is_recording():
        _logger.warning("Heron tracing: update_current_trace() was called outside any traced span; ignored.")
        return
    try:
        existing = dict(getattr(span, "attributes", None) or {})
        updates: dict[str, Any] = {}
        if tags:
            updates[TRACE_TAGS] = _merge_json(existing.get(TRACE_TAGS), tags)
        if metadata:
            updates[TRACE_METADATA] = _merge_json(existing.get(TRACE_METADATA), metadata)
        if session_id is not None:
            updates[SESSION_ID] = str(session_id)
        if user_id is not None:
            updates[USER_ID] = str(user_id)
        if name is not None:
            updates[TRACE_NAME] = str(name)
        if updates:
            span.set_attributes(updates)
    except Exception:  # noqa: BLE001
        _logger.warning("Heron tracing: update_current_trace() failed; ignored.", exc_info=True)


def _merge_json(existing: Any, new: Mapping[str, Any]) -> str:
    merged: dict[str, str] = {}
    if isinstance(existing, str):
        try:
            found = json.loads(existing)
            if isinstance(found, dict):
                merged.update(found)
        except ValueError:
            pass
    merged.update({str(k): v if isinstance(v, str) else json.dumps(v, default=str) for k, v in new.items()})
    return json.dumps(merged)


def get_last_active_trace_id(thread_local: bool = False) -> str | None:
    """The id of the last trace whose root span ended in this process (this thread if ``thread_local``)."""
    return processor.last_trace_id(thread_local)


def flush_traces(timeout: float | None = None) -> bool:
    """Block until every finished span queued so far is written (or dropped); False if ``timeout``
    seconds passed first. Spans still open are not waited for. Thread-safe."""
    return EXPORTER.flush(timeout)


def stats() -> dict[str, Any]:
    """Export counters: ``queued`` (waiting now), ``exported``, ``dropped`` (= ``dropped_queue_full`` +
    ``dropped_export_error``), ``dropped_by_processor``, ``processor_errors``, ``failed_batches``,
    ``last_error``."""
    return EXPORTER.stats()


# ------------------------------------------------------------------------------------ stored traces


def _store(store: TraceStore | None) -> TraceStore:
    """``store``, else the tracking URI's after the spans queued so far are written: what a read sees
    includes every traced call that has returned. An explicit store is the caller's own (a server's
    database): the export queue is not waited for."""
    if store is not None:
        return store
    _flush_before_read()
    return get_trace_store()


def _flush_before_read() -> None:
    if not EXPORTER.flush(_READ_FLUSH_TIMEOUT_S):
        _logger.warning("Heron tracing: queued spans were not all written within %ss; results may miss some.",
                        _READ_FLUSH_TIMEOUT_S)


def get_trace(trace_id: str, *, store: TraceStore | None = None) -> Trace | None:
    """The stored trace with this id (``tr-`` prefix accepted), or None if there is none.

    Waits for queued spans to be written first. Raises HeronError if the store cannot be reached.
    """
    found = _store(store).get_traces([_normalize_id(trace_id)])
    return found[0] if found else None


def search_traces(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    max_results: int | None = None,
    order_by: Sequence[str] | None = None,
    page_token: str | None = None,
    run_id: str | None = None,
    return_type: Literal["pandas", "list"] = "pandas",
    include_spans: bool = True,
    *,
    store: TraceStore | None = None,
) -> Any:
    """Traces matching ``filter_string`` (see ``heron.tracing.search`` for the language), newest first.

    ``experiment_ids`` defaults to the active experiment. ``max_results=None`` returns every match;
    with a number, one page, whose next-page token is ``result.token`` (list) or
    ``result.attrs["next_page_token"]`` (DataFrame); pass it back as ``page_token``. Returns a pandas
    DataFrame (MLflow's columns) or, with ``return_type="list"``, a list of Trace.
    Raises HeronError(INVALID_PARAMETER_VALUE) for a bad filter, order_by, page token or argument.
    """
    if return_type not in ("pandas", "list"):
        raise HeronError.invalid(f"return_type must be 'pandas' or 'list', got {return_type!r}.")
    if max_results is not None and (not isinstance(max_results, int) or max_results <= 0):
        raise HeronError.invalid(f"max_results must be a positive integer or None, got {max_results!r}.")
    ids = [str(e) for e in experiment_ids] if experiment_ids else [tracking_fluent.resolve_experiment_id()]
    store = _store(store)
    if max_results is not None:
        found, token = store.search(ids, filter_string, order_by, max_results, page_token, run_id, include_spans)
    else:
        found, token = [], page_token
        while True:
            page, token = store.search(ids, filter_string, order_by, _SEARCH_PAGE, token, run_id, include_spans)
            found.extend(page)
            if token is None:
                break
    if return_type == "list":
        return PagedList(found, token)
    return _frame(found, token)


def _frame(found: list[Trace], token: str | None) -> pandas.DataFrame:
    import pandas as pd  # heavy: only when a frame is asked for

    rows = []
    for t in found:
        info = t.info
        root = t.data._root()
        rows.append({
            "trace_id": info.trace_id,
            "trace": t,
            "state": info.status,
            "request_time": info.request_time,
            "execution_duration": info.execution_duration,
            "request": root.inputs if root is not None else _loads(info.request_preview),
            "response": root.outputs if root is not None else _loads(info.response_preview),
            "trace_metadata": dict(info.trace_metadata),
            "tags": dict(info.tags),
            "spans": t.data.spans,
            "assessments": list(info.assessments),
            "name": info.name,
            "experiment_id": info.experiment_id,
            "run_id": info.run_id,
            "session_id": info.session_id,
            "user_id": info.user_id,
            "input_tokens": info.input_tokens,
            "output_tokens": info.output_tokens,
            "total_tokens": info.total_tokens,
            "cost": info.cost,
            "unpriced": info.unpriced,
            # MLflow 2 spellings
            "request_id": info.trace_id,
            "timestamp_ms": info.request_time,
            "status": info.status,
            "execution_time_ms": info.execution_duration,
            "request_metadata": dict(info.trace_metadata),
        })
    frame: pd.DataFrame = pd.DataFrame(rows, columns=_FRAME_COLUMNS)
    frame.attrs["next_page_token"] = token
    return frame


_FRAME_COLUMNS = ["trace_id", "trace", "state", "request_time", "execution_duration", "request", "response",
                  "trace_metadata", "tags", "spans", "assessments", "name", "experiment_id", "run_id",
                  "session_id", "user_id", "input_tokens", "output_tokens", "total_tokens", "cost", "unpriced",
                  "request_id", "timestamp_ms", "status", "execution_time_ms", "request_metadata"]


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def delete_traces(
    experiment_id: str,
    max_timestamp_millis: int | None = None,
    max_traces: int | None = None,
    trace_ids: Sequence[str] | None = None,
    older_than: datetime.timedelta | float | None = None,
    *,
    store: TraceStore | None = None,
) -> int:
    """Delete traces of an experiment; returns how many were deleted.

    Either ``trace_ids``, or a time bound: ``max_timestamp_millis`` (traces started at or before it) or
    ``older_than`` (a timedelta or seconds before now), optionally with ``max_traces`` (oldest first).
    Raises HeronError(INVALID_PARAMETER_VALUE) when neither or both kinds are given.
    """
    if older_than is not None:
        if max_timestamp_millis is not None:
            raise HeronError.invalid("delete_traces takes max_timestamp_millis or older_than, not both.")
        seconds = older_than.total_seconds() if isinstance(older_than, datetime.timedelta) else float(older_than)
        max_timestamp_millis = int((time.time() - seconds) * 1000)
    if (trace_ids is None) == (max_timestamp_millis is None):
        raise HeronError.invalid("delete_traces takes either trace_ids or a time bound (max_timestamp_millis or "
                                 "older_than), exactly one of them.")
    if trace_ids is not None and max_traces is not None:
        raise HeronError.invalid("max_traces goes with a time bound, not with trace_ids.")
    if max_traces is not None and (not isinstance(max_traces, int) or max_traces <= 0):
        raise HeronError.invalid(f"max_traces must be a positive integer, got {max_traces!r}.")
    ids = None if trace_ids is None else [_normalize_id(i) for i in trace_ids]
    return _store(store).delete(str(experiment_id), max_timestamp_millis, max_traces, ids)


# -------------------------------------------------------------------------------------- assessments


def log_assessment(
    trace_id: str,
    name: str,
    value: Any = None,
    rationale: str | None = None,
    source: AssessmentSource | str | Mapping[str, Any] | None = None,
    span_id: str | None = None,
    run_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    kind: Literal["feedback", "expectation"] = "feedback",
    *,
    store: TraceStore | None = None,
) -> Assessment:
    """Attach a score or feedback to a stored trace (or one of its spans) and return it.

    ``value`` is any JSON value; ``source`` an AssessmentSource, a source type (HUMAN, LLM_JUDGE, CODE)
    or ``{"source_type": ..., "source_id": ...}`` (default CODE). Waits for queued spans first. Raises
    HeronError: RESOURCE_DOES_NOT_EXIST for an unknown trace, INVALID_PARAMETER_VALUE for a bad argument.
    """
    if not isinstance(name, str) or not name or len(name) > 250:
        raise HeronError.invalid(f"Assessment name must be a non-empty string of at most 250 characters, "
                                 f"got {name!r}.")
    if kind not in ("feedback", "expectation"):
        raise HeronError.invalid(f"Assessment kind must be 'feedback' or 'expectation', got {kind!r}.")
    resolved = _source(source)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise HeronError.invalid(f"Assessment value must be JSON-serialisable, got {type(value).__name__}.") \
            from None
    trace_id = _normalize_id(trace_id)
    target = _store(store)
    assessment = Assessment(
        assessment_id="a-" + uuid.uuid4().hex,
        trace_id=trace_id,
        name=name,
        value=value,
        source=resolved,
        rationale=rationale,
        span_id=span_id,
        run_id=run_id,
        kind=kind,
        metadata=dict(metadata or {}),
        create_time_ms=int(time.time() * 1000),
    )
    return target.log_assessment(assessment)


def log_feedback(trace_id: str, name: str = "feedback", value: Any = None,
                 source: AssessmentSource | str | Mapping[str, Any] | None = None, rationale: str | None = None,
                 metadata: Mapping[str, Any] | None = None, span_id: str | None = None, *,
                 store: TraceStore | None = None) -> Assessment:
    """MLflow 3's ``log_feedback``: ``log_assessment(kind="feedback")``."""
    return log_assessment(trace_id, name, value, rationale, source, span_id, None, metadata, "feedback",
                          store=store)


def log_expectation(trace_id: str, name: str, value: Any,
                    source: AssessmentSource | str | Mapping[str, Any] | None = None,
                    metadata: Mapping[str, Any] | None = None, span_id: str | None = None, *,
                    store: TraceStore | None = None) -> Assessment:
    """MLflow 3's ``log_expectation``: a ground-truth value for the trace (``kind="expectation"``)."""
    return log_assessment(trace_id, name, value, None, source, span_id, None, metadata, "expectation",
                          store=store)


def _source(source: AssessmentSource | str | Mapping[str, Any] | None) -> AssessmentSource:
    if source is None:
        return AssessmentSource("CODE", "default")
    if isinstance(source, AssessmentSource):
        found = source
    elif isinstance(source, str):
        found = AssessmentSource(source.upper(), None)
    elif isinstance(source, Mapping):
        found = AssessmentSource(str(source.get("source_type", "CODE")).upper(), source.get("source_id"))
    else:
        found = AssessmentSource(str(getattr(source, "source_type", "CODE")).upper(),
                                 getattr(source, "source_id", None))
    if found.source_type not in _SOURCE_TYPES:
        raise HeronError.invalid(f"Assessment source_type must be one of {', '.join(_SOURCE_TYPES)}, got "
                                 f"{found.source_type!r}.")
    return found


def _normalize_id(trace_id: str) -> str:
    text = str(trace_id)
    return text[3:] if text.startswith("tr-") else text


# ------------------------------------------------------------------------------------------- tests


def reset_for_tests() -> None:
    """Drop queued spans, counters and configuration; the next span builds a fresh provider."""
    EXPORTER.reset()
    provider.reset()
    cost.clear_prices()
    processor.reset_last_trace_id()
    decorator.reset_warnings()
