"""Fluent artifact functions (``heron.log_artifact``, ``heron.log_dict`` …), MLflow's names and semantics.

Each logs to ``run_id`` when given, else to the active run of this thread/task, starting a run when
there is none (as MLflow does). Each blocks until the files are written.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from heron.tracking import fluent
from heron.tracking.artifacts import relative_path
from heron.tracking.client import Client

if TYPE_CHECKING:
    import pandas

__all__ = [
    "get_artifact_uri",
    "load_table",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_table",
    "log_text",
]


def _run_id(run_id: str | None) -> str:
    return run_id if run_id is not None else fluent._get_or_start_run().info.run_id


def log_artifact(
    local_path: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Copy a local file (or folder) into the run's artifacts under ``artifact_path``."""
    Client().log_artifact(_run_id(run_id), local_path, artifact_path)


def log_artifacts(
    local_dir: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Copy every file below ``local_dir``; a symlink pointing outside it is refused and nothing is copied."""
    Client().log_artifacts(_run_id(run_id), local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    """Write ``text`` (UTF-8) to ``artifact_file``."""
    Client().log_text(_run_id(run_id), text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Write ``dictionary`` as YAML for .yaml/.yml files, else as JSON."""
    Client().log_dict(_run_id(run_id), dictionary, artifact_file)


def log_figure(
    figure: Any, artifact_file: str, *, save_kwargs: dict[str, Any] | None = None, run_id: str | None = None
) -> None:
    """Save a matplotlib or plotly figure to ``artifact_file`` (format from its extension)."""
    Client().log_figure(_run_id(run_id), figure, artifact_file, save_kwargs=save_kwargs)


def log_image(
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
) -> None:
    """Save a numpy array or PIL image to ``artifact_file`` (needs Pillow)."""
    Client().log_image(_run_id(run_id), image, artifact_file, key, step, timestamp, synchronous)


def log_table(data: dict[str, Any] | pandas.DataFrame, artifact_file: str, run_id: str | None = None) -> None:
    """Write a dict of columns or a DataFrame as a JSON table; an existing table gets the rows appended."""
    Client().log_table(_run_id(run_id), data, artifact_file)


def load_table(
    artifact_file: str, run_ids: Sequence[str] | None = None, extra_columns: Sequence[str] | None = None
) -> pandas.DataFrame:
    """The table ``artifact_file`` of every run of the current experiment that logged it, concatenated.

    The current experiment is the active run's, else the one ``set_experiment`` or the environment
    chose, else Default.
    """
    active = fluent.active_run()
    experiment_id = active.info.experiment_id if active is not None else fluent.resolve_experiment_id()
    return Client().load_table(experiment_id, artifact_file, run_ids, extra_columns)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The URI of the active run's artifact root, or of ``artifact_path`` under it (starts a run if none)."""
    root = fluent._get_or_start_run().info.artifact_uri
    rel = relative_path(artifact_path)
    return root.rstrip("/") + "/" + rel if rel else root
