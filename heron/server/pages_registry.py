"""The registry's web pages: registered models and their versions, prompts, a prompt version's template,
a side-by-side diff of two prompt versions, and the traces that used a prompt version.

Pages read the server's own database through the server's ``MlflowClient`` (the registry and prompt
methods users call: ``search_registered_models``, ``get_prompt_version`` …), bound to the server's
store rather than looked up by URI, so the server keeps one connection pool. Templates autoescape every value.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Protocol, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response

from heron.auth.records import EXPERIMENT, REGISTERED_MODEL
from heron.errors import HeronError
from heron.prompts.links import prompt_tag
from heron.prompts.records import PromptVersion
from heron.registry import validation
from heron.server.access import Access, access_of
from heron.server.context import Ctx, ServerContext
from heron.server.render import error_page, render
from heron.tracing.fluent import search_traces
from heron.ui import registry_view, trace_view

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
TRACES_PER_VERSION = 50


class _HasName(Protocol):
    @property
    def name(self) -> str: ...


_Named = TypeVar("_Named", bound=_HasName)


def _readable(access: Access, found: Iterable[_Named]) -> list[_Named]:
    """The registered models or prompts of ``found`` whose name the user may READ (with auth on, a listing
    page may so hold fewer than its size)."""
    found = list(found)
    readable = set(access.readable(REGISTERED_MODEL, [f.name for f in found]))
    return [f for f in found if f.name in readable]


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _pages(base: str, query: str, token: str | None, page_token: str) -> tuple[str | None, str | None]:
    """The next-page and first-page links of a listing filtered by ``query``."""
    plain = {"filter": query} if query else {}
    next_url = f"{base}?{urlencode({**plain, 'page_token': token})}" if token else None
    first_url = (f"{base}?{urlencode(plain)}" if plain else base) if page_token else None
    return next_url, first_url


def _version(value: str, field: str) -> int:
    """A version number from the URL; the message names the field and what was expected."""
    try:
        return validation.version(value)
    except HeronError:
        raise HeronError.invalid(
            f"{field} must be a version number such as 1 or 2, got {value!r}."
        ) from None


# -------------------------------------------------------------------------------------------- models


@router.get("/models")
def models(request: Request, ctx: Ctx, filter: str = "", page_token: str = "") -> Response:
    """Registered models, 50 a page; ``filter`` is search_registered_models' language. A bad filter or
    page token answers 400 with the message under the search box."""
    query = filter.strip()
    try:
        found = ctx.client.search_registered_models(query or None, PAGE_SIZE, None, page_token or None)
    except HeronError as exc:
        return render(request, ctx, "models.html", 400, rows=[], filter=query, error=exc, next_url=None,
                      first_url="/models")
    next_url, first_url = _pages("/models", query, found.token, page_token)
    shown = _readable(access_of(request), found)
    return render(request, ctx, "models.html", rows=[registry_view.model_row(m) for m in shown], filter=query,
                  error=None, next_url=next_url, first_url=first_url)


@router.get("/models/{name}")
def model(request: Request, ctx: Ctx, name: str, page_token: str = "") -> Response:
    """A registered model: description, tags, aliases and its versions (newest first, 50 a page)."""
    registry = ctx.client
    try:
        found = registry.get_registered_model(name)
        versions = registry.search_model_versions(f"name = {_quoted(name)}", PAGE_SIZE, None, page_token or None)
    except HeronError as exc:
        return error_page(request, ctx, exc)
    base = registry_view.model_url(found.name)
    next_url, first_url = _pages(base, "", versions.token, page_token)
    return render(request, ctx, "model.html", model=registry_view.model_row(found),
                  versions=[registry_view.version_row(v) for v in versions], next_url=next_url, first_url=first_url)


@router.get("/models/{name}/versions/{version}")
def model_version(request: Request, ctx: Ctx, name: str, version: str) -> Response:
    """One model version: stage, status, aliases, tags, source and the run that produced it."""
    try:
        found = ctx.client.get_model_version(name, _version(version, "The version in the URL"))
    except HeronError as exc:
        return error_page(request, ctx, exc)
    return render(request, ctx, "model_version.html", name=found.name, model_url=registry_view.model_url(found.name),
                  v=registry_view.version_row(found))


# ------------------------------------------------------------------------------------------- prompts


@router.get("/prompts")
def prompts(request: Request, ctx: Ctx, filter: str = "", page_token: str = "") -> Response:
    """Prompts, 50 a page; ``filter`` is search_prompts' language (``name LIKE 'qa%'``)."""
    query = filter.strip()
    try:
        found = ctx.client.search_prompts(query or None, PAGE_SIZE, page_token or None)
    except HeronError as exc:
        return render(request, ctx, "prompts.html", 400, rows=[], filter=query, error=exc, next_url=None,
                      first_url="/prompts")
    next_url, first_url = _pages("/prompts", query, found.token, page_token)
    shown = _readable(access_of(request), found)
    return render(request, ctx, "prompts.html", rows=[registry_view.prompt_row(p) for p in shown], filter=query,
                  error=None, next_url=next_url, first_url=first_url)


