"""Links from a loaded prompt version to what used it: the active trace and the active run.

``load_prompt`` inside a span tags that span's trace ``heron.prompt.<name>`` = ``<version>``, so
``search_traces(filter_string="tags.`heron.prompt.qa` = '2'")`` finds the traces that used version 2
of ``qa``. Inside an active run it sets the same tag on the run and adds the version to MLflow's
``mlflow.linkedPrompts`` run tag (a JSON list of ``{"name", "version"}``). Each link is written once per
trace span or run; a failure is logged once and never raised into the app.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from typing import Any

from heron.prompts.records import PromptVersion
from heron.tracking import fluent as tracking_fluent
from heron.tracking.client import Client

__all__ = ["LINKED_PROMPTS_TAG", "link", "prompt_tag", "reset_for_tests"]

LINKED_PROMPTS_TAG = "mlflow.linkedPrompts"
_MAX_REMEMBERED = 10_000

_logger = logging.getLogger("heron.prompts")
_lock = threading.Lock()
_linked: set[tuple[Any, ...]] = set()
_warned = False


def prompt_tag(name: str) -> str:
    """The trace and run tag key that records which version of prompt ``name`` was used."""
    return f"heron.prompt.{name}"


def link(prompt: PromptVersion, tracking_uri: str) -> None:
    """Record ``prompt`` on the current span's trace and on the active run, if any. Never raises."""
    try:
        _link_trace(prompt)
        run = tracking_fluent.active_run()
        if run is not None:
            _link_run(prompt, run.info.run_id, tracking_uri)
    except Exception:  # noqa: BLE001 - linking must never break the app's call
        _warn_once()


def _link_trace(prompt: PromptVersion) -> None:
    if "opentelemetry.trace" not in sys.modules:
        return  # nothing imported OpenTelemetry: there is no span to link to
    from opentelemetry import trace as otel_trace  # already imported: costs a dict lookup

    span = otel_trace.get_current_span()
    if not span.is_recording():
        return
    context = span.get_span_context()
    key = ("trace", context.trace_id, context.span_id, prompt.name, prompt.version)
    if key in _linked:
        return
    from heron.tracing import fluent as tracing_fluent  # OpenTelemetry is imported already (see above)

    tracing_fluent.update_current_trace(tags={prompt_tag(prompt.name): str(prompt.version)})
    _remember(key)


def _link_run(prompt: PromptVersion, run_id: str, tracking_uri: str) -> None:
    key = ("run", run_id, prompt.name, prompt.version)
    if key in _linked:
        return
    client = Client(tracking_uri)
    with _lock:  # one read-modify-write of the run's tag at a time in this process
        current = client.get_run(run_id).data.tags.get(LINKED_PROMPTS_TAG)
        client.set_tag(run_id, LINKED_PROMPTS_TAG, _add_link(current, prompt))
        client.set_tag(run_id, prompt_tag(prompt.name), str(prompt.version))
    _remember(key)


def _add_link(current: str | None, prompt: PromptVersion) -> str:
    entries: list[dict[str, str]] = []
    if current:
        try:
            found = json.loads(current)
            if isinstance(found, list):
                entries = [e for e in found if isinstance(e, dict)]
        except ValueError:
            pass
    entry = {"name": prompt.name, "version": str(prompt.version)}
    if entry not in entries:
        entries.append(entry)
    return json.dumps(entries)


def _remember(key: tuple[Any, ...]) -> None:
    with _lock:
        if len(_linked) >= _MAX_REMEMBERED:
            _linked.clear()
        _linked.add(key)


def _warn_once() -> None:
    global _warned
    if not _warned:
        _warned = True
        _logger.warning("Heron: could not link a loaded prompt to the active trace or run; ignored.", exc_info=True)


def reset_for_tests() -> None:
    global _warned
    with _lock:
        _linked.clear()
        _warned = False
