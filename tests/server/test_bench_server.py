"""benchmarks/bench_server.py --quick runs against Heron and reports every measurement (keeps it from rotting)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_server_quick_reports_every_measurement(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_server.py"), "--impl", "heron", "--quick",
         "--store", str(tmp_path / "store"), "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert json.loads(proc.stdout) == doc
    assert doc["impl"] == "heron" and doc["quick"] is True
    assert set(doc["results"]) == {"log_batch", "seed_runs", "search_runs", "otlp_ingest"}
    for key, result in doc["results"].items():
        assert result["median"] > 0 and result["samples"], key
    assert doc["results"]["search_runs"]["info"]["rows"] > 0
    otlp = doc["results"]["otlp_ingest"]["info"]
    assert otlp["traces_stored"] == otlp["traces_sent"] > 0  # every span sent landed as a trace
