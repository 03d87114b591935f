"""What the runs pages show, computed from tracking records: the runs table's columns and cells, sort
links, and the side-by-side rows of the compare page.

Plain values only (strings, numbers, lists); the templates render them as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from heron.errors import HeronError
from heron.tracking import search
from heron.tracking.entities import Run
from heron.ui.charts import number_text
from heron.ui.trace_view import duration_text, time_text

__all__ = ["Cell", "Column", "DiffRow", "RunRow", "TableQuery", "available_columns", "default_columns",
           "diff_rows", "parse_columns", "run_row", "SYSTEM_TAG_PREFIX"]

SYSTEM_TAG_PREFIX = "mlflow."
MAX_COLUMNS = 60
DEFAULT_PER_KIND = 10  # metrics and params shown when no column was chosen
_ENTITIES = {"metrics": "metric", "params": "param", "tags": "tag"}
_ATTRIBUTES = {"run_name": "Run", "status": "Status", "start_time": "Started (UTC)", "end_time": "Ended (UTC)"}


@dataclass(frozen=True)
class Column:
    kind: str  # "metrics" | "params" | "tags" | "attributes"
    key: str

    @property
    def ref(self) -> str:
        """The column as the query string names it: ``metrics.acc``."""
        return f"{self.kind}.{self.key}"

    @property
    def order_key(self) -> str:
        """The column in the search language's order_by (keys quoted with backquotes)."""
        return f"{self.kind}.{self.key}" if self.kind == "attributes" else f"{self.kind}.`{self.key}`"

    @property
    def entity(self) -> str:
        return _ENTITIES.get(self.kind, "attribute")

    @property
    def label(self) -> str:
        return _ATTRIBUTES.get(self.key, self.key) if self.kind == "attributes" else self.key


ATTRIBUTE_COLUMNS = tuple(Column("attributes", k) for k in ("run_name", "status", "start_time"))


def parse_columns(values: Sequence[str]) -> list[Column]:
    """``col`` query values (``metrics.acc``, ``params.lr``, ``tags.team``), in order, without repeats.

    Raises INVALID_PARAMETER_VALUE naming the bad value.
    """
    if len(values) > MAX_COLUMNS:
        raise HeronError.invalid(f"col: {len(values)} columns asked for: at most {MAX_COLUMNS} are allowed.")
    found: list[Column] = []
    for value in values:
        kind, dot, key = value.partition(".")
        if not dot or kind not in _ENTITIES or not key.strip() or "`" in key:
            raise HeronError.invalid(
                f"col {value!r} is not a column: expected metrics.<key>, params.<key> or tags.<key>."
            )
        column = Column(kind, key)
        if column not in found:
            found.append(column)
    return found


def available_columns(runs: Sequence[Run], chosen: Sequence[Column]) -> dict[str, list[Column]]:
    """The columns the chooser offers: every key on this page of runs plus the chosen ones, by kind."""
    keys: dict[str, set[str]] = {kind: set() for kind in _ENTITIES}
    for run in runs:
        keys["metrics"].update(run.data.metrics)
        keys["params"].update(run.data.params)
        keys["tags"].update(k for k in run.data.tags if not k.startswith(SYSTEM_TAG_PREFIX))
    for column in chosen:
        keys[column.kind].add(column.key)
    return {kind: [Column(kind, k) for k in sorted(found)] for kind, found in keys.items()}


def default_columns(available: Mapping[str, list[Column]]) -> list[Column]:
    """Without a choice: the first metrics and params of the page (tags are opt-in)."""
    return [*available["metrics"][:DEFAULT_PER_KIND], *available["params"][:DEFAULT_PER_KIND]]


@dataclass(frozen=True)
class Cell:
    text: str
    css: str = ""  # the cell's class attribute
    long: bool = False  # may be clipped: the full text goes in a title too


_CLIP = 24  # characters that fit a column before the text is clipped
_MISSING = Cell("—", "muted")


@dataclass(frozen=True)
class RunRow:
    run_id: str
    name: str
    status: str
    start: str
    duration: str
    cells: list[Cell]


def _cell(run: Run, column: Column) -> Cell:
    if column.kind == "metrics":
        value = run.data.metrics.get(column.key)
        return _MISSING if value is None else Cell(number_text(value), "r nowrap")
    source = run.data.params if column.kind == "params" else run.data.tags
    text = source.get(column.key)
    return _MISSING if text is None else Cell(text, "clip", len(text) > _CLIP)


def run_row(run: Run, columns: Sequence[Column]) -> RunRow:
    info = run.info
    duration = duration_text(info.end_time - info.start_time) if info.end_time and info.start_time else "—"
    return RunRow(info.run_id, info.run_name or info.run_id, info.status,
                  time_text(info.start_time, zone=False) if info.start_time else "—", duration,
                  [_cell(run, c) for c in columns])


@dataclass(frozen=True)
class TableQuery:
    """The runs table's query string: filter, order, chosen columns, page. Builds the page's links."""

    base: str
    filter: str
    order_by: str
    columns: tuple[Column, ...]
    chosen: bool  # columns were chosen (even none), rather than defaulted

    def url(self, page_token: str | None = None, order_by: str | None = None) -> str:
        params: list[tuple[str, str]] = []
        if self.filter:
            params.append(("filter", self.filter))
        order = self.order_by if order_by is None else order_by
        if order:
            params.append(("order_by", order))
        if self.chosen:
            params.append(("chosen", "1"))
            params.extend(("col", c.ref) for c in self.columns)
        if page_token:
            params.append(("page_token", page_token))
        return f"{self.base}?{urlencode(params)}" if params else self.base

    def sort(self, column: Column) -> tuple[str, str | None]:
        """The link that sorts by ``column`` (descending first, then ascending) and its current direction
        ("ascending", "descending" or None)."""
        current = self.current_order()
        here = current is not None and current.entity == column.entity and current.key == column.key
        direction = None if not here or current is None else ("ascending" if current.ascending else "descending")
        flip = "ASC" if direction == "descending" else "DESC"
        return self.url(order_by=f"{column.order_key} {flip}"), direction

    def current_order(self) -> search.OrderBy | None:
        if not self.order_by:
            return search.OrderBy("attribute", "start_time", False)
        try:
            return search.parse_order_by(self.order_by)
        except HeronError:
            return None


@dataclass(frozen=True)
class DiffRow:
    key: str
    values: list[str | None]
    differs: bool


def diff_rows(maps: Sequence[Mapping[str, object]], as_number: bool = False) -> list[DiffRow]:
    """One row per key of any map, values side by side; ``differs`` when they are not all the same
    (a missing value differs from any value)."""
    keys = sorted({k for m in maps for k in m})
    rows = []
    for key in keys:
        raw = [m.get(key) for m in maps]
        values = [None if v is None else (number_text(float(v)) if as_number and isinstance(v, int | float) else str(v))
                  for v in raw]
        rows.append(DiffRow(key, values, len(set(values)) > 1))
    return rows
