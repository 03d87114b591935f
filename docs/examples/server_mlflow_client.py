"""Unchanged MLflow training code logging to a Heron server, then read back with Heron.

Needs the MLflow client (`pip install mlflow-skinny`); MLflow runs in a subprocess here only so that
this script can also start and stop the server.
"""

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request

import heron

if importlib.util.find_spec("mlflow") is None:
    print("The mlflow package is not installed: pip install mlflow-skinny to run this example.")
    sys.exit(0)

workdir = tempfile.mkdtemp(prefix="heron-mlflow-demo-")
with socket.socket() as sock:
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
server = subprocess.Popen(
    [sys.executable, "-m", "heron.cli", "server", "--backend-store-uri", f"sqlite:///{workdir}/team.db",
     "--artifacts-destination", f"{workdir}/artifacts", "--port", str(port), "--no-access-log"]
)
url = f"http://127.0.0.1:{port}"

# What a team already runs against an MLflow server; only MLFLOW_TRACKING_URI changes.
training_code = textwrap.dedent(
    """
    import mlflow

    mlflow.set_experiment("churn")
    with mlflow.start_run(run_name="xgb-depth-6") as run:
        mlflow.log_params({"max_depth": 6, "eta": 0.3})
        for step, auc in enumerate([0.71, 0.78, 0.81]):
            mlflow.log_metric("auc", auc, step=step)
        mlflow.set_tags({"team": "growth"})
        with open("notes.txt", "w") as f:
            f.write("feature set v2")
        mlflow.log_artifact("notes.txt")
    print(mlflow.search_runs(filter_string="metrics.auc > 0.8")[["run_id", "metrics.auc"]])
    """
)
try:
    for _ in range(300):
        try:
            if urllib.request.urlopen(f"{url}/health", timeout=1).read() == b"OK":
                break
        except OSError:
            time.sleep(0.1)
    env = {**os.environ, "MLFLOW_TRACKING_URI": url, "MLFLOW_DISABLE_TELEMETRY": "true"}
    subprocess.run([sys.executable, "-c", training_code], env=env, cwd=workdir, check=True)

    heron.set_tracking_uri(url)
    run = heron.search_runs(experiment_names=["churn"], output_format="list")[0]
    print(run.info.run_name, run.data.params, run.data.metrics, run.data.tags["team"])
    assert [m.value for m in heron.Client().get_metric_history(run.info.run_id, "auc")] == [0.71, 0.78, 0.81]
    assert heron.artifacts.load_text(f"runs:/{run.info.run_id}/notes.txt") == "feature set v2"
finally:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
