"""The fluent tracking API (``heron.start_run``, ``heron.log_metric`` …), MLflow's names and semantics.

The active run is kept per thread and per asyncio task (a ``ContextVar``), so threads and tasks can each
run their own run at once; MLflow keeps one per process. The active experiment is per process.
"""

from __future__ import annotations

import atexit
import contextvars
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from heron import config
from heron.errors import INVALID_PARAMETER_VALUE, HeronError
from heron.tracking import system_tags
from heron.tracking.client import Client
from heron.tracking.entities import (
    Experiment,
    LifecycleStage,
    Metric,
    Param,
    Run,
    RunStatus,
    RunTag,
    ViewType,
)
from heron.tracking.uri import configured_tracking_uri, get_tracking_uri, set_tracking_uri

if TYPE_CHECKING:
    import pandas

__all__ = [
    "ActiveRun",
    "active_run",
    "create_experiment",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "end_run",
    "get_experiment",
    "get_experiment_by_name",
    "get_parent_run",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]

DEFAULT_EXPERIMENT_ID = "0"
_PAGE = 10_000

_run_stack: contextvars.ContextVar[tuple[ActiveRun, ...]] = contextvars.ContextVar(
    "heron_run_stack", default=()
)
_state_lock = threading.Lock()
_active_experiment_id: str | None = None
_last_active_run_id: str | None = None
_client_cache: tuple[str, Client] | None = None


def _client() -> Client:
    """A Client for the tracking URI in force (rebuilt when the URI changes)."""
    global _client_cache
    cached = _client_cache
    # A configured URI resolves to itself: compare it as given, without resolving (a getcwd per call).
    configured = configured_tracking_uri()
    if configured and cached is not None and cached[0] == configured:
        return cached[1]
    current = get_tracking_uri()
    if cached is not None and cached[0] == current:
        return cached[1]
    client = Client(current)
    _client_cache = (current, client)
    return client


class ActiveRun(Run):
    """The run returned by ``start_run``; as a context manager it ends the run on exit.

    The status on exit is FINISHED, or FAILED when the block raised.
    """

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        status = RunStatus.FINISHED if exc_type is None else RunStatus.FAILED
        if any(r.info.run_id == self.info.run_id for r in _run_stack.get()):
            end_run(status, _run_id=self.info.run_id)


def _as_active(run: Run) -> ActiveRun:
    return ActiveRun(run.info, run.data)


# ------------------------------------------------------------------------------------------ experiments


def set_experiment(experiment_name: str | None = None, experiment_id: str | None = None) -> Experiment:
    """Make an experiment active for new runs in this process, creating it by name on first use.

    Raises INVALID_PARAMETER_VALUE for a deleted experiment, RESOURCE_DOES_NOT_EXIST for an unknown id.
    """
    global _active_experiment_id
    if (experiment_name is None) == (experiment_id is None):
        raise HeronError.invalid("set_experiment takes exactly one of experiment_name or experiment_id.")
    client = _client()
    if experiment_name is None:
        experiment = client.get_experiment(str(experiment_id))
    else:
        experiment = _get_or_create_experiment(client, experiment_name)
    if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise HeronError.invalid(
            f"Cannot set a deleted experiment '{experiment.name}' as the active experiment. "
            "Restore it with restore_experiment() or choose another name."
        )
    with _state_lock:
        _active_experiment_id = experiment.experiment_id
    return experiment


def _get_or_create_experiment(client: Client, name: str) -> Experiment:
    found = client.get_experiment_by_name(name)
    if found is None:
        try:
            client.create_experiment(name)
        except HeronError as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":  # another process created it first
                raise
        found = client.get_experiment_by_name(name)
        if found is None:  # pragma: no cover - created a moment ago
            raise HeronError.not_found(f"Experiment '{name}' vanished while being created.")
    return found


def _resolve_experiment_id() -> str:
    """The experiment new runs and traces go to: set_experiment, the environment, else Default."""
    if _active_experiment_id is not None:
        return _active_experiment_id
    env_id = config.EXPERIMENT_ID.get()
    if env_id:
        return env_id
    env_name = config.EXPERIMENT_NAME.get()
    if env_name:
        return set_experiment(env_name).experiment_id
    return DEFAULT_EXPERIMENT_ID


