"""OpenAI autolog overhead: calls per second through the real `openai` SDK, with and without autolog.

    python benchmarks/bench_openai_autolog.py [--calls N] [--repeats R] [--processes P] [--out result.json]
                                              [--quick] [--mlflow-python PATH]

The fake OpenAI server (tests/fakes/openai_server.py) runs in a child process, so that its work does not
share the client's interpreter. Heron is measured in P fresh processes, one after another, each taking
R/P of the R pairs: in a measuring process, blocks of N calls alternate between autolog off and on, for
a chat completion and for a streamed one (all chunks read), twice: over HTTP to the fake server, and with
the SDK's transport replaying the fake server's recorded replies in process (no network, so the
difference is the time autolog adds, which network jitter on a busy machine would otherwise hide). What
autolog adds is the median of the paired differences of all processes' blocks, pooled (the page also
gives each process's own median): the same code measures ~20% apart from one process to the next.
Wall-clock time is what the app waits; CPU time (the process, every thread) also counts the export
thread and is less sensitive to other processes' load. With autolog on, traces go to a fresh SQLite
store; ``*_with_export`` adds the time ``flush_traces()`` then takes to write them (the export thread's
cost, spread over the calls), and every trace is checked to be in the store. ``--mlflow-python`` runs the
same R pairs under ``mlflow.openai.autolog()`` in one process of MLflow's interpreter, when it has the
`openai` package.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET_US = 150.0
# The target is judged end to end, as issue 3 sets it ("into SQLite with every trace kept"): the block
# and then the flush that writes its last traces. "App waits" alone is lower, and moves between runs with
# how much of the export thread's work happens to fall inside the block (it wakes every 0.5 s).
JUDGED = "autolog_with_export"
IDLE_RAW_SPAN_US = 18.0  # raw OpenTelemetry SDK, one span, as issue 3 measured it when it set the targets
REFERENCE_NOTE = (
    f"measured between the blocks. Issue 3 set its targets where one cost {IDLE_RAW_SPAN_US:.0f} µs; this machine, "
    "idle, has measured 50–65 µs in every session since. If "
    "everything slowed down as that span did, the absolute figures below are about 3× what the same code would "
    "cost there. The notes give each figure in raw "
    f"spans of this run, and scaled to {IDLE_RAW_SPAN_US:.0f} µs a span"
)
MESSAGES = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": "What is a heron?"},
]


def start_server() -> tuple[subprocess.Popen[str], str]:
    """The fake server in a child process; returns it and its base URL."""
    code = (
        "import socket, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from tests.fakes.openai_server import FakeOpenAI\n"
        "fake = FakeOpenAI().start()\n"
        # Replies are written in two parts; without TCP_NODELAY each call would wait ~40 ms for a delayed
        # ACK (Nagle), hiding the overhead being measured. Accepted sockets inherit the option.
        "for server in fake._server.servers:\n"
        "    for sock in server.sockets:\n"
        "        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)\n"
        "print(fake.base_url, flush=True)\n"
        "sys.stdin.read()\n"
        "fake.stop()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise RuntimeError("the fake OpenAI server did not start")
    return proc, url


def _block(fn: Callable[[], Any], calls: int) -> tuple[float, float]:
    """(wall-clock, CPU) seconds per call; CPU is this process's, all threads (the export thread too)."""
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls, (time.process_time() - cpu) / calls


