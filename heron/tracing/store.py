"""The trace store interface: read, search and delete stored traces, and attach assessments.

Implementations: ``sqlstore.SqlTraceStore`` (SQLite and PostgreSQL, the tracking store's database) and
``reststore.RestTraceStore`` (a Heron server's ``/api/2.0/heron/traces`` routes); ``stores.get_trace_store``
picks one by tracking URI. Spans are not written through this interface: the export thread writes them
(``sqlwrite.py``, or OTLP to a server), so a store only reads what was exported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from heron.tracing.records import Assessment, Trace

__all__ = ["TraceStore"]


class TraceStore(Protocol):
    def get_traces(self, trace_ids: Sequence[str], include_spans: bool = True) -> list[Trace]:
        """The traces with these ids, in the order given; unknown ids are left out."""

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
        """One page of matching traces and the next page's token (None at the end).

        Raises HeronError(INVALID_PARAMETER_VALUE) for a bad filter, order_by or page token.
        """

    def delete(
        self,
        experiment_id: str,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> int:
        """Delete traces of an experiment (by ids, or started at or before a time, oldest first); how many."""

    def log_assessment(self, assessment: Assessment) -> Assessment:
        """Store an assessment and return it as stored (a server gives it its own id and time).

        Raises HeronError(RESOURCE_DOES_NOT_EXIST) when its trace is not stored.
        """
