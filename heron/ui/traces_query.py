"""The traces page's query string: the filter box, the quick filters, the sort, the page token.

Everything a traces page shows is in its URL, so a link reproduces it. ``TracesQuery.parse`` checks each
field and raises HeronError(INVALID_PARAMETER_VALUE) naming the field and what it expects; ``search_filter``
turns the quick filters into terms of search_traces' language, ANDed to the filter box.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from heron.errors import HeronError

__all__ = ["ERRORS_ONLY", "SINCE", "SORTS", "TracesQuery"]

ERRORS_ONLY = "trace.status = 'ERROR'"
# time range quick filters: query value -> (label, milliseconds)
SINCE: dict[str, tuple[str, int]] = {
    "1h": ("Last hour", 3_600_000),
    "1d": ("Last day", 86_400_000),
    "7d": ("Last week", 7 * 86_400_000),
}
# sortable columns: query value -> search_traces' order_by field
SORTS: dict[str, str] = {
    "name": "name", "status": "status", "start": "timestamp_ms", "latency": "execution_time_ms",
    "tokens": "total_tokens", "cost": "cost", "session": "session_id", "user": "user_id",
}
_MAX_LATENCY_MS = 10**12


@dataclass(frozen=True)
class TracesQuery:
    filter: str = ""
    errors: bool = False
    min_latency_ms: int | None = None
    since: str = ""
    sort: str = "start"
    descending: bool = True
    page_token: str = ""

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> TracesQuery:
        """The query of a traces page URL. Raises HeronError(INVALID_PARAMETER_VALUE) for a bad field."""
        errors = params.get("errors", "")
        if errors not in ("", "0", "1"):
            raise HeronError.invalid(f"Invalid errors {errors!r}: expected 1 (errors only) or 0.")
        latency_text = params.get("min_latency_ms", "").strip()
        latency = None
        if latency_text:
            if not latency_text.isdigit() or int(latency_text) > _MAX_LATENCY_MS:
                raise HeronError.invalid(f"Invalid min_latency_ms {latency_text!r}: expected a whole number of "
                                         "milliseconds such as 1000.")
            latency = int(latency_text)
        since = params.get("since", "")
        if since and since not in SINCE:
            raise HeronError.invalid(f"Invalid since {since!r}: expected one of {', '.join(SINCE)}.")
        sort = params.get("sort", "") or "start"
        if sort not in SORTS:
            raise HeronError.invalid(f"Invalid sort {sort!r}: expected one of {', '.join(SORTS)}.")
        direction = params.get("dir", "") or "desc"
        if direction not in ("asc", "desc"):
            raise HeronError.invalid(f"Invalid dir {direction!r}: expected asc or desc.")
        return cls(params.get("filter", "").strip(), errors == "1", latency, since, sort, direction == "desc",
                   params.get("page_token", ""))

    def search_filter(self, now_ms: int) -> str:
        """The filter box ANDed with the quick filters, in search_traces' language ("" for none)."""
        terms = [f"({self.filter})"] if self.filter else []
        if self.errors:
            terms.append(ERRORS_ONLY)
        if self.min_latency_ms is not None:
            terms.append(f"trace.execution_time_ms > {self.min_latency_ms}")
        if self.since:
            terms.append(f"trace.timestamp_ms >= {now_ms - SINCE[self.since][1]}")
        if len(terms) == 1 and self.filter:
            return self.filter
        return " AND ".join(terms)

    def order_by(self) -> list[str]:
        return [f"{SORTS[self.sort]} {'DESC' if self.descending else 'ASC'}"]

    @property
    def narrowed(self) -> bool:
        return bool(self.filter or self.errors or self.min_latency_ms is not None or self.since)

    def params(self) -> dict[str, str]:
        """The non-default fields, as query-string parameters."""
        found: dict[str, str] = {}
        if self.filter:
            found["filter"] = self.filter
        if self.errors:
            found["errors"] = "1"
        if self.min_latency_ms is not None:
            found["min_latency_ms"] = str(self.min_latency_ms)
        if self.since:
            found["since"] = self.since
        if self.sort != "start" or not self.descending:
            found["sort"] = self.sort
            found["dir"] = "desc" if self.descending else "asc"
        if self.page_token:
            found["page_token"] = self.page_token
        return found

    def url(self, base: str, **changes: object) -> str:
        """``base`` with this query, changed by ``changes`` (any change but a page token starts at page 1)."""
        if "page_token" not in changes:
            changes["page_token"] = ""
        changed = dataclasses.replace(self, **changes)  # type: ignore[arg-type]
        query = urlencode(changed.params())
        return f"{base}?{query}" if query else base

    def sort_url(self, base: str, column: str) -> str:
        """The link of a column header: sort by it (numbers and times biggest first), or flip its order."""
        if column == self.sort:
            return self.url(base, descending=not self.descending)
        return self.url(base, sort=column, descending=column not in ("name", "status", "session", "user"))
