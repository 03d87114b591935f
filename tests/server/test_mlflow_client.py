"""The real MLflow client (the ``mlflow-skinny`` package) against a Heron server, then read with Heron.

MLflow runs in a subprocess, so its global state (tracking URI, active run, logging setup) never
leaks into the test process.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import heron
from tests.server.live import LiveServer

pytest.importorskip("mlflow", reason="the mlflow client (mlflow-skinny) is a test dependency")

_TRAINING_SCRIPT = textwrap.dedent(
    """
    import json, math, os, sys
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    experiment = mlflow.set_experiment("mlflow-client")
    with mlflow.start_run(run_name="trained-by-mlflow") as run:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"depth": 3, "optimizer": "adam"})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9, "f1": float("nan")}, step=7)
        mlflow.log_metric("neg", -1.5, step=-2)
        mlflow.set_tags({"team": "risk", "stage": "dev"})
        mlflow.set_tag("single", "yes")
        artifact = os.path.join(sys.argv[1], "report.txt")
        with open(artifact, "w") as f:
            f.write("accuracy: 0.9\\n")
        mlflow.log_artifact(artifact)
        mlflow.log_artifact(artifact, artifact_path="reports/2024")
        mlflow.log_dict({"a": 1}, "config.json")
        MlflowClient().log_batch(
            run.info.run_id,
            metrics=[Metric("batch", float(i), 1000 + i, i) for i in range(3)],
            params=[Param("batch_param", "b")],
            tags=[RunTag("batch_tag", "t")],
        )
    with mlflow.start_run(run_name="second"):
        mlflow.log_metric("acc", 0.5)

    client = MlflowClient()
    found = mlflow.search_runs(experiment_ids=[experiment.experiment_id], filter_string="metrics.acc > 0.6")
    listed = sorted(f.path for f in client.list_artifacts(run.info.run_id))
    history = [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "loss")]
    downloaded = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="report.txt")
    got = client.get_run(run.info.run_id)
    print(json.dumps({
        "experiment_id": experiment.experiment_id,
        "artifact_location": experiment.artifact_location,
        "run_id": run.info.run_id,
        "search_names": list(found["tags.mlflow.runName"]),
        "search_loss": list(found["metrics.loss"]),
        "listed": listed,
        "history": history,
        "downloaded": open(downloaded).read(),
        "status": got.info.status,
        "params": got.data.params,
        "f1_is_nan": math.isnan(got.data.metrics["f1"]),
        "by_name": mlflow.get_experiment_by_name("mlflow-client").experiment_id,
        "missing": mlflow.get_experiment_by_name("no-such-experiment"),
    }))
    """
)


def test_mlflow_client_trains_against_heron_and_heron_reads_it(live_server: LiveServer, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    env.update(
        MLFLOW_TRACKING_URI=live_server.url,
        MLFLOW_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="true",
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
        GIT_PYTHON_REFRESH="quiet",
    )
    proc = subprocess.run(
        [sys.executable, "-c", _TRAINING_SCRIPT, str(tmp_path)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["artifact_location"] == f"mlflow-artifacts:/{out['experiment_id']}"
    assert out["search_names"] == ["trained-by-mlflow"]
    assert out["search_loss"] == [0.2]
    assert out["listed"] == ["config.json", "report.txt", "reports"]
    assert out["history"] == [[0, 1.0], [1, 0.5], [2, 1 / 3], [3, 0.25], [4, 0.2]]
    assert out["downloaded"] == "accuracy: 0.9\n"
    assert out["status"] == "FINISHED" and out["f1_is_nan"] is True
    assert out["by_name"] == out["experiment_id"] and out["missing"] is None

    # What MLflow wrote is what Heron reads, through its own API.
    heron.set_tracking_uri(live_server.url)
    run = heron.get_run(out["run_id"])
    assert run.info.run_name == "trained-by-mlflow" and run.info.status == "FINISHED"
    assert run.data.params == {
        "lr": "0.01",
        "depth": "3",
        "optimizer": "adam",
        "batch_param": "b",
    }
    assert run.data.metrics["loss"] == 0.2 and run.data.metrics["acc"] == 0.9 and math.isnan(run.data.metrics["f1"])
    assert run.data.metrics["neg"] == -1.5
    assert {k: run.data.tags[k] for k in ("team", "stage", "single", "batch_tag")} == {
        "team": "risk",
        "stage": "dev",
        "single": "yes",
        "batch_tag": "t",
    }
    assert run.data.tags["mlflow.user"] and run.data.tags["mlflow.source.type"] == "LOCAL"
    client = heron.Client()
    assert [(m.step, m.value) for m in client.get_metric_history(out["run_id"], "neg")] == [(-2, -1.5)]
    assert [m.timestamp for m in client.get_metric_history(out["run_id"], "batch")] == [1000, 1001, 1002]
    assert heron.artifacts.load_text(f"runs:/{out['run_id']}/reports/2024/report.txt") == "accuracy: 0.9\n"
    assert heron.artifacts.load_dict(f"runs:/{out['run_id']}/config.json") == {"a": 1}
    names = {r.info.run_name for r in heron.search_runs([out["experiment_id"]], output_format="list")}  # type: ignore[union-attr]
    assert names == {"trained-by-mlflow", "second"}
