"""Concurrency and crash safety of the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import heron

REPO = Path(__file__).resolve().parents[2]

_WORKER = textwrap.dedent(
    """
    import sys
    import heron
    uri, run_id, worker = sys.argv[1], sys.argv[2], int(sys.argv[3])
    heron.set_tracking_uri(uri)
    client = heron.Client()
    for i in range(500):
        client.log_metric(run_id, f"w{worker}", float(i), step=i)
    print("done")
    """
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_eight_processes_log_metrics_into_one_store(tracking_uri: str) -> None:
    run_id = heron.Client().create_run("0").info.run_id
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, tracking_uri, run_id, str(w)],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(8)
    ]
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        assert out.strip() == "done"
    client = heron.Client()
    total = 0
    for w in range(8):
        history = client.get_metric_history(run_id, f"w{w}")
        assert [m.step for m in history] == list(range(500))
        total += len(history)
    assert total == 4000
    assert client.get_run(run_id).data.metrics == {f"w{w}": 499.0 for w in range(8)}


_CRASHER = textwrap.dedent(
    """
    import json, sys, time
    import heron
    heron.set_tracking_uri(sys.argv[1])
    run = heron.start_run(run_name="doomed")
    heron.log_params({"lr": 0.1, "depth": 3})
    for i in range(50):
        heron.log_metric("loss", 1.0 / (i + 1), step=i)
    print(json.dumps({"run_id": run.info.run_id}), flush=True)
    while True:  # keeps logging until killed
        i += 1
        heron.log_metric("loss", 1.0 / (i + 1), step=i)
    """
)


def test_killed_process_leaves_store_readable_with_values(tracking_uri: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _CRASHER, tracking_uri], env=_env(), stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    run_id = json.loads(line)["run_id"]
    time.sleep(0.3)  # kill it in the middle of logging
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)

    client = heron.Client()
    run = client.get_run(run_id)
    assert run.info.status == "RUNNING"  # nobody ended it
    assert run.data.params == {"lr": "0.1", "depth": "3"}
    history = client.get_metric_history(run_id, "loss")
    assert len(history) >= 50
    assert [m.step for m in history] == list(range(len(history)))
    # The store still takes writes.
    client.log_metric(run_id, "after", 1.0)
    client.set_terminated(run_id, "KILLED")
    assert client.get_run(run_id).info.status == "KILLED"


def test_a_forked_child_writes_on_its_own_connections(tracking_uri: str) -> None:
    """A child forked after the parent wrote (idle connections cached) opens its own; both keep writing."""
    client = heron.Client()
    run_id = client.create_run("0").info.run_id
    client.log_metric(run_id, "parent", 0.0, step=0)
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status, never through pytest
        code = 1
        try:
            for i in range(50):
                client.log_metric(run_id, "child", float(i), step=i)
            code = 0
        finally:
            os._exit(code)
    for i in range(1, 50):
        client.log_metric(run_id, "parent", float(i), step=i)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    for key in ("parent", "child"):
        assert [m.step for m in client.get_metric_history(run_id, key)] == list(range(50))
    client.log_metric(run_id, "parent", 50.0, step=50)  # the parent's cached connections still work
    assert client.get_run(run_id).data.metrics == {"parent": 50.0, "child": 49.0}
