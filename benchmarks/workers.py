"""One side of a benchmark (Heron or MLflow) in a fresh process of its own interpreter."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


class WorkerFailed(RuntimeError):
    """The worker exited non-zero; the message is the last line it wrote to stderr."""


def run_worker(python: str, script: str, *args: str, timeout: float = 3600) -> Any:
    """``python script args…`` from the repository root, without HERON_* and MLFLOW_* variables (each
    side gets only what the benchmark sets); the JSON of the last line the worker prints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    proc = subprocess.run([python, script, *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=timeout)
    if proc.returncode != 0:
        raise WorkerFailed((proc.stderr.strip().splitlines() or ["?"])[-1][:200])
    return json.loads(proc.stdout.strip().splitlines()[-1])
