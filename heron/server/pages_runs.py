"""The web UI's experiments and runs pages: the experiment list, an experiment's runs table, one run
(params, tags, metric charts, artifacts) and the comparison of 2–10 runs.

Pages read through the server's own tracking Client (the one the REST routes use) and its artifact
destination; every filter, order, column choice and page lives in the query string. Bad input answers a
400 page naming the field, an unknown experiment or run a 404 page.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from heron.auth.records import EXPERIMENT, Role
from heron.errors import HeronError, http_status
from heron.server.access import access_of
from heron.server.context import Ctx, ServerContext
from heron.server.render import error_page, render
from heron.tracking.artifacts import ArtifactRepository
from heron.tracking.artifacts.paths import file_path, relative_path
from heron.tracking.entities import Experiment, FileInfo, Run
from heron.tracking.store.run_summary import run_summaries
from heron.ui import run_view
from heron.ui.artifact_preview import IMAGE_TYPES, MAX_IMAGE_BYTES, Preview, preview, size_text
from heron.ui.charts import Chart, chart, number_text
from heron.ui.trace_view import duration_text, time_text

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
EXPERIMENTS_PAGE_SIZE = 100
MAX_CHARTS = 40  # metric keys charted on a run or compare page
MIN_COMPARE, MAX_COMPARE = 2, 10
_RAW_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


# ------------------------------------------------------------------------------------------ experiments


@dataclass(frozen=True)
class ExperimentRow:
    experiment_id: str
    name: str
    runs: int
    last_update: str


@router.get("/experiments")
def experiment_list(request: Request, ctx: Ctx, page_token: str = "") -> Response:
    """Every active experiment the user may READ with its run count and last update, 100 per page (with
    auth on, a page may hold fewer)."""
    try:
        found = ctx.client.search_experiments(max_results=EXPERIMENTS_PAGE_SIZE, page_token=page_token or None)
    except HeronError as exc:
        return error_page(request, ctx, exc)
    readable = set(access_of(request).readable(EXPERIMENT, [e.experiment_id for e in found]))
    shown = [e for e in found if e.experiment_id in readable]
    summaries = run_summaries(ctx.store.db, [e.experiment_id for e in shown])
    rows = []
    for e in shown:
        summary = summaries.get(e.experiment_id)
        times = [t for t in (e.last_update_time, summary.last_start_time if summary else None) if t]
        rows.append(ExperimentRow(e.experiment_id, e.name, summary.runs if summary else 0,
                                  time_text(max(times), zone=False) if times else "—"))
    next_url = f"/experiments?page_token={found.token}" if found.token else None
    return render(request, ctx, "experiments.html", rows=rows, next_url=next_url,
                  first_url="/experiments" if page_token else None, nav="runs")


# ------------------------------------------------------------------------------------------ runs table


@router.get("/experiments/{experiment_id}/runs")
def runs_table(
    request: Request,
    ctx: Ctx,
    experiment_id: str,
    filter: str = "",
    order_by: str = "",
    page_token: str = "",
    chosen: str = "",
    col: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies defaults
) -> Response:
    """The experiment's runs, ``PAGE_SIZE`` a page: ``filter`` in search_runs' language, ``order_by`` one
    clause, ``col`` the chosen columns (with ``chosen=1``, so that choosing none is possible)."""
    try:
        experiment = ctx.client.get_experiment(experiment_id)
    except HeronError as exc:
        return error_page(request, ctx, exc)
    query_filter, query_order = filter.strip(), order_by.strip()
    base = f"/experiments/{experiment.experiment_id}/runs"
    try:
        columns = run_view.parse_columns(col)
    except HeronError as exc:
        query = run_view.TableQuery(base, query_filter, query_order, (), False)
        return _runs_page(request, ctx, experiment, query, error=exc)
    query = run_view.TableQuery(base, query_filter, query_order, tuple(columns), bool(chosen))
    try:
        found = ctx.client.search_runs([experiment.experiment_id], query_filter, max_results=PAGE_SIZE,
                                       order_by=[query_order] if query_order else None,
                                       page_token=page_token or None)
    except HeronError as exc:
        return _runs_page(request, ctx, experiment, query, error=exc)
    runs = list(found)
    available = run_view.available_columns(runs, columns)
    if not chosen:
        columns = run_view.default_columns(available)
        query = run_view.TableQuery(base, query_filter, query_order, tuple(columns), False)
    return _runs_page(request, ctx, experiment, query, runs=runs, available=available,
                      next_url=query.url(found.token) if found.token else None,
                      first_url=query.url() if page_token else None)


def _runs_page(request: Request, ctx: ServerContext, experiment: Experiment, query: run_view.TableQuery,
               runs: list[Run] | None = None, available: dict[str, list[run_view.Column]] | None = None,
               next_url: str | None = None, first_url: str | None = None,
               error: HeronError | None = None) -> Response:
    columns = list(query.columns)
    headers = [(c, *query.sort(c)) for c in (*run_view.ATTRIBUTE_COLUMNS, *columns)]
    return render(
        request, ctx, "runs.html", http_status(error.error_code) if error else 200, experiment=experiment,
        tab="runs", nav="runs", query=query, headers=headers, columns=columns,
        rows=[run_view.run_row(r, columns) for r in runs or []],
        available=available or {}, chosen_refs={c.ref for c in columns},
        next_url=next_url, first_url=first_url, error=error,
    )


# ------------------------------------------------------------------------------------------ one run


@dataclass(frozen=True)
class Entry:
    name: str
    path: str
    is_dir: bool
    size: str


@dataclass
class Artifacts:
    path: str
    crumbs: list[tuple[str, str]] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    preview: Preview | None = None
    error: str | None = None


@dataclass(frozen=True)
class MetricRow:
    key: str
    value: str
    step: int
    count: int


@router.get("/runs/{run_id}")
def run_page(request: Request, ctx: Ctx, run_id: str, path: str = "") -> Response:
    """One run: info, params, tags, a chart of each metric's history and the artifacts browser at
    ``path`` (a folder is listed, a file previewed)."""
    try:
        run = ctx.client.get_run(run_id)
        rel = relative_path(path)
        experiment = ctx.client.get_experiment(run.info.experiment_id)
    except HeronError as exc:
        return error_page(request, ctx, exc)
    artifacts, status = _artifacts(ctx, run, rel)
    charts: list[Chart] = []
    metrics: list[MetricRow] = []
    for key in sorted(run.data.metrics):
        history = ctx.client.get_metric_history(run.info.run_id, key) if len(charts) < MAX_CHARTS else []
        if history:
            charts.append(chart(key, [(run.info.run_name, history)]))
        last = run.data.metrics[key]
        metrics.append(MetricRow(key, number_text(last), history[-1].step if history else 0, len(history)))
    tags = sorted(run.data.tags.items())
    info = run.info
    return render(
        request, ctx, "run.html", status, experiment=experiment, nav="runs", run=run,
        run_name=info.run_name or info.run_id,
        started=time_text(info.start_time) if info.start_time else "—",
        duration=duration_text(info.end_time - info.start_time) if info.end_time and info.start_time else "—",
        params=sorted(run.data.params.items()), metrics=metrics, charts=charts,
        user_tags=[t for t in tags if not t[0].startswith(run_view.SYSTEM_TAG_PREFIX)],
        system_tags=[t for t in tags if t[0].startswith(run_view.SYSTEM_TAG_PREFIX)],
        artifacts=artifacts, more_charts=len(run.data.metrics) > MAX_CHARTS,
    )


def _artifacts(ctx: ServerContext, run: Run, rel: str) -> tuple[Artifacts, int]:
    """The artifacts section at ``rel`` and the page's status (404 when ``rel`` names nothing)."""
    section = Artifacts(rel)
    parts = rel.split("/") if rel else []
    section.crumbs = [(name, "/".join(parts[: i + 1])) for i, name in enumerate(parts)]
    try:
        repo = ctx.run_artifacts(run.info.artifact_uri)
        target = _find(repo, rel)
        if target is None:
            section.error = f"No artifact {rel!r} in this run."
            return section, 404
        if target.is_dir:
            section.entries = [
                Entry(posixpath.basename(f.path), f.path, f.is_dir, "" if f.is_dir else size_text(f.file_size))
                for f in sorted(repo.list_artifacts(rel or None), key=lambda f: (not f.is_dir, f.path))
            ]
        else:
            section.preview = preview(repo, target)
    except HeronError as exc:
        section.error = exc.message
        return section, 200  # the rest of the run is still worth showing
    return section, 200