def _raw_otel_span_cpu(spans: int = 2_000) -> float:
    """CPU seconds per span of the raw OpenTelemetry SDK (BatchSpanProcessor, an exporter that does
    nothing): the yardstick of this machine's speed right now, measured beside the autolog blocks."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Noop(SpanExporter):
        def export(self, batch: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Noop()))
    tracer = provider.get_tracer("bench")
    start = time.process_time()
    for _ in range(spans):
        with tracer.start_as_current_span("call"):
            pass
    provider.force_flush()
    used = (time.process_time() - start) / spans
    provider.shutdown()
    return used


def _replaying_client(base_url: str) -> Any:
    """An SDK client whose transport replays replies recorded once from the fake server: no network, so
    the difference between autolog on and off is the CPU time autolog adds, free of network noise."""
    import httpx2
    import openai

    def record(body: dict[str, Any]) -> bytes:
        return httpx2.post(f"{base_url}/chat/completions", json=body, timeout=30).content

    request: dict[str, Any] = {"model": "gpt-4o-mini", "messages": MESSAGES}
    replies = {
        "chat": record(request),
        "stream": record({**request, "stream": True}),
        "stream_usage": record({**request, "stream": True, "stream_options": {"include_usage": True}}),
    }

    def handler(req: Any) -> Any:
        body = json.loads(req.content)
        if not body.get("stream"):
            return httpx2.Response(200, content=replies["chat"], headers={"content-type": "application/json"})
        usage = (body.get("stream_options") or {}).get("include_usage")
        return httpx2.Response(
            200,
            content=replies["stream_usage" if usage else "stream"],
            headers={"content-type": "text/event-stream"},
        )

    http = openai.DefaultHttpxClient(transport=httpx2.MockTransport(handler))
    return openai.OpenAI(base_url=base_url, api_key="bench", max_retries=0, http_client=http)


def measure(impl: str, base_url: str, calls: int, repeats: int, store: Path) -> dict[str, list[float]]:
    """Seconds per call of every block, for each transport and mode, measured in this process: lists in
    block order, so that ``summarize`` can pair each autolog block with the plain block before it."""
    import openai

    clients = {"server": openai.OpenAI(base_url=base_url, api_key="bench", max_retries=0)}
    if impl == "heron":
        clients["inproc"] = _replaying_client(base_url)

    uri = f"sqlite:///{store / 'bench.db'}"
    if impl == "heron":
        import heron
        import heron.openai
        from heron.tracing import fluent as tracing

        heron.set_tracking_uri(uri)

        def enable(on: bool) -> None:
            heron.openai.autolog(disable=not on)

        def flush() -> None:
            tracing.flush_traces()

        def stored() -> int:
            return int(tracing.stats()["exported"])
    else:
        import mlflow

        mlflow.set_tracking_uri(uri)
        mlflow.set_experiment("bench")

        def enable(on: bool) -> None:
            mlflow.openai.autolog(disable=not on)

        def flush() -> None:
            if hasattr(mlflow, "flush_trace_async_logging"):
                mlflow.flush_trace_async_logging()

        def stored() -> int:
            return -1

    results: dict[str, list[float]] = {}
    for transport, client in clients.items():

        def chat(client: Any = client) -> None:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

        def stream(client: Any = client) -> None:
            for _ in client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True):
                pass

        for name, fn in (("chat", chat), ("stream", stream)):
            key = f"{transport}_{name}"
            for _ in range(max(20, calls // 10)):  # warm-up: connections, imports, the store's tables
                fn()
            enable(True)
            fn()
            flush()
            enable(False)
            for _ in range(repeats):
                wall, cpu = _block(fn, calls)
                results.setdefault(f"{key}_plain", []).append(wall)
                results.setdefault(f"{key}_plain_cpu", []).append(cpu)
                before = stored()
                enable(True)
                start, cpu_start = time.perf_counter(), time.process_time()
                results.setdefault(f"{key}_autolog", []).append(_block(fn, calls)[0])
                flush()
                results.setdefault(f"{key}_autolog_with_export", []).append((time.perf_counter() - start) / calls)
                results.setdefault(f"{key}_autolog_with_export_cpu", []).append(
                    (time.process_time() - cpu_start) / calls
                )
                enable(False)
                if impl == "heron" and stored() - before != calls:
                    raise RuntimeError(f"{key}: {stored() - before} of {calls} traces were stored")
                results.setdefault("raw_otel_span_cpu", []).append(_raw_otel_span_cpu())
    return results


def pooled(runs: list[dict[str, list[float]]]) -> dict[str, list[float]]:
    """The blocks of several processes' ``measure`` as one set (pairs stay aligned: each list keeps its
    process's block order and every process has the same keys)."""
    out: dict[str, list[float]] = {}
    for run in runs:
        for key, values in run.items():
            out.setdefault(key, []).extend(values)
    return out


def summarize(results: dict[str, list[float]]) -> dict[str, float]:
    """Median seconds per call of each mode, and what autolog adds (``*_added``): the median of the
    paired differences of neighbouring blocks, steadier than a difference of medians when the machine's
    load drifts during the run."""
    medians = {key: statistics.median(values) for key, values in results.items()}
    for key in [k for k in results if k.endswith("_plain")]:
        case = key[: -len("_plain")]
        for mode, base in (("autolog", "plain"), ("autolog_with_export", "plain"),
                           ("autolog_with_export_cpu", "plain_cpu")):
            pairs = zip(results[f"{case}_{mode}"], results[f"{case}_{base}"], strict=True)
            medians[f"{case}_{mode}_added"] = statistics.median(a - b for a, b in pairs)
    return medians


def _us(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1e6, 1)


_CASES = (
    ("server_chat", "chat.completions.create, fake server"),
    ("server_stream", "chat.completions.create(stream=True), fake server"),
    ("inproc_chat", "chat.completions.create, replayed in process"),
    ("inproc_stream", "chat.completions.create(stream=True), replayed in process"),
)