resolve_experiment_id = _resolve_experiment_id


def create_experiment(
    name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None
) -> str:
    return _client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    return _client().get_experiment_by_name(name)


def delete_experiment(experiment_id: str) -> None:
    _client().delete_experiment(experiment_id)


def set_experiment_tag(key: str, value: Any) -> None:
    _client().set_experiment_tag(_resolve_experiment_id(), key, value)


def set_experiment_tags(tags: dict[str, Any]) -> None:
    for key, value in tags.items():
        set_experiment_tag(key, value)


def search_experiments(
    view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """All matching experiments (every page, up to ``max_results``)."""
    client = _client()
    found: list[Experiment] = []
    token: str | None = None
    while True:
        want = _PAGE if max_results is None else min(_PAGE, max_results - len(found))
        page = client.search_experiments(view_type, want, filter_string, order_by, token)
        found.extend(page)
        token = page.token
        if not token or (max_results is not None and len(found) >= max_results):
            return found


# ------------------------------------------------------------------------------------------------ runs


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a run (or resume ``run_id``) and make it the active run of this thread/task.

    Raises INVALID_PARAMETER_VALUE when a run is already active and ``nested`` is False.
    """
    global _last_active_run_id
    stack = _run_stack.get()
    if stack and not nested:
        raise HeronError.invalid(
            f"Run with UUID {stack[-1].info.run_id} is already active. To start a new run, first end the "
            "current run with heron.end_run(). To start a nested run, call start_run with nested=True."
        )
    client = _client()
    run_id = run_id or config.RUN_ID.get()
    if run_id:
        existing = client.get_run(run_id)
        if experiment_id is not None and str(experiment_id) != existing.info.experiment_id:
            raise HeronError.invalid(
                f"Run {run_id} belongs to experiment {existing.info.experiment_id}, not to the experiment_id "
                f"{experiment_id} given to start_run."
            )
        if existing.info.lifecycle_stage != LifecycleStage.ACTIVE:
            raise HeronError.invalid(
                f"Cannot resume run {run_id}: it is deleted. Restore it with restore_run()."
            )
        client._store.update_run_info(run_id, RunStatus.RUNNING, None, run_name)
        if tags:
            client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])
        run = client.get_run(run_id)
    else:
        parent = parent_run_id or (stack[-1].info.run_id if stack and nested else None)
        if parent_run_id is not None:
            parent_run = client.get_run(parent_run_id)
            if parent_run.info.lifecycle_stage != LifecycleStage.ACTIVE:
                raise HeronError.invalid(f"Parent run {parent_run_id} is deleted.")
        all_tags: dict[str, Any] = dict(system_tags.source_tags())
        if parent:
            all_tags[system_tags.PARENT_RUN_ID] = parent
        if description:
            all_tags[system_tags.NOTE] = description
        all_tags.update(tags or {})
        exp_id = str(experiment_id) if experiment_id is not None else _resolve_experiment_id()
        run = client.create_run(exp_id, tags=all_tags, run_name=run_name)
    active = _as_active(run)
    _run_stack.set((*stack, active))
    return active


def end_run(status: str = RunStatus.FINISHED, _run_id: str | None = None) -> None:
    """End the active run of this thread/task (a no-op when there is none)."""
    global _last_active_run_id
    stack = _run_stack.get()
    if not stack:
        return
    if status not in RunStatus.ALL:
        raise HeronError(
            f"Invalid run status {status!r}: expected one of {', '.join(RunStatus.ALL)}.",
            INVALID_PARAMETER_VALUE,
        )
    index = len(stack) - 1
    if _run_id is not None:
        index = max(i for i, r in enumerate(stack) if r.info.run_id == _run_id)
    run_id = stack[index].info.run_id
    _run_stack.set(stack[:index])
    with _state_lock:
        _last_active_run_id = run_id
    _client().set_terminated(run_id, status)


def active_run() -> ActiveRun | None:
    """The active run of this thread/task, or None."""
    stack = _run_stack.get()
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    """The active run, else the run that most recently ended in this process (fetched fresh)."""
    current = active_run()
    run_id = current.info.run_id if current is not None else _last_active_run_id
    return None if run_id is None else _client().get_run(run_id)


def _get_or_start_run() -> ActiveRun:
    """The active run; a log call with no active run starts one, as in MLflow."""
    return active_run() or start_run()


def _run_id_or_active(run_id: str | None) -> str:
    return run_id if run_id is not None else _get_or_start_run().info.run_id


def get_run(run_id: str) -> Run:
    return _client().get_run(run_id)


def get_parent_run(run_id: str) -> Run | None:
    return _client().get_parent_run(run_id)


def delete_run(run_id: str) -> None:
    _client().delete_run(run_id)


# --------------------------------------------------------------------------------- params, metrics, tags


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    **_: Any,
) -> None:
    """Log a metric to the active run (started if none). Blocks until written."""
    _client().log_metric(_run_id_or_active(run_id), key, value, timestamp, step)


def log_metrics(
    metrics: dict[str, float],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
    **_: Any,
) -> None:
    """Log several metrics in one write; all validated before any is written."""
    ts = int(time.time() * 1000) if timestamp is None else timestamp
    batch = [Metric(k, v, ts, 0 if step is None else step) for k, v in metrics.items()]
    _client().log_batch(_run_id_or_active(run_id), metrics=batch)


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    """Log a param to the active run; returns ``value``. Params are immutable once logged."""
    return _client().log_param(_run_id_or_active(None), key, value)


def log_params(params: dict[str, Any], synchronous: bool | None = None, run_id: str | None = None) -> None:
    _client().log_batch(_run_id_or_active(run_id), params=[Param(k, str(v)) for k, v in params.items()])


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    _client().set_tag(_run_id_or_active(None), key, value)


def set_tags(tags: dict[str, Any], synchronous: bool | None = None) -> None:
    _client().log_batch(_run_id_or_active(None), tags=[RunTag(k, str(v)) for k, v in tags.items()])


def delete_tag(key: str) -> None:
    _client().delete_tag(_run_id_or_active(None), key)


# ---------------------------------------------------------------------------------------------- search


def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int = 100_000,
    order_by: Sequence[str] | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> pandas.DataFrame | list[Run]:
    """Runs matching ``filter_string`` across experiments, as a DataFrame (MLflow's columns) or a list.

    Defaults to the active experiment. Raises INVALID_PARAMETER_VALUE for a malformed filter.
    """
    if output_format not in ("pandas", "list"):
        raise HeronError.invalid(f"output_format must be 'pandas' or 'list', got {output_format!r}.")
    client = _client()
    ids = [str(i) for i in experiment_ids] if experiment_ids else []
    for name in experiment_names or ():
        found = client.get_experiment_by_name(name)
        if found is not None:
            ids.append(found.experiment_id)
    if not ids and not experiment_names:
        if search_all_experiments:
            ids = [e.experiment_id for e in search_experiments(view_type=ViewType.ALL)]
        else:
            ids = [_resolve_experiment_id()]
    runs: list[Run] = []
    token: str | None = None
    if ids:
        while len(runs) < max_results:
            page = client.search_runs(
                ids, filter_string, run_view_type, min(_PAGE, max_results - len(runs)), order_by, token
            )
            runs.extend(page)
            token = page.token
            if not token:
                break
    if output_format == "list":
        return runs
    from heron.tracking.frames import runs_to_dataframe  # pandas is heavy: only when a frame is asked for

    return runs_to_dataframe(runs)


# ---------------------------------------------------------------------------------------- housekeeping


def _end_runs_at_exit() -> None:
    # Only this (main) thread's context is visible here; runs left open elsewhere stay RUNNING.
    try:
        while _run_stack.get():
            end_run(RunStatus.FINISHED)
    except Exception:  # noqa: BLE001 - the store may already be gone at interpreter exit
        pass


atexit.register(_end_runs_at_exit)


def reset_for_tests() -> None:
    """Forget the active experiment, runs and cached client (the test-suite calls this)."""
    global _active_experiment_id, _last_active_run_id, _client_cache
    _run_stack.set(())
    with _state_lock:
        _active_experiment_id = None
        _last_active_run_id = None
        _client_cache = None