def _find(repo: ArtifactRepository, rel: str) -> FileInfo | None:
    """``rel`` as a FileInfo (the root is a folder), looked up in its parent's listing; None if absent."""
    if not rel:
        return FileInfo("", True, None)
    parent = posixpath.dirname(rel)
    for info in repo.list_artifacts(parent or None):
        if info.path == rel:
            return info
    return None


@router.get("/runs/{run_id}/artifact")
def artifact_file(request: Request, ctx: Ctx, run_id: str, path: str = "") -> Response:
    """A run's artifact file: raster images inline with their media type, anything else as a download;
    at most ``MAX_IMAGE_BYTES``. Served with a sandboxing CSP so no file runs as a page."""
    try:
        run = ctx.client.get_run(run_id)
        if not path:
            raise HeronError.invalid("path: expected the path of an artifact file, such as plots/loss.png.")
        rel = file_path(path)
        repo = ctx.run_artifacts(run.info.artifact_uri)
        info = _find(repo, rel)
        if info is None or info.is_dir:
            raise HeronError.not_found(f"No artifact file {rel!r} in run {run_id}.")
        if info.file_size is not None and info.file_size > MAX_IMAGE_BYTES:
            raise HeronError.invalid(
                f"Artifact {rel!r} is {size_text(info.file_size)}: the page serves files up to "
                f"{size_text(MAX_IMAGE_BYTES)}; download it through the artifacts API."
            )
        data = repo.read_bytes(rel)
    except HeronError as exc:
        return error_page(request, ctx, exc)
    media = IMAGE_TYPES.get(posixpath.splitext(rel)[1].lower())
    headers = dict(_RAW_HEADERS)
    if media is None:
        media = "application/octet-stream"
        name = posixpath.basename(rel).replace('"', "").encode("ascii", "replace").decode()
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(data, media_type=media, headers=headers)