def rows(heron: dict[str, float], mlflow: dict[str, float] | None, mlflow_note: str,
         per_process: list[dict[str, float]] | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {
            "operation": "reference: one raw OpenTelemetry span, CPU",
            "heron": f"{_us(heron['raw_otel_span_cpu'])} µs",
            "mlflow": None,
            "speedup": None,
            "target": "",
            "met": None,
            "note": REFERENCE_NOTE,
        }
    ]
    for key, label in _CASES:
        plain = heron[f"{key}_plain"]
        theirs_plain = mlflow.get(f"{key}_plain") if mlflow else None
        out.append(
            {
                "operation": f"{label}: calls/s without autolog",
                "heron": round(1 / plain),
                "mlflow": round(1 / theirs_plain) if theirs_plain else None,
                "speedup": None,
                "target": "",
                "met": None,
                "note": f"{_us(plain)} µs per call",
            }
        )
        for mode, what in (
            ("autolog", "added per call (app waits; part of the export falls after the block)"),
            ("autolog_with_export", "added per call incl. export to SQLite"),
            ("autolog_with_export_cpu", "added CPU time per call incl. export"),
        ):
            base = "plain_cpu" if mode.endswith("_cpu") else "plain"
            added = heron[f"{key}_{mode}_added"]
            theirs = mlflow.get(f"{key}_{mode}_added") if mlflow else None
            if mode.endswith("_cpu"):
                spans = added / heron["raw_otel_span_cpu"]
                note = (f"= {spans:.1f} raw OpenTelemetry spans (≈ {spans * IDLE_RAW_SPAN_US:.0f} µs where one costs "
                        f"{IDLE_RAW_SPAN_US:.0f} µs); {_us(heron[f'{key}_{base}'])} µs CPU per call without autolog")
            else:
                spans = added / heron["raw_otel_span_cpu"]
                note = (f"{round(1 / heron[f'{key}_{mode}'])} calls/s with autolog; = {spans:.1f} raw OpenTelemetry "
                        f"spans of this run (≈ {spans * IDLE_RAW_SPAN_US:.0f} µs where one costs {IDLE_RAW_SPAN_US:.0f} µs, "
                        f"as when the target was set: ≤ {TARGET_US / IDLE_RAW_SPAN_US:.1f} spans)")
            if mode == JUDGED and per_process and len(per_process) > 1:
                each = " / ".join(f"{_us(p[f'{key}_{mode}_added'])}" for p in per_process)
                note += f"; each process alone: {each} µs"
            if mlflow_note and key.startswith("server"):
                note += f"; {mlflow_note}"
            out.append(
                {
                    "operation": f"{label}: {what}",
                    "heron": f"{_us(added)} µs",
                    "mlflow": f"{_us(theirs)} µs" if theirs is not None else None,
                    "speedup": round(theirs / added, 1) if theirs and added > 0 else None,
                    "target": f"≤ {TARGET_US:.0f} µs" if mode == JUDGED else "",
                    "met": (added * 1e6 <= TARGET_US) if mode == JUDGED else None,
                    "note": note,
                }
            )
    return out


class WorkerFailed(RuntimeError):
    pass


def run_worker(python: str, impl: str, base_url: str, calls: int, repeats: int, quick: bool) -> dict[str, list[float]]:
    """``measure`` in a fresh process of ``python`` (without HERON_* and MLFLOW_* variables); its blocks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    cmd = [python, __file__, "--impl", impl, "--base-url", base_url, "--calls", str(calls), "--repeats", str(repeats)]
    proc = subprocess.run(cmd + (["--quick"] if quick else []), capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=3600)
    if proc.returncode != 0:
        raise WorkerFailed((proc.stderr.strip().splitlines() or ["?"])[-1][:160])
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=100, help="calls per block")
    parser.add_argument("--repeats", type=int, default=27, help="pairs of blocks (off, on), shared by the processes")
    parser.add_argument("--processes", type=int, default=3,
                        help="Heron's measuring processes, one after another; their blocks are pooled")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true", help="a smoke run: few calls, numbers mean nothing")
    parser.add_argument(
        "--mlflow-python", help="MLflow's interpreter, to run the same calls under mlflow.openai.autolog"
    )
    parser.add_argument("--impl", choices=["heron", "mlflow"], help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    calls, repeats = (20, 1) if args.quick else (args.calls, args.repeats)
    if args.processes < 1 or repeats < 1 or calls < 1:
        parser.error("--calls, --repeats and --processes must be at least 1")

    if args.impl:  # a worker: measure against a server already running, print every block as JSON
        with tempfile.TemporaryDirectory(prefix="heron-bench-openai-") as tmp:
            print(json.dumps(measure(args.impl, args.base_url, calls, repeats, Path(tmp))))
        return 0

    each = repeats if args.quick else -(-repeats // args.processes)  # pairs per process, rounded up
    server, url = start_server()
    try:
        # Several processes, because a process's memory layout moves its figures by ~20% (the same code
        # measured 134-168 µs added in five processes): pooling their blocks keeps one layout from deciding.
        runs = [run_worker(sys.executable, "heron", url, calls, each, args.quick) for _ in range(args.processes)]
        mlflow, note = None, "MLflow: not run (no --mlflow-python)"
        if args.mlflow_python:
            try:
                mlflow, note = summarize(run_worker(args.mlflow_python, "mlflow", url, calls, repeats, args.quick)), ""
            except WorkerFailed as exc:
                note = f"MLflow: not run ({exc})"
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)
    heron = summarize(pooled(runs))
    doc = {
        "title": (f"OpenAI autolog overhead ({args.processes} process{'es' if args.processes > 1 else ''} × "
                  f"{each} pairs of {calls}-call blocks, median of the pooled paired differences)"),
        "rows": rows(heron, mlflow, note, [summarize(run) for run in runs]),
        "raw_us": {k: _us(v) for k, v in heron.items()},
    }
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
