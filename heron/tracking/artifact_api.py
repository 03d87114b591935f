"""The artifact half of ``Client``: MLflow's ``MlflowClient`` artifact methods, as a mixin.

``Client`` inherits :class:`ArtifactMethods`; the methods find a run's artifact root with
``self.get_run`` and hand the work to the artifact repository for it. pandas, PyYAML, matplotlib,
plotly, numpy and Pillow are imported only by the methods that need them.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import posixpath
import sys
import tempfile
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from heron.errors import NOT_IMPLEMENTED, RESOURCE_DOES_NOT_EXIST, HeronError
from heron.tracking.artifacts import ArtifactRepository, file_path, get_repository, relative_path
from heron.tracking.artifacts.paths import join_key
from heron.tracking.entities import FileInfo, PagedList, Run, ViewType

if TYPE_CHECKING:
    import pandas

__all__ = ["ArtifactMethods", "LOGGED_ARTIFACTS_TAG"]

_logger = logging.getLogger(__name__)

LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"
"""Run tag listing the tables logged with log_table (MLflow's name; the UI and load_table read it)."""

_RUN_ATTRIBUTE_COLUMNS = ("run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time")


class ArtifactMethods:
    """Artifact methods of ``Client``. Each blocks until the files are written or read."""

    if TYPE_CHECKING:
        # Provided by Client.
        def get_run(self, run_id: str) -> Run: ...

        def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> None: ...

        def search_runs(
            self,
            experiment_ids: str | Sequence[str],
            filter_string: str = "",
            run_view_type: int = ViewType.ACTIVE_ONLY,
            max_results: int = 1000,
            order_by: Sequence[str] | None = None,
            page_token: str | None = None,
        ) -> PagedList[Run]: ...

    def _artifact_repository(self, run_id: str) -> ArtifactRepository:
        return get_repository(self.get_run(run_id).info.artifact_uri)

    # ---------------------------------------------------------------------------------- files, folders

    def log_artifact(self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        """Copy a local file (or a folder, as MLflow allows) into the run's artifacts under ``artifact_path``."""
        local = os.fspath(local_path)
        repo = self._artifact_repository(run_id)
        if os.path.isdir(local):
            name = os.path.basename(os.path.normpath(os.path.abspath(local)))
            repo.log_artifacts(local, join_key(relative_path(artifact_path), name))
        else:
            repo.log_artifact(local, artifact_path)

    def log_artifacts(self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        """Copy every file below ``local_dir`` into the run's artifacts under ``artifact_path``.

        A symlink in ``local_dir`` pointing outside it is refused (INVALID_PARAMETER_VALUE) and nothing
        is copied.
        """
        self._artifact_repository(run_id).log_artifacts(local_dir, artifact_path)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """The direct children of ``path`` in the run's artifacts; paths are relative to the run's root."""
        return self._artifact_repository(run_id).list_artifacts(path)

    def download_artifacts(self, run_id: str, path: str, dst_path: str | os.PathLike[str] | None = None) -> str:
        """Download a file or folder of the run's artifacts; returns its local path (see ArtifactRepository)."""
        return self._artifact_repository(run_id).download_artifacts(path, dst_path)

    # ------------------------------------------------------------------------------- in-memory objects

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Write ``text`` (UTF-8) to ``artifact_file``, e.g. ``"notes/readme.md"``."""
        self._artifact_repository(run_id).write_bytes(artifact_file, text.encode("utf-8"))

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """Write ``dictionary`` as YAML when ``artifact_file`` ends in .yaml/.yml, else as JSON (as MLflow)."""
        extension = posixpath.splitext(artifact_file)[1].lower()
        if extension in (".yaml", ".yml"):
            import yaml

            text = yaml.dump(dictionary, indent=2, default_flow_style=False)
        else:
            text = json.dumps(dictionary, indent=2)
        self.log_text(run_id, text, artifact_file)

    def log_figure(
        self, run_id: str, figure: Any, artifact_file: str, *, save_kwargs: dict[str, Any] | None = None
    ) -> None:
        """Save a matplotlib or plotly figure to ``artifact_file``; its extension picks the format.

        Plotly figures are written as HTML for ``.html`` (plotly.js from its CDN) and as images for
        .png/.jpeg/.webp/.svg/.pdf (which needs kaleido). Raises TypeError for other objects.
        """
        kwargs = dict(save_kwargs or {})
        # Checked through sys.modules: a user holding a figure has imported its library already.
        if "matplotlib" in sys.modules and _is_instance(figure, "matplotlib.figure", "Figure"):
            self._log_file(run_id, artifact_file, lambda local: figure.savefig(local, **kwargs))
            return
        if "plotly" in sys.modules and _is_instance(figure, "plotly.graph_objects", "Figure"):
            extension = posixpath.splitext(artifact_file)[1].lower()
            if extension == ".html":
                kwargs.setdefault("include_plotlyjs", "cdn")
                kwargs.setdefault("auto_open", False)
                self._log_file(run_id, artifact_file, lambda local: figure.write_html(local, **kwargs))
            elif extension in (".png", ".jpeg", ".jpg", ".webp", ".svg", ".pdf"):
                self._log_file(run_id, artifact_file, lambda local: figure.write_image(local, **kwargs))
            else:
                raise TypeError(
                    f"Unsupported file extension for a plotly figure: {extension!r}; "
                    "expected .html, .png, .jpeg, .webp, .svg or .pdf."
                )
            return
        raise TypeError(
            f"Unsupported figure object type {type(figure).__name__!r}: expected a matplotlib.figure.Figure "
            "or a plotly.graph_objects.Figure."
        )

    def log_image(
        self,
        run_id: str,
        image: Any,
        artifact_file: str | None = None,
        key: str | None = None,
        step: int | None = None,
        timestamp: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        """Save a numpy array (H×W, H×W×1/3/4; ints in [0, 255] or floats in [0, 1]) or a PIL image.

        The format follows ``artifact_file``'s extension. Needs Pillow. ``key``/``step`` (MLflow's image
        time series) are not supported yet: pass ``artifact_file``.
        """
        if key is not None or step is not None or timestamp is not None:
            raise HeronError(
                "log_image with key/step/timestamp (image time series) is not supported yet; "
                "pass artifact_file='name.png' instead.",
                NOT_IMPLEMENTED,
            )
        if artifact_file is None:
            raise HeronError.invalid("log_image needs artifact_file, e.g. 'images/sample.png'.")
        pil_image = _to_pil_image(image)
        self._log_file(run_id, artifact_file, pil_image.save)

    def _log_file(self, run_id: str, artifact_file: str, save: Callable[[str], object]) -> None:
        """Have ``save(local_path)`` write a file named like ``artifact_file``, then log it there."""
        rel = file_path(artifact_file)
        folder, _, name = rel.rpartition("/")
        repo = self._artifact_repository(run_id)
        with tempfile.TemporaryDirectory(prefix="heron-") as tmp:
            local = os.path.join(tmp, name)  # same name, so writers infer the format from the extension
            save(local)
            repo.log_artifact(local, folder or None)

    # ------------------------------------------------------------------------------------------ tables

    def log_table(self, run_id: str, data: dict[str, Any] | pandas.DataFrame, artifact_file: str) -> None:
        """Write a dict of columns or a DataFrame as JSON ``{"columns": [...], "data": [[...]]}``.

        Logging to a table file that exists appends the new rows (as MLflow). ``artifact_file`` must end
        in ``.json``. The run's ``mlflow.loggedArtifacts`` tag records the table, for load_table.
        """
        import pandas as pd

        rel = _table_file(artifact_file)
        if isinstance(data, dict):
            table: pd.DataFrame = pd.DataFrame(data)
        elif isinstance(data, pd.DataFrame):
            table = data
        else:
            raise HeronError.invalid(
                f"log_table data must be a pandas.DataFrame or a dict of columns, got {type(data).__name__}."
            )
        repo = self._artifact_repository(run_id)
        try:
            existing = repo.read_bytes(rel)
        except HeronError as exc:
            if exc.error_code != RESOURCE_DOES_NOT_EXIST:
                raise
        else:
            table = pd.concat([_read_table(existing), table], ignore_index=True)
        repo.write_bytes(rel, table.to_json(orient="split", index=False, date_format="iso").encode("utf-8"))
        tags = self.get_run(run_id).data.tags
        logged = _logged_tables(tags.get(LOGGED_ARTIFACTS_TAG))
        entry = {"path": rel, "type": "table"}
        if entry not in logged:
            self.set_tag(run_id, LOGGED_ARTIFACTS_TAG, json.dumps([*logged, entry]))

    def load_table(
        self,
        experiment_id: str,
        artifact_file: str,
        run_ids: Sequence[str] | None = None,
        extra_columns: Sequence[str] | None = None,
    ) -> pandas.DataFrame:
        """Concatenate the table ``artifact_file`` of every run in the experiment that logged it.

        ``run_ids`` limits the runs; ``extra_columns`` adds run columns (``run_id``, ``status``,
        ``params.x``, ``metrics.x``, ``tags.x`` …) to each row. Raises RESOURCE_DOES_NOT_EXIST when no
        run has the table.
        """
        import pandas as pd

        rel = _table_file(artifact_file)
        entry = {"path": rel, "type": "table"}
        wanted = None if run_ids is None else set(run_ids)
        runs = [
            run
            for run in self._all_runs(str(experiment_id))
            if (wanted is None or run.info.run_id in wanted)
            and entry in _logged_tables(run.data.tags.get(LOGGED_ARTIFACTS_TAG))
        ]
        if wanted is not None and len(runs) != len(wanted):
            _logger.warning("Not all runs have the table artifact %r; those without it are skipped.", rel)
        if not runs:
            raise HeronError.not_found(
                f"No run of experiment {experiment_id!r} has the table artifact {rel!r}"
                + (f" among runs {sorted(wanted)}." if wanted is not None else ".")
            )
        frames = []
        for run in runs:
            frame = _read_table(get_repository(run.info.artifact_uri).read_bytes(rel))
            for column in extra_columns or ():
                name = f"{column}_" if column in frame.columns else column
                frame[name] = _run_column(run, column)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def _all_runs(self, experiment_id: str) -> list[Run]:
        runs: list[Run] = []
        token: str | None = None
        while True:
            page = self.search_runs([experiment_id], max_results=1000, page_token=token)
            runs.extend(page)
            token = page.token
            if not token:
                return runs


def _is_instance(obj: Any, module: str, name: str) -> bool:
    cls = getattr(sys.modules.get(module), name, None)
    if cls is None:  # the library is loaded but not that submodule: import it (cheap by now)
        try:
            cls = getattr(importlib.import_module(module), name, None)
        except ImportError:
            return False
    return isinstance(cls, type) and isinstance(obj, cls)


def _to_pil_image(image: Any) -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise HeronError.invalid("log_image needs Pillow: pip install pillow.") from None
    if isinstance(image, Image.Image):
        return image
    if "numpy" not in sys.modules:
        raise TypeError(f"Unsupported image object type {type(image).__name__!r}: expected a numpy array or a PIL image.")
    import numpy as np

    if not isinstance(image, np.ndarray):
        raise TypeError(f"Unsupported image object type {type(image).__name__!r}: expected a numpy array or a PIL image.")
    if image.dtype.kind not in "biuf":
        raise TypeError(f"Invalid image array dtype {image.dtype}: expected bool, integer or float pixels.")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise ValueError(
            f"Invalid image array shape {image.shape}: expected (H, W) or (H, W, C) with C in 1, 3, 4."
        )
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    is_int = image.dtype.kind in "iu"
    high = 255 if is_int else 1
    if image.size and (image.min() < 0 or image.max() > high):
        raise ValueError(
            f"Image pixel values out of range [0, {high}] for dtype {image.dtype}: "
            "integers must be in [0, 255] and floats in [0.0, 1.0]."
        )
    pixels = image.astype(np.uint8) if is_int else (image.astype(np.float64) * 255).round().astype(np.uint8)
    return Image.fromarray(pixels)


def _table_file(artifact_file: str) -> str:
    rel = file_path(artifact_file)
    if not rel.endswith(".json"):
        raise HeronError.invalid(f"Table artifact {artifact_file!r} must be a .json file, e.g. 'eval/results.json'.")
    return rel


def _read_table(data: bytes) -> pandas.DataFrame:
    import pandas as pd

    return pd.read_json(io.StringIO(data.decode("utf-8")), orient="split")


def _logged_tables(tag_value: str | None) -> list[dict[str, str]]:
    if not tag_value:
        return []
    try:
        value = json.loads(tag_value)
    except ValueError:
        return []
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _run_column(run: Run, column: str) -> Any:
    """A column of ``search_runs``' DataFrame for one run (MLflow's names)."""
    import pandas as pd

    info, data = run.info, run.data
    prefix, _, key = column.partition(".")
    if key and prefix in ("metrics", "params", "tags"):
        return getattr(data, prefix).get(key)
    if column in ("start_time", "end_time"):
        value = getattr(info, column)
        return None if value is None else pd.to_datetime(value, unit="ms", utc=True)
    if column in _RUN_ATTRIBUTE_COLUMNS:
        return getattr(info, column)
    raise HeronError.invalid(
        f"Unknown extra column {column!r}: expected one of {', '.join(_RUN_ATTRIBUTE_COLUMNS)} "
        "or 'metrics.<key>', 'params.<key>', 'tags.<key>'."
    )
