"""Runs as a pandas DataFrame, with the columns of MLflow's ``search_runs``.

This module imports pandas: import it where a DataFrame is wanted, never from ``import heron``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from heron.tracking.entities import Run

__all__ = ["BASE_COLUMNS", "runs_to_dataframe"]

BASE_COLUMNS = ("run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time")


def runs_to_dataframe(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run, in the order given.

    Columns: ``run_id, experiment_id, status, artifact_uri`` (str), ``start_time, end_time``
    (``datetime64[ns, UTC]``; NaT for a run that has not ended), then ``metrics.<key>`` (float64, NaN
    where a run lacks the metric), ``params.<key>`` and ``tags.<key>`` (object: str, or None where
    missing), keys sorted within each group. No runs give an empty DataFrame with the six base columns.
    """
    n = len(runs)
    # Columns of one length on one index: the DataFrame is built without aligning anything.
    index = pd.RangeIndex(n)
    # dtype "str": pandas' string dtype on pandas 3, object on pandas 2; also when there are no runs.
    data: dict[str, Any] = {
        "run_id": pd.Series([r.info.run_id for r in runs], index=index, dtype="str"),
        "experiment_id": pd.Series([r.info.experiment_id for r in runs], index=index, dtype="str"),
        "status": pd.Series([r.info.status for r in runs], index=index, dtype="str"),
        "artifact_uri": pd.Series([r.info.artifact_uri for r in runs], index=index, dtype="str"),
        "start_time": _times([r.info.start_time for r in runs]),
        "end_time": _times([r.info.end_time for r in runs]),
    }
    metrics = [r.data.metrics for r in runs]
    for key in sorted({k for m in metrics for k in m}):
        data[f"metrics.{key}"] = np.array([m.get(key, math.nan) for m in metrics], dtype=np.float64)
    for group, maps in (("params", [r.data.params for r in runs]), ("tags", [r.data.tags for r in runs])):
        for key in sorted({k for m in maps for k in m}):
            # object, not pandas' string dtype: a missing value stays None, as MLflow gives it.
            data[f"{group}.{key}"] = pd.Series([m.get(key) for m in maps], index=index, dtype=object)
    frame: pd.DataFrame = pd.DataFrame(data, index=index, columns=list(data), copy=False)
    return frame


def _times(millis: list[int | None]) -> Any:
    stamps = pd.to_datetime(pd.array(millis, dtype="Int64"), unit="ms", utc=True)
    return stamps.as_unit("ns")
