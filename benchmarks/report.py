"""Run every benchmark side by side under Heron and MLflow and write docs/benchmarks.md (`make bench`).

    .venv/bin/python benchmarks/report.py [--quick] [--keep-stores DIR] [--skip-mlflow] [--md PATH]
    .venv/bin/python benchmarks/report.py --render-only    # rewrite the page from benchmarks/results/
    .venv/bin/python benchmarks/report.py --only tracking,ui   # run these sections, keep the others' saved results
                                                               # (refused when one has none: the page would lose it)

Side by side, one implementation after the other (never at once, so they do not share the CPU):
bench_tracking.py (Heron with .venv/bin/python, MLflow with benchmarks/.mlflow-venv/bin/python, which
benchmarks/run.sh builds) and bench_server.py (an HTTP client run with Heron's Python that starts
`heron server` or `mlflow server` itself); both take ``--impl heron|mlflow --store DIR --out FILE``.
bench_server.py runs once with ``--impl both``: the two servers run side by side and are measured in
interleaved rounds, so the machine's changing load hits both alike.
Raw JSON goes to benchmarks/results/ (gitignored). ``--quick`` is a smoke run: it writes
benchmarks/results/benchmarks-quick.md instead of docs/benchmarks.md, since its numbers mean nothing.

The other benchmarks (bench_tracing.py, bench_openai_autolog.py, bench_langchain_autolog.py, bench_prompts.py,
bench_ui_runs.py, bench_ui.py) run once each with
Heron's Python when present, with ``--out FILE``, ``--quick`` and ``--mlflow-python PATH`` when their ``--help`` lists them.
Their contract: write JSON ``{"title": str, "rows": [{"operation": str,
"heron": str|float|null, "mlflow": str|float|null, "speedup": str|float|null, "target": str,
"met": bool|null, "note": str}]}``; bench_tracing.py's own shape is read as it is (results_page.py),
and any other JSON object is shown as key/value rows.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from results_page import Pair, render

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
RESULTS = BENCH / "results"
HERON_PY = ROOT / ".venv" / "bin" / "python"
MLFLOW_PY = BENCH / ".mlflow-venv" / "bin" / "python"
OTHER_BENCHMARKS = (
    ("Tracing", "bench_tracing.py"),
    ("OpenAI autolog", "bench_openai_autolog.py"),
    ("LangChain autolog", "bench_langchain_autolog.py"),
    ("Prompts", "bench_prompts.py"),
    ("UI runs pages", "bench_ui_runs.py"),
    ("UI pages", "bench_ui.py"),
)
# What --only takes: the two side-by-side benchmarks, then the others by file stem.
SECTIONS = ("tracking", "server", *(Path(script).stem.removeprefix("bench_") for _, script in OTHER_BENCHMARKS))


# ------------------------------------------------------------------------------------------ machine


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem_kb = next(
        (
            int(line.split()[1])
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    os_name = next(
        (
            line.split("=", 1)[1].strip().strip('"')
            for line in _read("/etc/os-release").splitlines()
            if line.startswith("PRETTY_NAME=")
        ),
        platform.platform(),
    )
    commit = _git("rev-parse", "--short", "HEAD")
    if commit == "unknown":
        commit = "none (no commit yet)"
    elif _git("status", "--porcelain", "--untracked-files=no") not in ("", "unknown"):
        commit += " (with uncommitted changes)"
    load = _read("/proc/loadavg").split()
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count() or "unknown"),
        "RAM": f"{mem_kb / 1024 / 1024:.1f} GiB" if mem_kb else "unknown",
        "OS": f"{os_name}, kernel {platform.release()}",
        "load average at start (1/5/15 min)": " / ".join(load[:3]) if load else "unknown",
        "Heron commit": commit,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


# --------------------------------------------------------------------------------------------- runs


def _env(impl: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    # MLflow 3 sends usage telemetry from a background thread; keep the network out of the timings.
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "true"
    if impl == "heron":  # works before `pip install -e .` too
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    else:
        env.pop("PYTHONPATH", None)
    return env


def _run(cmd: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    print(f"bench: $ {shlex.join(cmd)}", file=sys.stderr, flush=True)
    # stderr streams to the terminal (progress); stdout is captured.
    return subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, timeout=timeout)


def run_side(
    script: str, impl: str, python: Path, env: dict[str, str], store: Path, quick: bool, extra: list[str]
) -> tuple[dict[str, Any] | None, str]:
    """A ``--impl heron|mlflow --store --out`` benchmark under one implementation: its JSON, or None and why."""
    path = BENCH / script
    if not path.exists():
        return None, f"benchmarks/{script} does not exist yet"
    if not python.exists():
        return None, f"{python.relative_to(ROOT)} is missing (run `make bench`)"
    out = RESULTS / f"{_stem(script)}-{impl}{'-quick' if quick else ''}.json"
    out.unlink(missing_ok=True)
    cmd = [str(python), str(path), "--impl", impl, "--store", str(store), "--out", str(out), *extra]
    if quick:
        cmd.append("--quick")
    try:
        proc = _run(cmd, env, timeout=3 * 3600)
    except subprocess.TimeoutExpired:
        return None, f"benchmarks/{script} timed out after 3 h"
    if proc.returncode != 0 or not out.exists():
        return None, f"benchmarks/{script} exited with status {proc.returncode}"
    return json.loads(out.read_text()), ""


def _saved_files(section: str, suffix: str) -> list[Path]:
    """The files a section's saved results may be in (any one of them will do)."""
    if section in ("tracking", "server"):
        return [RESULTS / f"{section}-{kind}{suffix}.json" for kind in ("both", "heron")]
    return [RESULTS / f"bench_{section}{suffix}.json"]


