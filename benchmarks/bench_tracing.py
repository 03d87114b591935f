"""Tracing overhead: ``@heron.trace`` end to end into SQLite vs the raw OpenTelemetry SDK.

    python benchmarks/bench_tracing.py [--calls N] [--repeats R] [--store DIR] [--out result.json] [--quick]

Measured in one process after a warm-up, R repeats interleaved (OpenTelemetry, Heron, OpenTelemetry …)
so that both see the same machine load; medians and minimums (``*_min``) are reported:

- ``otel_1span`` / ``otel_3spans``: the raw OpenTelemetry SDK (its own TracerProvider, a
  BatchSpanProcessor and an exporter that does nothing): a decorator that opens a current span around
  the call, on one function and on three nested ones. Per call, the loop and the processor's flush.
- ``heron_1span`` / ``heron_3spans``: the same functions under ``@heron.trace`` (inputs and outputs
  captured), into a fresh SQLite store, timed from the first call until ``heron.flush_traces()`` has
  written every span: every trace is kept and checked in the store. ``*_app`` is the loop alone (what
  the traced code waits for), without the flush.
- ``*_cpu``: the process CPU time per call over the same runs (all threads), less distorted than wall
  time on a loaded machine; ``ratio_*`` compare Heron with raw OpenTelemetry.
- ``store_spans_per_s``: the export path alone: real finished spans (a 3-span trace with inputs,
  outputs and token usage, with the time-ordered trace ids Heron's provider gives) turned into rows and
  written to SQLite in batches of 4,096 (the export thread's full batch).
- ``mlflow_*`` (with ``--mlflow-python``, MLflow's venv): ``@mlflow.trace`` on the same functions into
  SQLite, run by ``mlflow_tracing_side.py`` in its own process, interleaved there with the same raw
  OpenTelemetry loops (``mlflow_otel_*``), so ``mlflow_ratio_*`` compares MLflow with raw OpenTelemetry
  under the load of its own run; ``mlflow_*_app`` is its loop alone, before its flush. Fewer calls
  (``--mlflow-calls``): MLflow costs far more per call.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opentelemetry import trace as otel_trace  # noqa: E402
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import (  # noqa: E402
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

import heron  # noqa: E402
from heron.tracing.export import BATCH_SIZE  # noqa: E402
from heron.tracing.ids import TimeOrderedIdGenerator  # noqa: E402
from heron.tracing.pending import Target, from_readable  # noqa: E402
from heron.tracing.sinks import SqlSink  # noqa: E402


class _NoopExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class _Collect(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def _otel_decorator(tracer: otel_trace.Tracer) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with tracer.start_as_current_span(fn.__name__):
                return fn(*args, **kwargs)
        return wrapper
    return decorate


def _functions(decorate: Callable[[Callable[..., Any]], Callable[..., Any]]) -> tuple[Callable[..., Any], ...]:
    @decorate
    def one(question: str, k: int = 3) -> str:
        return question[:k]

    @decorate
    def leaf(text: str) -> str:
        return text.upper()

    @decorate
    def middle(text: str) -> str:
        return leaf(text) + "!"

    @decorate
    def top(question: str, k: int = 3) -> str:
        return middle(question[:k])

    return one, top


def _measure(fn: Callable[[int], None], calls: int) -> tuple[float, float]:
    """(wall, CPU) microseconds per call of one run; CPU is the whole process's (the export thread's
    work counts), which a loaded machine distorts less than wall-clock time."""
    start, start_cpu = time.perf_counter(), time.process_time()
    fn(calls)
    return (time.perf_counter() - start) / calls * 1e6, (time.process_time() - start_cpu) / calls * 1e6


def _otel_loops(calls: int) -> tuple[dict[str, Callable[[int], None]], Callable[[], None]]:
    provider = TracerProvider()
    processor = BatchSpanProcessor(_NoopExporter())
    provider.add_span_processor(processor)
    one, top = _functions(_otel_decorator(provider.get_tracer("bench")))

    def run(fn: Callable[..., Any]) -> Callable[[int], None]:
        def loop(n: int) -> None:
            for i in range(n):
                fn("what is the refund policy?", k=i % 5)
            processor.force_flush()
        return loop

    return {"otel_1span": run(one), "otel_3spans": run(top)}, provider.shutdown


def _heron_loops(store: Path, app: dict[str, list[float]]) -> dict[str, Callable[[int], None]]:
    heron.set_tracking_uri(f"sqlite:///{store / 'bench-tracing.db'}")
    one, top = _functions(heron.trace)

    def run(key: str, fn: Callable[..., Any]) -> Callable[[int], None]:
        def loop(n: int) -> None:
            start = time.perf_counter()
            for i in range(n):
                fn("what is the refund policy?", k=i % 5)
            app.setdefault(key + "_app", []).append((time.perf_counter() - start) / n * 1e6)
            if not heron.flush_traces(timeout=600):
                raise RuntimeError("flush_traces timed out")
        return loop

    return {"heron_1span": run("heron_1span", one), "heron_3spans": run("heron_3spans", top)}


def bench_calls(calls: int, repeats: int, store: Path) -> dict[str, list[float]]:
    """Raw OpenTelemetry and Heron, interleaved (A B A B …) so that both see the same machine load."""
    otel, shutdown = _otel_loops(calls)
    app: dict[str, list[float]] = {}
    loops = {**otel, **_heron_loops(store, app)}
    for loop in loops.values():
        loop(min(calls, 2_000))  # warm-up (the store is created here)
    app.clear()
    before = heron.tracing.stats()["exported"]
    samples: dict[str, list[float]] = {}
    for _ in range(repeats):
        for key, loop in loops.items():
            wall, cpu = _measure(loop, calls)
            samples.setdefault(key, []).append(wall)
            samples.setdefault(key + "_cpu", []).append(cpu)
    shutdown()
    stats = heron.tracing.stats()
    expected = calls * repeats * 4  # 1 + 3 spans per repeat
    if stats["exported"] - before != expected or stats["dropped"]:
        raise RuntimeError(f"expected {expected} spans exported, got {stats}")
    return {**samples, **app}


def bench_store(spans_total: int, store: Path) -> dict[str, list[float]]:
    """Rows per second through the export path (convert + cost + write), in the export thread's full
    batches (``BATCH_SIZE``, 4,096 spans)."""
    collect = _Collect()
    provider = TracerProvider(id_generator=TimeOrderedIdGenerator())  # the ids Heron's own spans get
    provider.add_span_processor(SimpleSpanProcessor(collect))
    tracer = provider.get_tracer("bench")
    for i in range(spans_total // 3):
        with tracer.start_as_current_span("chain", attributes={
            "heron.span.type": "CHAIN", "heron.span.inputs": json.dumps({"question": f"q{i}", "k": 3}),
            "heron.experiment_id": "0",
        }) as root:
            with tracer.start_as_current_span("retrieve", attributes={
                "heron.span.type": "RETRIEVER", "heron.span.inputs": '{"query":"refund"}',
                "heron.span.outputs": json.dumps([{"page_content": "Refunds within 30 days."}] * 3),
            }):
                pass
            with tracer.start_as_current_span("llm", attributes={
                "heron.span.type": "CHAT_MODEL", "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.usage.input_tokens": 120, "gen_ai.usage.output_tokens": 30,
                "heron.span.inputs": json.dumps({"messages": [{"role": "user", "content": "refund?"}]}),
                "heron.span.outputs": '"Within 30 days."',
            }):
                pass
            root.set_attribute("heron.span.outputs", '"Within 30 days."')
    finished = collect.spans
    uri = f"sqlite:///{store / 'bench-store.db'}"
    sink = SqlSink(uri)
    target = Target(uri, "0", None)
    sink.write([(from_readable(finished[0], False), target)])  # opens the store
    start = time.perf_counter()
    batch = BATCH_SIZE
    for i in range(0, len(finished), batch):
        chunk = finished[i:i + batch]
        sink.write([(from_readable(s, s.parent is None), target) for s in chunk])
    elapsed = time.perf_counter() - start
    provider.shutdown()
    return {"store_spans_per_s": [len(finished) / elapsed]}


def bench_mlflow(python: Path, calls: int, repeats: int, store: Path) -> dict[str, Any]:
    """``mlflow_tracing_side.py`` under MLflow's Python: its medians with keys prefixed ``mlflow_``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_", "PYTHONPATH"))}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    script = Path(__file__).resolve().parent / "mlflow_tracing_side.py"
    proc = subprocess.run([str(python), str(script), "--calls", str(calls), "--repeats", str(repeats),
                           "--store", str(store / "mlflow")], env=env, stdout=subprocess.PIPE, text=True,
                          timeout=3 * 3600, check=True)
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    found = doc["results"]
    out: dict[str, Any] = {"mlflow_calls": doc["calls"], "mlflow_repeats": doc["repeats"],
                           "mlflow_version": doc["mlflow_version"], "mlflow_traces_stored": doc["traces_stored"],
                           "mlflow_traces_expected": doc["traces_expected"]}
    for key, value in found.items():
        out[key if key.startswith("mlflow_") else "mlflow_" + key] = value  # otel_1span -> mlflow_otel_1span
    for spans in ("1span", "3spans"):
        out[f"mlflow_ratio_{spans}"] = found[f"mlflow_{spans}"] / found[f"otel_{spans}"]
        out[f"mlflow_ratio_{spans}_cpu"] = found[f"mlflow_{spans}_cpu"] / found[f"otel_{spans}_cpu"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--quick", action="store_true", help="a smoke run: few calls, one repeat")
    parser.add_argument("--mlflow-python", type=Path, default=None,
                        help="MLflow's Python (benchmarks/.mlflow-venv/bin/python): also measure @mlflow.trace")
    parser.add_argument("--mlflow-calls", type=int, default=1_000, help="calls per MLflow repeat")
    args = parser.parse_args(argv)
    calls, repeats = (500, 1) if args.quick else (args.calls, args.repeats)
    store = args.store or Path(tempfile.mkdtemp(prefix="heron-bench-tracing-"))
    store.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HERON_TRACE_QUEUE_SIZE", str(max(100_000, calls * 4)))
    samples = bench_calls(calls, repeats, store)
    samples.update(bench_store(1_500 if args.quick else 60_000, store))
    results = {k: statistics.median(v) for k, v in samples.items()}
    for key in [k for k in samples if k.startswith(("otel_", "heron_"))]:
        results[key + "_min"] = min(samples[key])
    for spans in ("1span", "3spans"):
        for suffix in ("", "_cpu"):
            results[f"ratio_{spans}{suffix}"] = results[f"heron_{spans}{suffix}"] / results[f"otel_{spans}{suffix}"]
            results[f"ratio_{spans}{suffix}_min"] = (results[f"heron_{spans}{suffix}_min"]
                                                     / results[f"otel_{spans}{suffix}_min"])
    mlflow: dict[str, Any] = {}
    if args.mlflow_python is not None:
        mlflow = bench_mlflow(args.mlflow_python, 50 if args.quick else args.mlflow_calls,
                              1 if args.quick else min(repeats, 3), store)
        results.update({k: v for k, v in mlflow.items() if isinstance(v, float)})
    for key, value in results.items():
        unit = "spans/s" if key.endswith("per_s") else "x" if "ratio" in key else "us/call"
        print(f"{key:26s} {value:12.1f} {unit}")
    if args.out is not None:
        args.out.write_text(json.dumps({"results": results, "samples": samples, "calls": calls,
                                        "repeats": repeats, "mlflow": mlflow}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