# ------------------------------------------------------------------------------------------ compare


@router.get("/compare")
def compare(request: Request, ctx: Ctx, runs: Annotated[list[str], Query()] = []) -> Response:  # noqa: B006
    """2–10 runs side by side: params, metrics and tags with differences marked, and one chart per
    metric key with a line per run. ``runs`` is comma-separated, or repeated (the table's checkboxes)."""
    ids: list[str] = []
    for value in runs:
        for run_id in value.split(","):
            if run_id.strip() and run_id.strip() not in ids:
                ids.append(run_id.strip())
    try:
        if not MIN_COMPARE <= len(ids) <= MAX_COMPARE:
            raise HeronError.invalid(
                f"runs: {len(ids)} run id{'s' if len(ids) != 1 else ''} given: compare takes "
                f"{MIN_COMPARE} to {MAX_COMPARE} distinct run ids, as /compare?runs=ID1,ID2."
            )
        found = [ctx.client.get_run(run_id) for run_id in ids]
        access = access_of(request)
        for r in found:  # the guard checks only what the path names: each run's experiment, here
            access.require(EXPERIMENT, r.info.experiment_id, Role.READ)
    except HeronError as exc:
        return error_page(request, ctx, exc)
    charts: list[Chart] = []
    keys = sorted({k for r in found for k in r.data.metrics})
    for key in keys[:MAX_CHARTS]:
        histories = [(r.info.run_name or r.info.run_id, ctx.client.get_metric_history(r.info.run_id, key))
                     for r in found]
        charts.append(chart(key, histories))
    return render(
        request, ctx, "compare.html", nav="runs", runs=found,
        names=[r.info.run_name or r.info.run_id for r in found],
        params=run_view.diff_rows([r.data.params for r in found]),
        metrics=run_view.diff_rows([r.data.metrics for r in found], as_number=True),
        tags=run_view.diff_rows([{k: v for k, v in r.data.tags.items()
                                  if not k.startswith(run_view.SYSTEM_TAG_PREFIX)} for r in found]),
        charts=charts, more_charts=len(keys) > MAX_CHARTS,
    )