def _stem(script: str) -> str:
    """Result file names: bench_tracking.py -> tracking, bench_server.py -> server."""
    return Path(script).stem.removeprefix("bench_")


def run_pair(script: str, stores: Path, quick: bool, skip_mlflow: bool) -> Pair:
    """A side-by-side benchmark under Heron, then MLflow (never at once).

    bench_tracking.py imports the implementation, so MLflow's side runs in MLflow's venv; bench_server.py
    is an HTTP client that starts either server itself, so both sides run with Heron's Python.
    """
    in_process = script == "bench_tracking.py"
    if script == "bench_server.py" and not skip_mlflow:
        # Both servers at once, measured in interleaved rounds (see bench_server.py): one document.
        both, why = run_side(script, "both", HERON_PY, _env("heron"), stores / _stem(script), quick, [])
        if both is None:
            return Pair(None, None, why, why)
        return Pair(both["heron"], both["mlflow"], speedups=both.get("speedups"))
    heron, why_heron = run_side(
        script, "heron", HERON_PY, _env("heron"), stores / _stem(script) / "heron", quick, []
    )
    if skip_mlflow:
        return Pair(heron, None, why_heron, "skipped (--skip-mlflow)")
    python, env = (MLFLOW_PY, _env("mlflow")) if in_process else (HERON_PY, _env("heron"))
    extra = ["--large-runs", "0"] if in_process else []
    mlflow, why_mlflow = run_side(
        script, "mlflow", python, env, stores / _stem(script) / "mlflow", quick, extra
    )
    return Pair(heron, mlflow, why_heron, why_mlflow)


