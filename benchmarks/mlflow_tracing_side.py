"""MLflow's side of bench_tracing.py: ``@mlflow.trace`` into SQLite vs the raw OpenTelemetry SDK.

    benchmarks/.mlflow-venv/bin/python benchmarks/mlflow_tracing_side.py --calls N --repeats R --store DIR

Run by bench_tracing.py with MLflow's own Python (``--mlflow-python``); it imports neither Heron nor
bench_tracing.py, only MLflow and the OpenTelemetry SDK MLflow depends on. The same functions as
bench_tracing.py, in one process, interleaved (OpenTelemetry, MLflow, OpenTelemetry …) so that both see
the same machine load: raw OpenTelemetry (its own TracerProvider, a BatchSpanProcessor, an exporter that
does nothing) and ``@mlflow.trace`` with MLflow's default asynchronous trace logging into a SQLite
tracking store, timed from the first call until ``mlflow.flush_trace_async_logging()`` returns (and,
as ``*_app``, the loop alone before that flush: what the app waits for). MLflow's
export queue is raised to hold every trace of a run (by default it drops most of a tight loop's traces),
and the traces found in the store afterwards are counted. Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--store", type=Path, required=True)
    args = parser.parse_args(argv)
    args.store.mkdir(parents=True, exist_ok=True)
    # Before mlflow is imported: keep every trace (the default queue of 1,000 drops most of them).
    os.environ["MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE"] = str(max(100_000, args.calls * 4))
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

    import mlflow
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class NoopExporter(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    def functions(decorate: Callable[[Callable[..., Any]], Callable[..., Any]]) -> tuple[Callable[..., Any], ...]:
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

    provider = TracerProvider()
    processor = BatchSpanProcessor(NoopExporter())
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("bench")

    def otel_decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*a: Any, **kw: Any) -> Any:
            with tracer.start_as_current_span(fn.__name__):
                return fn(*a, **kw)
        return wrapper

    db = args.store / "mlflow-tracing.db"
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    mlflow.set_experiment("bench-tracing")
    otel_one, otel_top = functions(otel_decorate)
    ml_one, ml_top = functions(mlflow.trace)

    samples: dict[str, list[float]] = {}

    def loop(fn: Callable[..., Any], flush: Callable[[], Any], key: str) -> Callable[[int], None]:
        def run(n: int) -> None:
            start = time.perf_counter()
            for i in range(n):
                fn("what is the refund policy?", k=i % 5)
            # the loop alone, before the flush: what the app waits for (as bench_tracing's *_app)
            samples.setdefault(key + "_app", []).append((time.perf_counter() - start) / n * 1e6)
            flush()
        return run

    loops = {
        "otel_1span": loop(otel_one, processor.force_flush, "otel_1span"),
        "mlflow_1span": loop(ml_one, mlflow.flush_trace_async_logging, "mlflow_1span"),
        "otel_3spans": loop(otel_top, processor.force_flush, "otel_3spans"),
        "mlflow_3spans": loop(ml_top, mlflow.flush_trace_async_logging, "mlflow_3spans"),
    }
    for run in loops.values():
        run(min(args.calls, 200))  # warm-up (the store is created here)
    samples.clear()
    for _ in range(args.repeats):
        for key, run in loops.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run(args.calls)
            samples.setdefault(key, []).append((time.perf_counter() - start) / args.calls * 1e6)
            samples.setdefault(key + "_cpu", []).append((time.process_time() - start_cpu) / args.calls * 1e6)
    provider.shutdown()
    expected = 2 * (min(args.calls, 200) + args.calls * args.repeats)
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM trace_info").fetchone()[0]
    results = {k: statistics.median(v) for k, v in samples.items()}
    print(json.dumps({"results": results, "samples": samples, "calls": args.calls, "repeats": args.repeats,
                      "traces_expected": expected, "traces_stored": stored, "mlflow_version": mlflow.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
