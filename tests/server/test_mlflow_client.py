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
from typing import Any

import pytest

import heron
from heron.server import BackgroundServer

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


def test_mlflow_client_trains_against_heron_and_heron_reads_it(live_server: BackgroundServer, tmp_path: Path) -> None:
    out = _run_mlflow(_TRAINING_SCRIPT, live_server.url, tmp_path)
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


_REGISTRY_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_experiment("registry")
    with mlflow.start_run() as run:
        folder = os.path.join(sys.argv[1], "model")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "MLmodel"), "w") as f:
            f.write("flavors: {}\\n")
        mlflow.log_artifacts(folder, artifact_path="model")
    first = mlflow.register_model(f"runs:/{run.info.run_id}/model", "fraud-rf")
    second = mlflow.register_model(f"runs:/{run.info.run_id}/model", "fraud-rf")
    client = MlflowClient()
    client.set_registered_model_alias("fraud-rf", "champion", first.version)
    by_alias = client.get_model_version_by_alias("fraud-rf", "champion")
    client.transition_model_version_stage("fraud-rf", second.version, "Production", archive_existing_versions=True)
    client.set_registered_model_tag("fraud-rf", "team", "risk")
    client.set_model_version_tag("fraud-rf", first.version, "validated", "yes")
    client.update_registered_model("fraud-rf", description="fraud model")
    client.update_model_version("fraud-rf", second.version, description="retrained")
    client.create_registered_model("scratch", tags={"tmp": "1"})
    client.rename_registered_model("scratch", "scratch-2")
    client.delete_registered_model("scratch-2")
    # MLflow's own prompt API keeps prompts as tagged models; it round-trips, and model searches skip them.
    mlflow.genai.register_prompt("mlflow-qa", "Hi {{ x }}")
    model = client.get_registered_model("fraud-rf")
    print(json.dumps({
        "mlflow_prompt": mlflow.genai.load_prompt("prompts:/mlflow-qa/1").template,
        "mlflow_prompts": [p.name for p in mlflow.genai.search_prompts()],
        "run_id": run.info.run_id,
        "versions": [first.version, second.version],
        "first_source": first.source,
        "by_alias": by_alias.version,
        "found": [m.name for m in client.search_registered_models(filter_string="name LIKE 'fraud%'")],
        "searched": sorted(v.version for v in client.search_model_versions("name = 'fraud-rf'")),
        "production": [v.version for v in client.get_latest_versions("fraud-rf", stages=["Production"])],
        "aliases": model.aliases,
        "tags": model.tags,
        "description": model.description,
        "download": client.get_model_version_download_uri("fraud-rf", first.version),
        "all_models": [m.name for m in client.search_registered_models()],
    }))
    """
)


def test_mlflow_client_registers_models_on_heron_and_heron_reads_them(live_server: BackgroundServer, tmp_path: Path) -> None:
    out = _run_mlflow(_REGISTRY_SCRIPT, live_server.url, tmp_path)
    assert out["versions"] == ["1", "2"] and out["by_alias"] == "1"
    assert out["found"] == ["fraud-rf"] and out["searched"] == ["1", "2"] and out["production"] == ["2"]
    assert out["aliases"] == {"champion": "1"} and out["tags"] == {"team": "risk"}
    assert out["description"] == "fraud model" and out["all_models"] == ["fraud-rf"]
    assert out["first_source"].endswith(f"/{out['run_id']}/artifacts/model") and out["download"] == out["first_source"]
    assert out["mlflow_prompt"] == "Hi {{ x }}" and out["mlflow_prompts"] == ["mlflow-qa"]

    # What MLflow registered is what Heron reads, through its own API.
    heron.set_tracking_uri(live_server.url)
    client = heron.MlflowClient()
    champion = client.get_model_version_by_alias("fraud-rf", "champion")
    assert (champion.version, champion.run_id, champion.tags) == (1, out["run_id"], {"validated": "yes"})
    assert champion.source == heron.get_run(out["run_id"]).info.artifact_uri + "/model"
    second = heron.registry.resolve_model_version("models:/fraud-rf/Production")
    assert (second.version, second.description, second.current_stage) == (2, "retrained", "Production")
    # A prompt MLflow's client registered is, to Heron, a model tagged as MLflow's prompt (not a Heron prompt).
    assert sorted(m.name for m in heron.search_registered_models()) == ["fraud-rf", "mlflow-qa"]
    assert client.get_registered_model("mlflow-qa").tags["mlflow.prompt.is_prompt"] == "true"
    assert heron.search_prompts() == []


def _run_mlflow(script: str, url: str, tmp_path: Path) -> dict[str, Any]:
    """Run ``script`` with the real MLflow client pointed at ``url``, in its own process; its last
    stdout line is JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    env.update(
        MLFLOW_TRACKING_URI=url,
        MLFLOW_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="true",
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
        GIT_PYTHON_REFRESH="quiet",
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result
