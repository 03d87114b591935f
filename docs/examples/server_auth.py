"""A tracking server with authentication: an admin, a user with a token, roles per experiment.

This script starts `heron server --auth` itself on a free port of 127.0.0.1 and stops it at the end.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import httpx

import heron
from heron.errors import HeronError

workdir = tempfile.mkdtemp(prefix="heron-auth-demo-")
store = f"sqlite:///{workdir}/team.db"
with socket.socket() as sock:
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]


def heron_cli(*args: str) -> str:
    """Run a `heron` command, as you would in a shell."""
    return subprocess.run([sys.executable, "-m", "heron.cli", *args], check=True, capture_output=True,
                          text=True).stdout


# Users and tokens live in the server's database; the commands work before the server runs.
heron_cli("users", "create", "alice", "--password", "alice-secret", "--backend-store-uri", store)
token = heron_cli("tokens", "create", "alice", "--name", "laptop", "--backend-store-uri", store).strip()

# heron server --auth; HERON_ADMIN_PASSWORD creates the admin "admin" on the first start.
server = subprocess.Popen(
    [sys.executable, "-m", "heron.cli", "server", "--auth", "--backend-store-uri", store,
     "--artifacts-destination", f"{workdir}/artifacts", "--port", str(port), "--no-access-log"],
    env={**os.environ, "HERON_ADMIN_PASSWORD": "admin-secret"},
)
url = f"http://127.0.0.1:{port}"
try:
    for _ in range(300):
        try:
            if urllib.request.urlopen(f"{url}/health", timeout=1).read() == b"OK":
                break
        except OSError:
            time.sleep(0.1)

    # Without credentials: 401.
    assert httpx.get(f"{url}/api/2.0/mlflow/experiments/search").status_code == 401

    # Alice signs in with her token (MLflow clients: MLFLOW_TRACKING_TOKEN, or
    # MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD).
    os.environ["HERON_TRACKING_TOKEN"] = token
    heron.set_tracking_uri(url)
    heron.set_experiment("alice-evals")  # she created it, so she has MANAGE on it
    with heron.start_run():
        heron.log_metric("accuracy", 0.91)

    # The admin keeps an experiment to themselves: alice's default role there is READ.
    admin = httpx.Client(base_url=url, auth=("admin", "admin-secret"))
    prod = admin.post("/api/2.0/mlflow/experiments/create", json={"name": "production"}).json()["experiment_id"]
    try:
        heron.MlflowClient().create_run(prod)
    except HeronError as exc:
        print("alice on production:", exc.error_code)  # PERMISSION_DENIED
    else:
        raise AssertionError("alice should not write to production")

    # Give her EDIT on it (MLflow's permission route; `heron permissions grant` does the same offline).
    admin.post("/api/2.0/mlflow/experiments/permissions/create",
               json={"experiment_id": prod, "username": "alice", "permission": "EDIT"}).raise_for_status()
    run = heron.MlflowClient().create_run(prod)
    print("alice logged run", run.info.run_id, "in production")

    # Models and prompts are keyed on their name. The admin's prompt "support-reply": alice may read it
    # (the default role), not publish a version, until she is given EDIT on the name.
    admin.post("/api/2.0/heron/prompts/versions/create",
               json={"name": "support-reply", "template": "Reply to {{ message }}"}).raise_for_status()
    try:
        heron.register_prompt("support-reply", "Reply kindly to {{ message }}")
    except HeronError as exc:
        print("alice publishing support-reply:", exc.error_code)  # PERMISSION_DENIED
    else:
        raise AssertionError("alice should not publish support-reply yet")
    admin.post("/api/2.0/mlflow/registered-models/permissions/create",
               json={"name": "support-reply", "username": "alice", "permission": "EDIT"}).raise_for_status()
    version = heron.register_prompt("support-reply", "Reply kindly to {{ message }}")
    heron.set_prompt_alias("support-reply", "production", version.version)
    print(heron.load_prompt("prompts:/support-reply@production").format(message="Where is my order?"))
    # A model she registers is hers: she MANAGEs it, and it shows in her searches.
    heron.register_model("s3://models/ranker/1", "alice-ranker")
    print("alice sees models:", [m.name for m in heron.MlflowClient().search_registered_models()])
finally:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