@router.get("/prompts/{name}")
def prompt(request: Request, ctx: Ctx, name: str, page_token: str = "") -> Response:
    """A prompt: description, tags, aliases, its versions with commit messages, and a diff chooser."""
    registry = ctx.client
    try:
        found = registry.get_prompt(name)
        if found is None:
            raise HeronError.not_found(f"Prompt {name!r} not found.")
        versions = registry.search_prompt_versions(name, PAGE_SIZE, page_token or None)
    except HeronError as exc:
        return error_page(request, ctx, exc)
    rows = [registry_view.version_row(v) for v in versions]
    next_url, first_url = _pages(registry_view.prompt_url(found.name), "", versions.token, page_token)
    return render(request, ctx, "prompt.html", prompt=registry_view.prompt_row(found), versions=rows,
                  next_url=next_url, first_url=first_url)


@router.get("/prompts/{name}/versions/{version}")
def prompt_version(request: Request, ctx: Ctx, name: str, version: str) -> Response:
    """A prompt version: its template with the variables marked, and the traces that used it."""
    try:
        found = ctx.client.get_prompt_version(name, _version(version, "The version in the URL"))
    except HeronError as exc:
        return error_page(request, ctx, exc)
    traces, more = _traces_of(ctx, access_of(request), found)
    return render(
        request, ctx, "prompt_version.html", name=found.name, prompt_url=registry_view.prompt_url(found.name),
        v=registry_view.version_row(found), pv=found, parts=registry_view.template_parts(found),
        variables=sorted(found.variables), traces=traces, more=more,
        response_format=registry_view.json_text(found.response_format),
        model_config=registry_view.json_text(found.model_config),
    )


def _traces_of(ctx: ServerContext, access: Access, prompt: PromptVersion
               ) -> tuple[list[trace_view.TraceRow], list[tuple[str, str]]]:
    """The newest traces that loaded ``prompt`` (their ``heron.prompt.<name>`` tag) in experiments the user
    may READ, and per experiment holding some, a link to all of them on its traces page."""
    flt = f"tags.`{prompt_tag(prompt.name)}` = '{prompt.version}'"
    found_experiments = ctx.client.search_experiments(max_results=1000)
    readable = set(access.readable(EXPERIMENT, [e.experiment_id for e in found_experiments]))
    experiments = {e.experiment_id: e.name for e in found_experiments if e.experiment_id in readable}
    if not experiments:
        return [], []
    found = search_traces(list(experiments), flt, TRACES_PER_VERSION, return_type="list", include_spans=False,
                          store=ctx.traces)
    holding = sorted({t.info.experiment_id for t in found})
    more = [(experiments.get(e, e), f"/experiments/{e}/traces?{urlencode({'filter': flt})}") for e in holding]
    return [trace_view.trace_row(t.info) for t in found], more


@router.get("/prompts/{name}/diff")
def prompt_diff(
    request: Request,
    ctx: Ctx,
    name: str,
    from_: Annotated[str, Query(alias="from")] = "",
    to: str = "",
) -> Response:
    """Two versions of a prompt side by side (``?from=1&to=2``; by default the newest against the one
    before it). A version that is not a number answers 400 naming the parameter; an unknown one 404."""
    registry = ctx.client
    try:
        found = registry.get_prompt(name)
        if found is None or found.latest_version is None:
            raise HeronError.not_found(f"Prompt {name!r} not found.")
        new = _version(to, "Query parameter 'to'") if to else found.latest_version
        old = _version(from_, "Query parameter 'from'") if from_ else max(new - 1, 1)
        left, right = registry.get_prompt_version(name, old), registry.get_prompt_version(name, new)
    except HeronError as exc:
        return error_page(request, ctx, exc)
    versions = [v.version for v in registry.search_prompt_versions(name, 1000)]
    rows = registry_view.diff_rows(registry_view.template_lines(left), registry_view.template_lines(right))
    return render(
        request, ctx, "prompt_diff.html", name=found.name, prompt_url=registry_view.prompt_url(found.name),
        left=registry_view.version_row(left), right=registry_view.version_row(right), rows=rows, versions=versions,
        added=sum(r.kind in ("added", "changed") for r in rows), removed=sum(r.kind in ("removed", "changed") for r in rows),
        same_format=left.template_format == right.template_format, left_format=left.template_format,
        right_format=right.template_format,
    )
