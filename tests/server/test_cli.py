"""`heron server`: starts on 127.0.0.1, serves, and shuts down gracefully on SIGTERM (1 and 2 workers)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import heron
from heron.server import Settings
from heron.server.cli import exposure_warning

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    command = [sys.executable, "-m", "heron.cli", "server", "--port", str(port), "--no-access-log", *args]
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group: workers are killed with it
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a loaded 2-core machine starts two workers slowly
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/health", timeout=1).text == "OK":
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    _kill_group(proc)
    out, err = proc.communicate()
    raise AssertionError(f"heron server did not start: {out}\n{err}")


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """Kill the server and every worker it started (they share its process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.mark.parametrize("workers", [1, 2])
def test_heron_server_serves_and_stops_gracefully(tmp_path: Path, workers: int) -> None:
    proc, url = _start(tmp_path, "--workers", str(workers))
    try:
        heron.set_tracking_uri(url)
        with heron.start_run() as run:
            heron.log_metric("m", 1.0)
            heron.log_text("hi", "a.txt")
        assert heron.get_run(run.info.run_id).data.metrics == {"m": 1.0}
        # Defaults: the store and artifacts in the working directory.
        assert (tmp_path / "heron.db").exists()
        assert (tmp_path / "heron-artifacts" / "0" / run.info.run_id / "artifacts" / "a.txt").read_text() == "hi"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise
    # After a graceful shutdown uvicorn re-raises the signal it caught, so the exit status says SIGTERM.
    assert proc.returncode in (0, -signal.SIGTERM), err
    assert "Heron server on http://127.0.0.1:" in err and "WARNING" not in err
    assert "Application shutdown complete" in err + out


def test_a_backend_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "heron.cli", "server", "--backend-store-uri", "http://elsewhere:5000", "--port", str(_free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "is not a database" in proc.stderr


def test_listening_beyond_this_machine_without_auth_warns() -> None:
    for host in ("0.0.0.0", "192.168.1.20", "::", "example.org"):
        warning = exposure_warning(Settings(host=host))
        assert warning is not None and "without authentication" in warning and host in warning
    for host in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        assert exposure_warning(Settings(host=host)) is None
