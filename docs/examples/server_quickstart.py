"""A team tracking server: start `heron server`, point Heron (or MLflow) at it, log, search, read back.

This script starts the server itself on a free port of 127.0.0.1 and stops it at the end; in real use you
run `heron server --backend-store-uri ... --artifacts-destination ...` once and point every script at it.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import heron

workdir = tempfile.mkdtemp(prefix="heron-server-demo-")
with socket.socket() as sock:
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]

# The same as typing:  heron server --backend-store-uri sqlite:///.../team.db --artifacts-destination ... --port PORT
server = subprocess.Popen(
    [
        sys.executable, "-m", "heron.cli", "server",
        "--backend-store-uri", f"sqlite:///{workdir}/team.db",
        "--artifacts-destination", f"{workdir}/artifacts",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
    ]
)
url = f"http://127.0.0.1:{port}"
try:
    for _ in range(300):  # wait until it answers
        try:
            if urllib.request.urlopen(f"{url}/health", timeout=1).read() == b"OK":
                break
        except OSError:
            time.sleep(0.1)

    # Every Heron API now goes through the server's REST API (MLflow's paths and JSON).
    heron.set_tracking_uri(url)
    heron.set_experiment("team-demo")
    with heron.start_run(run_name="baseline") as run:
        heron.log_params({"model": "gpt-4o-mini", "temperature": 0.2})
        for step, loss in enumerate([0.9, 0.6, 0.4]):
            heron.log_metric("loss", loss, step=step)
        heron.log_dict({"prompt": "Answer briefly: {{question}}"}, "prompt.json")  # through the artifact proxy

    found = heron.search_runs(filter_string="metrics.loss < 0.5", output_format="list")
    assert [r.info.run_id for r in found] == [run.info.run_id]
    stored = heron.get_run(run.info.run_id)
    print(stored.info.run_name, stored.data.params, stored.data.metrics)
    print("artifacts at", stored.info.artifact_uri, [f.path for f in heron.Client().list_artifacts(run.info.run_id)])
    # The server kept the file under its artifacts destination: <experiment id>/<run id>/artifacts/.
    assert os.path.exists(os.path.join(workdir, "artifacts", stored.info.experiment_id, run.info.run_id, "artifacts", "prompt.json"))
finally:
    server.send_signal(signal.SIGTERM)  # graceful: in-flight requests finish first
    server.wait(timeout=60)
