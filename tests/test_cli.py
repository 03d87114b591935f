from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import heron


def _heron(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "heron.cli", *args], cwd=cwd, capture_output=True, text=True)


def test_experiments_and_runs_commands(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    created = _heron("experiments", "create", "--tracking-uri", uri, "-n", "cli-exp", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    experiment_id = created.stdout.strip()
    heron.set_tracking_uri(uri)
    with heron.start_run(experiment_id=experiment_id, run_name="r1") as run:
        heron.log_metric("acc", 0.9)
    listed = _heron("experiments", "list", "--tracking-uri", uri, cwd=tmp_path)
    assert "cli-exp" in listed.stdout and "Default" in listed.stdout
    runs = _heron("runs", "list", "--tracking-uri", uri, "-x", experiment_id, "--filter", "metrics.acc > 0.5", cwd=tmp_path)
    assert run.info.run_id in runs.stdout and "acc=0.9" in runs.stdout
    described = _heron("runs", "describe", "--tracking-uri", uri, "-r", run.info.run_id, cwd=tmp_path)
    assert '"acc": 0.9' in described.stdout


def test_errors_are_one_line_and_exit_non_zero(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    bad = _heron("runs", "list", "--tracking-uri", uri, "--filter", "metrics.acc >> 1", cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.startswith("Error (INVALID_PARAMETER_VALUE):")
    assert "Traceback" not in bad.stderr
