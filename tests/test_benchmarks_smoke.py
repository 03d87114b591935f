"""benchmarks/bench_tracking.py and bench_ui.py --quick run under Heron and write every measurement.

Benchmarks never run in CI otherwise (there is no MLflow venv there), so this keeps the script from rotting.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_tracking.py"
KEYS = {
    "import",
    "import_api",
    "log_metric",
    "log_param",
    "log_batch",
    "run_creation",
    "seed_runs",
    "search_runs",
    "search_runs_large",
}


def test_bench_tracking_quick_writes_every_measurement(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--impl",
            "heron",
            "--store",
            str(tmp_path / "store"),
            "--out",
            str(out),
            "--quick",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr

    doc = json.loads(out.read_text())
    assert doc["impl"] == "heron"
    assert doc["quick"] is True
    assert set(doc["results"]) == KEYS
    for key, result in doc["results"].items():
        assert result["skipped"] is None, key
        assert result["median"] > 0, key
        assert len(result["samples"]) >= 1, key
        assert result["unit"] in ("s", "1/s"), key
    assert doc["results"]["search_runs"]["info"]["rows"] > 0  # the filter matches some seeded runs
    assert doc["results"]["search_runs_large"]["info"]["max_results"] == 1000


def test_bench_ui_runs_quick_times_every_page(tmp_path: Path) -> None:
    out = tmp_path / "ui-runs.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_ui_runs.py"), "--store", str(tmp_path / "store"),
         "--out", str(out), "--quick", "--runs", "120"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["quick"] is True and doc["runs"] == 120
    # report.py's contract for the other benchmarks: a title and rows of operation/heron/target/met
    assert doc["title"].startswith("UI runs pages")
    operations = [row["operation"] for row in doc["rows"]]
    assert len(operations) == 8 and operations[0] == "Runs table, first page (50 of 120 runs)"
    targeted = [row for row in doc["rows"] if row["target"]]
    assert len(targeted) == 4 and all(isinstance(row["met"], bool) for row in targeted)
    for name, samples in doc["samples_ms"].items():
        assert len(samples) == 3 and min(samples) > 0, name


def test_bench_openai_autolog_quick_pools_its_processes(tmp_path: Path) -> None:
    out = tmp_path / "openai.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_openai_autolog.py"), "--quick", "--processes", "2",
         "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["title"].startswith("OpenAI autolog overhead (2 processes × 20 pairs of calls a case")
    judged = [row for row in doc["rows"] if row["target"]]
    assert len(judged) == 4  # chat and stream, over HTTP and replayed
    for row in judged:
        assert row["target"] == "≤ 150 µs" and isinstance(row["met"], bool), row["operation"]
        assert "incl. export to SQLite" in row["operation"]
        each = row["note"].split("each process alone: ")[1].split(" µs")[0].split(" / ")
        assert len(each) == 2 and all(float(v) != 0 for v in each), row["note"]
    assert "MLflow: not run (no --mlflow-python)" in judged[0]["note"]
    # what asking for a stream's usage costs with autolog off, and what it leaves of the target
    read, request, asking = doc["rows"][-3:]
    assert "httpx reading the usage event" in read["operation"] and "extra_body" in request["operation"]
    assert asking["operation"].startswith("asking for a stream's usage as issue 3 requires, before any recording")
    parts = [doc["raw_us"][key] for key in ("usage_read", "usage_request")]
    assert float(asking["heron"].removesuffix(" µs")) == pytest.approx(sum(parts), abs=0.2)
    left = float(asking["note"].split("leaves ")[1].split(" µs")[0])
    assert left == pytest.approx(150 - sum(parts), abs=0.2)
    assert all(row["target"] == "" and row["met"] is None for row in (read, request, asking))


def test_bench_langchain_autolog_quick_writes_report_rows(tmp_path: Path) -> None:
    out = tmp_path / "langchain.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_langchain_autolog.py"), "--quick", "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["title"].startswith("LangChain autolog overhead (2 × 20 invokes each way for Heron, alternating")
    rows = {row["operation"]: row for row in doc["rows"]}
    for case in ("chain.invoke (4 spans)", "chain.stream read to the end (4 spans)"):
        alone = rows[f"{case}: LangChain alone, per call"]
        assert float(alone["heron"].removesuffix(" µs")) > 0 and alone["mlflow"] is None
        added = rows[f"{case}: autolog adds incl. export to SQLite"]
        assert added["heron"].endswith(" µs") and "MLflow: not run (no --mlflow-python)" in added["note"]
    # every invoke's trace is in the store: 2 cases x (2 blocks x 20 + 5 warm-up)
    assert rows["traces in the store after the flushes"]["heron"] == "90 of 90"
    assert doc["heron"]["results"]["yardstick"]["added_us_per_call"] > 0


def test_bench_ui_quick_measures_every_page(tmp_path: Path) -> None:
    out = tmp_path / "ui.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_ui.py"), "--quick", "--store", str(tmp_path / "store"),
         "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["quick"] is True and doc["title"]
    rows = {r["operation"]: r for r in doc["rows"]}
    assert len(rows) == 8
    for name in ("traces page (rows)", "traces summary strip", "filtered traces page (rows)",
                 "filtered summary strip", "sessions page"):
        assert rows[name]["heron"].endswith(" ms") and isinstance(rows[name]["met"], bool), name
    assert rows["trace page, 1,000 spans (server)"]["heron"].endswith(" ms")
    assert "2,001 traces" in rows["seed the store"]["note"]
    assert all(len(samples) == 3 for key, samples in doc["samples"].items() if key != "trace_page")


def test_report_only_refuses_to_blank_sections_without_saved_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--only`` rewrites the whole page: with no saved result for the other sections it would wipe their
    figures, so it stops before running anything and says what to do; the page is untouched."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import report
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    page = ROOT / "docs" / "benchmarks.md"
    before = page.read_bytes()
    with pytest.raises(SystemExit) as stopped:
        report.main(["--only", "openai_autolog"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "no saved result for tracking, server, tracing, langchain_autolog, prompts, ui_runs, ui" in err
    assert "--md PATH" in err
    assert page.read_bytes() == before
    (tmp_path / "bench_prompts.json").write_text("{}")
    with pytest.raises(SystemExit):
        report.main(["--only", "openai_autolog"])
    assert "no saved result for tracking, server, tracing, langchain_autolog, ui_runs, ui" in capsys.readouterr().err


def test_report_only_fails_when_a_section_it_names_has_no_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--only`` exits 0 when the sections it names ran (the tracking comparison it did not name is not
    a failure), and 1 naming the section that produced no result."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import report
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    page = tmp_path / "page.md"
    outcome: dict[str, Any] = {"doc": {"title": "Prompts (stand-in)", "rows": []}, "reason": ""}
    monkeypatch.setattr(report, "run_other", lambda script, quick: (outcome["doc"], outcome["reason"]))
    assert report.main(["--only", "prompts", "--md", str(page)]) == 0
    assert "Prompts (stand-in)" in page.read_text()
    outcome.update(doc=None, reason="not yet run: benchmarks/bench_prompts.py exited with status 1")
    assert report.main(["--only", "prompts", "--md", str(page)]) == 1
    assert "bench: no result for prompts" in capsys.readouterr().err
