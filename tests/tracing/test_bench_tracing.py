"""benchmarks/bench_tracing.py --quick runs and writes every measurement (benchmarks never run in CI
otherwise; this keeps the script from rotting)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_tracing_quick(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_tracing.py"), "--quick", "--store", str(tmp_path / "s"),
         "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text())["results"]
    for key in ("otel_1span", "otel_3spans", "heron_1span", "heron_3spans", "heron_1span_app", "ratio_1span",
                "ratio_3spans_cpu", "store_spans_per_s"):
        assert results[key] > 0, key
