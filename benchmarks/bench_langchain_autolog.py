"""LangChain autolog overhead: time per chain invoke with and without autolog, Heron and MLflow.

    python benchmarks/bench_langchain_autolog.py [--calls N] [--repeats R] [--out result.json] [--quick]
                                                 [--mlflow-python PATH]

The chain is a prompt, a fake chat model and a parser (``ChatPromptTemplate | FakeListChatModel |
StrOutputParser``): four LangChain runs, so four spans per invoke with autolog on. Blocks of N invokes
alternate R times between autolog off and on; what autolog adds is the median of the paired
differences, in wall-clock time (what the app waits) and CPU time (this process, every thread, so the
export thread too). With autolog on, traces go to a fresh SQLite store; ``with_export`` adds the time
the flush then takes to write them, spread over the invokes, and the traces in the store are counted.
``stream`` does the same for ``chain.stream()`` read to the end. ``yardstick`` is what four nested
``@heron.trace`` spans (with inputs and outputs) cost in the same run, for comparison on a machine whose
speed varies.

``--mlflow-python`` runs the same measurement (``--mlflow-calls`` invokes a block: its export takes
~0.1 s a trace) under ``mlflow.langchain.autolog()`` in MLflow's interpreter, which needs
``langchain-core`` (``benchmarks/requirements-mlflow.txt`` pins it), with MLflow's trace queue raised so
that it keeps every trace, as in the tracing benchmark. Each side runs in a fresh process of its own
interpreter. Writes report.py's rows (``--out``) and prints them.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workers import WorkerFailed, run_worker

ROOT = Path(__file__).resolve().parents[1]
SPANS_PER_INVOKE = 4


def _chain() -> Any:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages([("system", "You answer briefly."), ("user", "{question}")])
    return prompt | FakeListChatModel(responses=["A heron is a long-legged wading bird."]) | StrOutputParser()


def _block(fn: Callable[[], Any], calls: int) -> tuple[float, float, float]:
    """(wall-clock, CPU of every thread, CPU of this thread) seconds per call."""
    start, cpu, own = time.perf_counter(), time.process_time(), time.thread_time()
    for _ in range(calls):
        fn()
    return ((time.perf_counter() - start) / calls, (time.process_time() - cpu) / calls,
            (time.thread_time() - own) / calls)


class _Autolog:
    """The side being measured: turning its LangChain autolog on and off, flushing its traces."""

    def __init__(self, impl: str, uri: str) -> None:
        if impl == "heron":
            import heron
            import heron.langchain

            heron.set_tracking_uri(uri)
            self._module: Any = heron.langchain
            self._flush: Callable[[], Any] = heron.flush_traces
        else:
            import mlflow

            mlflow.set_tracking_uri(uri)
            mlflow.set_experiment("bench")
            self._module = mlflow.langchain
            self._flush = getattr(mlflow, "flush_trace_async_logging", lambda: None)

    def on(self) -> None:
        self._module.autolog()

    def off(self) -> None:
        self._module.autolog(disable=True)

    def flush(self) -> None:
        self._flush()


def _measure(name: str, fn: Callable[[], Any], calls: int, repeats: int, side: _Autolog) -> dict[str, Any]:
    for _ in range(max(5, calls // 10)):  # warm up both paths
        fn()
    side.on()
    for _ in range(max(5, calls // 10)):
        fn()
    side.flush()
    side.off()

    off_wall, off_cpu, off_own, on_wall, on_cpu, on_own, export = [], [], [], [], [], [], []
    for _ in range(repeats):
        wall, cpu, own = _block(fn, calls)
        off_wall.append(wall)
        off_cpu.append(cpu)
        off_own.append(own)
        side.on()
        wall, cpu, own = _block(fn, calls)
        side.off()
        start = time.perf_counter()
        side.flush()
        export.append((time.perf_counter() - start) / calls)
        on_wall.append(wall)
        on_cpu.append(cpu)
        on_own.append(own)

    def us(values: list[float]) -> float:
        return round(statistics.median(values) * 1e6, 1)

    added_wall = [b - a for a, b in zip(off_wall, on_wall, strict=True)]
    added_cpu = [b - a for a, b in zip(off_cpu, on_cpu, strict=True)]
    added_own = [b - a for a, b in zip(off_own, on_own, strict=True)]
    with_export = [w + e for w, e in zip(added_wall, export, strict=True)]
    return {
        "name": name,
        "calls_per_block": calls,
        "repeats": repeats,
        "off_us_per_call": us(off_wall),
        "on_us_per_call": us(on_wall),
        "added_us_per_call": us(added_wall),
        "added_cpu_us_per_call": us(added_cpu),
        "added_app_thread_cpu_us_per_call": us(added_own),
        "added_us_per_call_with_export": us(with_export),
        "added_us_per_span": round(statistics.median(added_wall) * 1e6 / SPANS_PER_INVOKE, 1),
        "added_percent": round(100 * statistics.median(added_wall) / statistics.median(off_wall), 1),
    }


def _yardstick(calls: int, repeats: int) -> dict[str, Any]:
    """Four nested @heron.trace spans per call, against the same functions untraced."""
    import heron

    def plain_step(x: str) -> str:
        return x

    def plain(x: str) -> str:
        return plain_step(plain_step(plain_step(x)))

    step = heron.trace(plain_step)

    @heron.trace
    def traced(x: str) -> str:
        return step(step(step(x)))

    for fn in (plain, traced):
        for _ in range(max(5, calls // 10)):
            fn("q")
    off, on = [], []
    for _ in range(repeats):
        off.append(_block(lambda: plain("q"), calls))
        on.append(_block(lambda: traced("q"), calls))
    heron.flush_traces()

    def added(i: int) -> float:
        return statistics.median(b[i] - a[i] for a, b in zip(off, on, strict=True)) * 1e6

    return {"name": "yardstick", "added_us_per_call": round(added(0), 1),
            "added_app_thread_cpu_us_per_call": round(added(2), 1),
            "added_us_per_span": round(added(0) / SPANS_PER_INVOKE, 1)}


def _worker(impl: str, calls: int, repeats: int) -> dict[str, Any]:
    """Both cases (and, for Heron, the yardstick) in this process, against a fresh SQLite store."""
    if impl == "mlflow":  # keep every trace (its default queue drops them in a tight loop), no telemetry
        os.environ["MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE"] = str(max(100_000, 4 * repeats * calls))
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    else:
        sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / f"{impl}.db"
        side = _Autolog(impl, f"sqlite:///{db}")
        chain = _chain()
        inputs = {"question": "What is a heron?"}
        results = [
            _measure("invoke", lambda: chain.invoke(inputs), calls, repeats, side),
            _measure("stream", lambda: list(chain.stream(inputs)), calls, repeats, side),
        ]
        side.flush()
        if impl == "heron":
            import heron

            stored = len(heron.search_traces(return_type="list", include_spans=False,
                                             filter_string="trace.name = 'RunnableSequence'"))
            results.append(_yardstick(calls, repeats))
            heron.set_tracking_uri(None)
        else:
            with sqlite3.connect(db) as conn:
                stored = conn.execute("SELECT COUNT(*) FROM trace_info").fetchone()[0]
    import langchain_core

    return {
        "impl": impl,
        "python": sys.version.split()[0],
        "langchain_core": langchain_core.__version__,
        "traces_stored": stored,
        "traces_expected": 2 * (repeats * calls + max(5, calls // 10)),
        "results": {r["name"]: r for r in results},
    }


def _run(python: str, impl: str, calls: int, repeats: int) -> dict[str, Any]:
    """``_worker`` in a fresh process of ``python``."""
    return run_worker(python, __file__, "--impl", impl,  # type: ignore[no-any-return]
                      "--calls", str(calls), "--repeats", str(repeats))


_ROWS = (
    ("off_us_per_call", "LangChain alone, per call", "autolog off (median of the blocks)"),
    ("added_us_per_call", "autolog adds (app waits)", "median of the paired block differences, wall clock"),
    ("added_app_thread_cpu_us_per_call", "autolog adds, CPU of the app's thread", "the calling thread only"),
    ("added_cpu_us_per_call", "autolog adds, CPU of every thread", "the export thread's and any other's too"),
    ("added_us_per_call_with_export", "autolog adds incl. export to SQLite",
     "app waits + the flush after each block, spread over its calls"),
)
_CASES = (("invoke", "chain.invoke (4 spans)"), ("stream", "chain.stream read to the end (4 spans)"))


def rows(heron: dict[str, Any], mlflow: dict[str, Any] | None, mlflow_note: str) -> list[dict[str, Any]]:
    """report.py's rows: each case and measure, Heron beside MLflow; then the yardstick and the counts."""
    out: list[dict[str, Any]] = []
    for case, label in _CASES:
        for key, what, note in _ROWS:
            ours = heron["results"][case][key]
            theirs = mlflow["results"][case][key] if mlflow else None
            faster = key != "off_us_per_call" and theirs is not None and ours > 0
            out.append({
                "operation": f"{label}: {what}",
                "heron": f"{ours} µs",
                "mlflow": f"{theirs} µs" if theirs is not None else None,
                "speedup": round(theirs / ours, 1) if faster else None,
                "target": "",
                "met": None,
                "note": note + ("" if mlflow else f"; {mlflow_note}"),
            })
    yardstick = heron["results"]["yardstick"]
    out.append({
        "operation": "yardstick: four nested @heron.trace spans with inputs and outputs, added per call",
        "heron": f"{yardstick['added_us_per_call']} µs", "mlflow": None, "speedup": None, "target": "",
        "met": None, "note": "the machine's speed during this run, in Heron's own spans",
    })
    out.append({
        "operation": "traces in the store after the flushes",
        "heron": f"{heron['traces_stored']} of {heron['traces_expected']}",
        "mlflow": f"{mlflow['traces_stored']} of {mlflow['traces_expected']}" if mlflow else None,
        "speedup": None, "target": "", "met": None,
        "note": "MLflow's trace queue raised so that it can keep every trace",
    })
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300, help="invokes per block")
    parser.add_argument("--repeats", type=int, default=7, help="off/on block pairs")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--quick", action="store_true", help="a smoke run: few calls")
    parser.add_argument("--mlflow-python", help="MLflow's interpreter, to run the same chain under its autolog")
    parser.add_argument("--mlflow-calls", type=int, default=100,
                        help="invokes per block for MLflow (its export takes ~0.1 s a trace)")
    parser.add_argument("--impl", choices=["heron", "mlflow"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.calls < 1 or args.repeats < 1 or args.mlflow_calls < 1:
        parser.error("--calls, --mlflow-calls and --repeats must be at least 1")
    calls, repeats = (20, 2) if args.quick else (args.calls, args.repeats)
    if args.impl:  # a worker: print its measurement as one line of JSON
        print(json.dumps(_worker(args.impl, calls, repeats)))
        return 0

    heron = _run(sys.executable, "heron", calls, repeats)
    mlflow, note = None, "MLflow: not run (no --mlflow-python)"
    if args.mlflow_python:
        try:
            theirs = 20 if args.quick else args.mlflow_calls
            mlflow, note = _run(args.mlflow_python, "mlflow", theirs, repeats), ""
        except WorkerFailed as exc:
            note = f"MLflow: not run ({exc})"
    doc = {
        "title": (f"LangChain autolog overhead ({repeats} × {calls} invokes each way for Heron"
                  + (f", {repeats} × {mlflow['results']['invoke']['calls_per_block']} for MLflow" if mlflow else "")
                  + f", alternating blocks; langchain-core {heron['langchain_core']}; medians of the paired "
                  "differences)"),
        "rows": rows(heron, mlflow, note),
        "quick": args.quick,
        "heron": heron,
        "mlflow": mlflow,
    }
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0 if heron["traces_stored"] == heron["traces_expected"] else 1


if __name__ == "__main__":
    sys.exit(main())
