"""The trace store of a Heron server: ``/api/2.0/heron/traces/...`` over the tracking REST transport.

Requests go through :class:`heron.tracking.remote.RemoteServer` (the REST tracking store's pooled
connection, ``HERON_TRACKING_TOKEN`` as a bearer token, retries with backoff). Reads and deletes are
retried on a broken connection or a 502/503/504 (deleting twice deletes the same traces); logging an
assessment is not (it could be stored twice). Errors come back as the HeronError the server raised.
Thread-safe.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from heron.errors import RESOURCE_DOES_NOT_EXIST, HeronError
from heron.tracing import wire
from heron.tracing.records import Assessment, Trace, TraceData
from heron.tracking.remote import RemoteServer, search_fields

__all__ = ["RestTraceStore", "TRACES_PREFIX", "MAX_PAGE"]

TRACES_PREFIX = "/api/2.0/heron/traces"
MAX_PAGE = 1_000  # the server's limit on max_results per request
_TRACE_ID = re.compile(r"^[0-9a-fA-F]{1,32}$")


class RestTraceStore:
    """The traces kept by the Heron server ``server`` talks to."""

    def __init__(self, server: RemoteServer) -> None:
        self.server = server

    def get_traces(self, trace_ids: Sequence[str], include_spans: bool = True) -> list[Trace]:
        found: list[Trace] = []
        for trace_id in trace_ids:
            if not _TRACE_ID.match(trace_id):
                continue  # no stored trace has such an id (the SQL store finds nothing either)
            try:
                answer = self.server.call("GET", f"{TRACES_PREFIX}/{trace_id}", idempotent=True)
            except HeronError as exc:
                if exc.error_code == RESOURCE_DOES_NOT_EXIST:
                    continue
                raise
            trace = wire.trace_from_json(answer["trace"])
            found.append(trace if include_spans else Trace(trace.info, TraceData([])))
        return found

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
        """One page of ``max_results``, asked for in requests of at most ``MAX_PAGE`` traces."""
        found: list[Trace] = []
        token = page_token
        while True:
            body: dict[str, Any] = {
                "experiment_ids": [str(e) for e in experiment_ids],
                "max_results": min(MAX_PAGE, max_results - len(found)),
                "include_spans": include_spans,
                **search_fields(filter_string, order_by, token),
            }
            if run_id is not None:
                body["run_id"] = run_id
            answer = self.server.call("POST", f"{TRACES_PREFIX}/search", json=body, idempotent=True)
            found.extend(wire.trace_from_json(t) for t in answer.get("traces") or ())
            token = answer.get("next_page_token") or None
            if token is None or len(found) >= max_results:
                return found, token

    def delete(
        self,
        experiment_id: str,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> int:
        body: dict[str, Any] = {"experiment_id": str(experiment_id)}
        if max_timestamp_millis is not None:
            body["max_timestamp_millis"] = int(max_timestamp_millis)
        if max_traces is not None:
            body["max_traces"] = int(max_traces)
        if trace_ids is not None:
            body["trace_ids"] = [str(i) for i in trace_ids]
        answer = self.server.call("POST", f"{TRACES_PREFIX}/delete", json=body, idempotent=True)
        return int(answer.get("traces_deleted") or 0)

    def log_assessment(self, assessment: Assessment) -> Assessment:
        body: dict[str, Any] = {
            "name": assessment.name,
            "value": assessment.value,
            "source": {"source_type": assessment.source.source_type, "source_id": assessment.source.source_id},
            "kind": assessment.kind,
        }
        for key in ("rationale", "span_id", "run_id"):
            if getattr(assessment, key) is not None:
                body[key] = getattr(assessment, key)
        if assessment.metadata:
            body["metadata"] = dict(assessment.metadata)
        if not _TRACE_ID.match(assessment.trace_id):
            raise HeronError.not_found(f"Trace with id {assessment.trace_id!r} not found.")
        answer = self.server.call("POST", f"{TRACES_PREFIX}/{assessment.trace_id}/assessments", json=body,
                                  idempotent=False)
        return wire.assessment_from_json(answer["assessment"])