def run_other(script: str, quick: bool) -> tuple[Any, str]:
    """A benchmark that measures both sides itself (or Heron alone): its JSON, or None and why not."""
    path = BENCH / script
    if not path.exists():
        return None, f"not yet run: benchmarks/{script} does not exist yet"
    env = _env("heron")
    env["HERON_BENCH_MLFLOW_PYTHON"] = str(MLFLOW_PY)  # for a script that wants to start MLflow itself
    usage = subprocess.run(
        [str(HERON_PY), str(path), "--help"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    ).stdout
    out = RESULTS / f"{path.stem}{'-quick' if quick else ''}.json"
    out.unlink(missing_ok=True)
    cmd = [str(HERON_PY), str(path)]
    if "--out" in usage:
        cmd += ["--out", str(out)]
    if quick and "--quick" in usage:
        cmd.append("--quick")
    if "--mlflow-python" in usage and MLFLOW_PY.exists():
        cmd += ["--mlflow-python", str(MLFLOW_PY)]
    try:
        proc = _run(cmd, env, timeout=3600)
    except subprocess.TimeoutExpired:
        return None, f"not yet run: benchmarks/{script} timed out after 1 h"
    if proc.returncode != 0:
        return None, f"not yet run: benchmarks/{script} exited with status {proc.returncode}"
    if out.exists():
        return json.loads(out.read_text()), ""
    # JSON on stdout: all of it, or its last line after progress output. Saved for --render-only.
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    for text in (proc.stdout, lines[-1] if lines else ""):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            continue
        out.write_text(json.dumps(doc, indent=2) + "\n")
        return doc, ""
    return None, f"not yet run: benchmarks/{script} printed no JSON (see its output above)"


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "no saved result"
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("measured %Y-%m-%d %H:%M UTC")


def _load(path: Path) -> Any:
    return json.loads(path.read_text()) if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke run with tiny counts")
    parser.add_argument(
        "--keep-stores", type=Path, help="keep (and reuse) the benchmark stores in this folder"
    )
    parser.add_argument("--skip-mlflow", action="store_true", help="only run Heron")
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite the page from benchmarks/results/ without running"
    )
    parser.add_argument("--md", type=Path, help="where to write the page (default docs/benchmarks.md)")
    parser.add_argument(
        "--only",
        help=f"comma-separated sections to run ({', '.join(SECTIONS)}); the page shows the others from their "
        "saved results in benchmarks/results/ and says when those were measured",
    )
    args = parser.parse_args(argv)
    only = None if args.only is None else {name.strip() for name in args.only.split(",") if name.strip()}
    if only is not None and not only <= set(SECTIONS):
        parser.error(f"--only takes sections from {', '.join(SECTIONS)}; got {args.only!r}")
    md = args.md or (RESULTS / "benchmarks-quick.md" if args.quick else ROOT / "docs" / "benchmarks.md")
    suffix = "-quick" if args.quick else ""
    if only is not None and args.md is None and not args.render_only:
        # the page is rewritten whole: a section neither run nor saved would lose its figures on it
        missing = [s for s in SECTIONS if s not in only and not any(f.exists() for f in _saved_files(s, suffix))]
        if missing:
            parser.error(
                f"--only {args.only}: benchmarks/results/ has no saved result for {', '.join(missing)}, so the page "
                f"would lose {'its' if len(missing) == 1 else 'their'} figures. Run those sections too (or all: "
                "make bench), or write the page elsewhere with --md PATH."
            )
    RESULTS.mkdir(parents=True, exist_ok=True)
    others = []

    def saved(stem: str) -> Pair:
        both = _load(RESULTS / f"{stem}-both{suffix}.json")  # bench_server.py's interleaved document
        if both is not None:
            return Pair(both["heron"], both["mlflow"], speedups=both.get("speedups"))
        heron, mlflow = (
            _load(RESULTS / f"{stem}-heron{suffix}.json"),
            _load(RESULTS / f"{stem}-mlflow{suffix}.json"),
        )
        return Pair(heron, mlflow, "no saved result", "no saved result")

    if args.render_only:
        info = _load(RESULTS / f"machine{suffix}.json") or machine()
        tracking, server = saved("tracking"), saved("server")
        for title, script in OTHER_BENCHMARKS:
            doc = _load(RESULTS / f"{Path(script).stem}{suffix}.json")
            others.append((title, script, doc, "" if doc is not None else "not yet run: no saved result"))
    else:
        info = machine()
        stores = (
            args.keep_stores.resolve() if args.keep_stores else Path(tempfile.mkdtemp(prefix="heron-bench-"))
        )
        earlier: list[str] = []

        def wanted(section: str, files: list[Path]) -> bool:
            if only is None or section in only:
                return True
            found = [f for f in files if f.exists()]
            when = max((f.stat().st_mtime for f in found), default=None)
            earlier.append(f"{section} ({_when(when)})")
            return False

        try:
            tracking = (
                run_pair("bench_tracking.py", stores, args.quick, args.skip_mlflow)
                if wanted("tracking", [RESULTS / f"tracking-{i}{suffix}.json" for i in ("heron", "mlflow")])
                else saved("tracking")
            )
            server = (
                run_pair("bench_server.py", stores, args.quick, args.skip_mlflow)
                if wanted("server", [RESULTS / f"server-both{suffix}.json"])
                else saved("server")
            )
        finally:
            if not args.keep_stores:
                shutil.rmtree(stores, ignore_errors=True)
        for title, script in OTHER_BENCHMARKS:
            saved_doc = RESULTS / f"{Path(script).stem}{suffix}.json"
            if wanted(_stem(script), [saved_doc]):
                doc, reason = run_other(script, args.quick)
            else:
                doc = _load(saved_doc)
                reason = "" if doc is not None else "not yet run: no saved result"
            others.append((title, script, doc, reason))
        load = _read("/proc/loadavg").split()
        info["load average at end (1/5/15 min)"] = " / ".join(load[:3]) if load else "unknown"
        if earlier:
            info["sections from an earlier sitting (saved results)"] = "; ".join(earlier)
        (RESULTS / f"machine{suffix}.json").write_text(json.dumps(info, indent=2) + "\n")

    page = render(info, tracking, server, others, args.quick)
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text(page, encoding="utf-8")
    print(page)
    print(f"bench: wrote {md.relative_to(ROOT) if md.is_relative_to(ROOT) else md}", file=sys.stderr)
    # Failure: no result for Heron's tracking comparison, or for a section --only named.
    failed = ["tracking"] if tracking.heron is None and (only is None or "tracking" in only) else []
    if only is not None and "server" in only and server.heron is None:
        failed.append("server")
    if only is not None and not args.render_only:
        failed += [_stem(script) for _, script, doc, _ in others if doc is None and _stem(script) in only]
    if failed:
        print(f"bench: no result for {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
