"""benchmarks/bench_tracing.py --quick runs and writes every measurement (benchmarks never run in CI
otherwise; this keeps the script from rotting)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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


MLFLOW_PY = ROOT / "benchmarks" / ".mlflow-venv" / "bin" / "python"


def _results_page() -> Any:
    spec = importlib.util.spec_from_file_location("results_page", ROOT / "benchmarks" / "results_page.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_tracing_table_shows_mlflow_next_to_heron_and_otel() -> None:
    page = _results_page()
    results = {"heron_1span": 90.0, "otel_1span": 60.0, "heron_3spans": 300.0, "otel_3spans": 100.0,
               "mlflow_1span": 900.0, "mlflow_otel_1span": 50.0, "store_spans_per_s": 25_000.0,
               "heron_1span_app": 80.0, "mlflow_1span_app": 600.0, "heron_3spans_app": 250.0}
    doc = {"results": results, "calls": 100, "repeats": 2,
           "mlflow": {"mlflow_calls": 10, "mlflow_repeats": 1, "mlflow_version": "3.17.2",
                      "mlflow_traces_stored": 40, "mlflow_traces_expected": 40}}
    text = "\n".join(page.tracing_table(doc))
    assert "| `@heron.trace`, one span, per call, end to end | 90.0 µs | 60.0 µs | 1.50× | 900.0 µs (18.00× OTel in " \
           "its own process, 40 of 40 traces kept) | ≤ 2× OTel | yes |" in text
    assert "three nested spans, per call, end to end | 300.0 µs | 100.0 µs | 3.00× | not measured (run " \
           "bench_tracing.py with --mlflow-python) | ≤ 2× OTel | **no** |" in text
    assert "| `@heron.trace`, one span, per call, what the app waits for (no flush) | 80.0 µs | 60.0 µs | 1.33× | " \
           "600.0 µs (12.00× OTel in its own process) | — | — |" in text  # MLflow's loop before its flush
    assert "three nested spans, per call, what the app waits for (no flush) | 250.0 µs | 100.0 µs | 2.50× | — |" in text
    assert "MLflow 3.17.2: 10 calls × 1 repeats" in text
    assert "| 25,000 spans/s |" in text
    assert "MLflow" not in "\n".join(page.tracing_table({"results": results, "calls": 1, "repeats": 1})).split("\n")[0]


@pytest.mark.skipif(not MLFLOW_PY.exists(), reason="MLflow's benchmark venv (benchmarks/.mlflow-venv) is not built")
def test_bench_tracing_quick_with_mlflow(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_tracing.py"), "--quick", "--store", str(tmp_path / "s"),
         "--out", str(out), "--mlflow-python", str(MLFLOW_PY)],
        env=env, capture_output=True, text=True, timeout=900, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    for key in ("mlflow_1span", "mlflow_3spans", "mlflow_otel_1span", "mlflow_ratio_3spans_cpu", "mlflow_1span_app",
                "mlflow_3spans_app"):
        assert doc["results"][key] > 0, key
    assert doc["mlflow"]["mlflow_traces_stored"] == doc["mlflow"]["mlflow_traces_expected"] > 0
