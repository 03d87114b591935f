"""OpenAI autolog overhead: what autolog adds to a call through the real `openai` SDK, with its export.

    python benchmarks/bench_openai_autolog.py [--pairs N] [--processes P] [--out result.json]
                                              [--quick] [--mlflow-python PATH] [--mlflow-pairs M]

The fake OpenAI server (tests/fakes/openai_server.py) runs in a child process, so that its work does not
share the client's interpreter. Heron is measured in P fresh processes, one after another, each making
N/P of the N pairs of calls. With autolog on, a process makes its calls in pairs: one through the
patched SDK and one through the SDK's original method (saved before autolog patched it), the order
alternating. Neighbouring calls see the same machine, so the paired difference is what autolog adds to
the call, without the drift that put block-against-block figures up to 1.7× apart between processes.
The cases are a chat completion and a streamed one (all chunks read), each twice: over HTTP to the
fake server, and with the SDK's transport replaying the fake server's recorded replies in process (no
network).

- *App waits*: the mean of the paired wall-clock differences (the median is in the note).
- *Export*: the CPU time of the process's other threads (Heron's export thread; MLflow's logging
  threads) over the whole run, its flushes included (every 50 pairs, and at the end), per traced call.
  Every trace is checked to be in the store.
- *Judged*: app waits + export, as if the export never overlapped the app's own waits. Issue 3 sets
  the target end to end, "into SQLite with every trace kept".

*Asking for usage, no recorder*: what asking for a stream's usage (issue 3 requires it) costs before
anything is recorded, paired the same way with autolog off, in the caller's CPU time (so light a client
waits for the server's writes, which are not its cost): the SDK's httpx client reading the reply
with the usage event and the ``"usage": null`` keys against the reply without them (raw bytes, nothing
decoded), and the SDK sending ``stream_options`` through ``extra_body`` (``include_usage: false``, so
the reply is the same). Their sum is what any recorder that asks for usage adds to a stream before it
makes a span, records anything or writes to SQLite; what it leaves of the target is in the note.

``--mlflow-python`` runs the same cases (``--mlflow-pairs`` pairs each) under ``mlflow.openai.autolog()``
in one process of MLflow's interpreter, when it has the `openai` package.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from workers import WorkerFailed, run_worker

ROOT = Path(__file__).resolve().parents[1]
TARGET_US = 150.0
# The target is judged end to end, as issue 3 sets it ("into SQLite with every trace kept"): what the app
# waits, plus the export thread's CPU as if none of it overlapped the app's waits.
JUDGED = "with_export"
IDLE_RAW_SPAN_US = 18.0  # raw OpenTelemetry SDK, one span, as issue 3 measured it when it set the targets
REFERENCE_NOTE = (
    f"measured between the cases. Issue 3 set its targets where one cost {IDLE_RAW_SPAN_US:.0f} µs; this machine, "
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


def _raw_otel_span_cpu(spans: int = 2_000) -> float:
    """CPU seconds per span of the raw OpenTelemetry SDK (BatchSpanProcessor, an exporter that does
    nothing): the yardstick of this machine's speed right now, measured between the cases."""
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


FLUSH_EVERY = 50  # pairs between flushes: the queue stays short, as in an app that runs for long


def _consume(result: Any) -> None:
    if not hasattr(result, "choices"):  # a stream: every chunk is read, as its caller reads them
        for _ in result:
            pass


def usage_floor(base_url: str, pairs: int, create: Any) -> dict[str, list[float]]:
    """What asking for a stream's usage costs with no recorder at all (see the module doc), as paired
    differences of the caller thread's CPU time, seconds: ``usage_read`` (httpx reading the reply's usage
    event and null keys) and ``usage_request`` (the SDK sending ``stream_options`` through ``extra_body``).
    ``create`` is the SDK's own ``Completions.create``, saved before autolog patched it."""
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="bench", max_retries=0)
    http = openai.DefaultHttpxClient()
    request = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}
    bodies = [json.dumps(request).encode(),
              json.dumps({**request, "stream_options": {"include_usage": True}}).encode()]
    headers = {"content-type": "application/json", "authorization": "Bearer bench"}

    def read(body: bytes) -> None:
        with http.stream("POST", f"{base_url}/chat/completions", content=body, headers=headers) as reply:
            for _ in reply.iter_bytes():
                pass

    def call(extra: Any) -> None:
        _consume(create(client.chat.completions, **request, extra_body=extra))

    def read_plain() -> None:
        read(bodies[0])

    def read_usage() -> None:
        read(bodies[1])

    def call_plain() -> None:
        call(None)

    def call_asking() -> None:
        call({"stream_options": {"include_usage": False}})

    out: dict[str, list[float]] = {}
    cases = (("usage_read", read_plain, read_usage), ("usage_request", call_plain, call_asking))
    cpu = time.thread_time  # the caller's own work: a client this light waits for the server, which is not it
    for key, without, with_ in cases:
        for _ in range(max(20, pairs // 20)):
            without()
            with_()
        added = out[key] = []
        for i in range(pairs):
            first, second = (with_, without) if i % 2 == 0 else (without, with_)
            c0 = cpu()
            first()
            c1 = cpu()
            second()
            c2 = cpu()
            added.append(((c1 - c0) - (c2 - c1)) * (1 if i % 2 == 0 else -1))
    http.close()
    client.close()
    return out


def measure(impl: str, base_url: str, pairs: int, store: Path) -> dict[str, list[float]]:
    """Per case: every pair's wall-clock and caller-CPU differences (seconds, traced minus plain), the
    plain call's wall time, and this process's export CPU per traced call (one value)."""
    import openai
    from openai.resources.chat.completions import Completions

    original = Completions.__dict__["create"]
    clients = {"server": openai.OpenAI(base_url=base_url, api_key="bench", max_retries=0)}
    if impl == "heron":
        clients["inproc"] = _replaying_client(base_url)

    uri = f"sqlite:///{store / 'bench.db'}"
    if impl == "heron":
        import heron
        import heron.openai
        from heron.tracing import fluent as tracing

        heron.set_tracking_uri(uri)
        heron.openai.autolog()

        def flush() -> None:
            if not tracing.flush_traces(timeout=600):
                raise RuntimeError("flush_traces timed out")

        def stored() -> int:
            return int(tracing.stats()["exported"])
    else:
        import mlflow

        mlflow.set_tracking_uri(uri)
        mlflow.set_experiment("bench")
        mlflow.openai.autolog()

        def flush() -> None:
            if hasattr(mlflow, "flush_trace_async_logging"):
                mlflow.flush_trace_async_logging()

        def stored() -> int:
            return -1
    if Completions.__dict__["create"] is original:
        raise RuntimeError(f"{impl}: autolog did not patch Completions.create, so nothing would be measured")

    results: dict[str, list[float]] = {}
    wall, cpu = time.perf_counter, time.thread_time
    for transport, client in clients.items():
        completions = client.chat.completions
        for name, extra in (("chat", {}), ("stream", {"stream": True})):
            key = f"{transport}_{name}"
            kwargs: dict[str, Any] = {"model": "gpt-4o-mini", "messages": MESSAGES, **extra}

            def plain(kwargs: dict[str, Any] = kwargs, completions: Any = completions) -> None:
                _consume(original(completions, **kwargs))

            def traced(kwargs: dict[str, Any] = kwargs, completions: Any = completions) -> None:
                _consume(completions.create(**kwargs))

            for _ in range(max(20, pairs // 20)):  # warm-up: connections, imports, the store's tables
                plain()
                traced()
            flush()
            before, others = stored(), time.process_time() - cpu()
            added, added_cpu, plain_wall = [], [], []
            for i in range(pairs):
                traced_first = i % 2 == 0
                first, second = (traced, plain) if traced_first else (plain, traced)
                w0, c0 = wall(), cpu()
                first()
                w1, c1 = wall(), cpu()
                second()
                w2, c2 = wall(), cpu()
                sign = 1 if traced_first else -1  # traced minus plain
                added.append(sign * ((w1 - w0) - (w2 - w1)))
                added_cpu.append(sign * ((c1 - c0) - (c2 - c1)))
                plain_wall.append(w2 - w1 if traced_first else w1 - w0)
                if i % FLUSH_EVERY == FLUSH_EVERY - 1:
                    flush()
            flush()
            export = (time.process_time() - cpu() - others) / pairs  # the other threads' CPU
            if impl == "heron" and stored() - before != pairs:
                raise RuntimeError(f"{key}: {stored() - before} of {pairs} traces were stored")
            results[f"{key}_added"] = added
            results[f"{key}_added_cpu"] = added_cpu
            results[f"{key}_plain"] = plain_wall
            results[f"{key}_export_cpu"] = [export]
            results.setdefault("raw_otel_span_cpu", []).append(_raw_otel_span_cpu())
    if impl == "heron":
        before = stored()
        results.update(usage_floor(base_url, pairs, original))
        flush()
        if stored() != before:
            raise RuntimeError("usage_floor: calls meant to run without autolog were traced")
    return results


def pooled(runs: list[dict[str, list[float]]]) -> dict[str, list[float]]:
    """Several processes' ``measure`` as one set: their pairs together, and their export figures side
    by side (every process makes as many pairs, so the mean of those is the pooled figure)."""
    out: dict[str, list[float]] = {}
    for run in runs:
        for key, values in run.items():
            out.setdefault(key, []).extend(values)
    return out


def summarize(results: dict[str, list[float]]) -> dict[str, float]:
    """Seconds per call of each case: ``*_added`` (app waits: the mean paired difference),
    ``*_added_median``, ``*_added_cpu`` (the caller's thread), ``*_export_cpu``, ``*_with_export``
    (judged: app waits + export), ``*_cpu_with_export``, and ``*_plain`` (the median plain call)."""
    out: dict[str, float] = {"raw_otel_span_cpu": statistics.median(results["raw_otel_span_cpu"])}
    for key in ("usage_read", "usage_request"):
        if key in results:
            out[key] = statistics.fmean(results[key])
    for key in [k[: -len("_plain")] for k in results if k.endswith("_plain")]:
        added = statistics.fmean(results[f"{key}_added"])
        added_cpu = statistics.fmean(results[f"{key}_added_cpu"])
        export = statistics.fmean(results[f"{key}_export_cpu"])
        out.update({
            f"{key}_plain": statistics.median(results[f"{key}_plain"]),
            f"{key}_added": added,
            f"{key}_added_median": statistics.median(results[f"{key}_added"]),
            f"{key}_added_cpu": added_cpu,
            f"{key}_export_cpu": export,
            f"{key}_with_export": added + export,
            f"{key}_cpu_with_export": added_cpu + export,
        })
    return out


def _us(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1e6, 1)


_CASES = (
    ("server_chat", "chat.completions.create, fake server"),
    ("server_stream", "chat.completions.create(stream=True), fake server"),
    ("inproc_chat", "chat.completions.create, replayed in process"),
    ("inproc_stream", "chat.completions.create(stream=True), replayed in process"),
)
_MODES = (
    ("added", "added per call (app waits)"),
    ("export_cpu", "export thread's CPU per call"),
    (JUDGED, "added per call incl. export to SQLite"),
    ("cpu_with_export", "added CPU per call incl. export"),
)


def _in_spans(seconds: float, raw_span: float) -> str:
    spans = seconds / raw_span
    return (f"= {spans:.1f} raw OpenTelemetry spans of this run (≈ {spans * IDLE_RAW_SPAN_US:.0f} µs where one "
            f"costs {IDLE_RAW_SPAN_US:.0f} µs, as when the target was set: ≤ {TARGET_US / IDLE_RAW_SPAN_US:.1f} spans)")


def rows(heron: dict[str, float], mlflow: dict[str, float] | None, mlflow_note: str,
         per_process: list[dict[str, float]] | None = None) -> list[dict[str, Any]]:
    raw_span = heron["raw_otel_span_cpu"]
    out: list[dict[str, Any]] = [
        {
            "operation": "reference: one raw OpenTelemetry span, CPU",
            "heron": f"{_us(raw_span)} µs",
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
                "note": f"{_us(plain)} µs per call (median)" + (
                    "; MLflow's plain calls share their process with its logging threads, which slow them too"
                    if theirs_plain else ""),
            }
        )
        for mode, what in _MODES:
            added = heron[f"{key}_{mode}"]
            theirs = mlflow.get(f"{key}_{mode}") if mlflow else None
            if mode == "added":
                note = (f"mean of the paired differences; median {_us(heron[f'{key}_added_median'])} µs; "
                        f"{_in_spans(added, raw_span)}")
            elif mode == "export_cpu":
                note = "the other threads' CPU over the run, flushes included, per traced call"
            elif mode == JUDGED:
                note = f"app waits + export, as if they never overlapped; {_in_spans(added, raw_span)}"
                if per_process and len(per_process) > 1:
                    each = " / ".join(f"{_us(p[f'{key}_{mode}'])}" for p in per_process)
                    note += f"; each process alone: {each} µs"
            else:
                note = (f"the caller's thread ({_us(heron[f'{key}_added_cpu'])} µs) + export; "
                        f"{_in_spans(added, raw_span)}")
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
    if "usage_read" in heron:
        out.extend(_floor_rows(heron, raw_span))
    return out


def _floor_rows(heron: dict[str, float], raw_span: float) -> list[dict[str, Any]]:
    """The rows of ``usage_floor``: what asking for a stream's usage costs before any recording."""
    read, request = heron["usage_read"], heron["usage_request"]
    asking = read + request
    label = "chat.completions.create(stream=True), fake server, autolog off"

    def row(operation: str, seconds: float, note: str) -> dict[str, Any]:
        return {"operation": operation, "heron": f"{_us(seconds)} µs", "mlflow": None, "speedup": None,
                "target": "", "met": None, "note": note}

    return [
        row(f"{label}: httpx reading the usage event and `\"usage\": null` keys", read,
            "the reply's raw bytes read by the SDK's httpx client, with usage asked against without (nothing "
            "decoded); mean of the paired differences of the caller's CPU time (its wall time also holds the "
            "server writing those bytes: a client this light waits for it)"),
        row(f"{label}: the SDK sending `stream_options` in `extra_body`", request,
            "`include_usage: false`, so the reply is the same; mean of the paired differences of the caller's "
            "CPU time"),
        row("asking for a stream's usage as issue 3 requires, before any recording: the two rows above",
            asking, f"leaves {_us(TARGET_US / 1e6 - asking)} µs of the {TARGET_US:.0f} µs target for making the span, "
            f"recording the call and writing it to SQLite; one raw OpenTelemetry span costs {_us(raw_span)} µs "
            f"in this run; {_in_spans(asking, raw_span)}"),
    ]


def measure_in_process(python: str, impl: str, base_url: str, pairs: int) -> dict[str, list[float]]:
    """``measure`` in a fresh process of ``python``; its pairs."""
    return run_worker(python, __file__, "--impl", impl, "--base-url", base_url,  # type: ignore[no-any-return]
                      "--pairs", str(pairs))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=6_000, help="pairs of calls per case, shared by the processes")
    parser.add_argument("--processes", type=int, default=3,
                        help="Heron's measuring processes, one after another; their pairs are pooled")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true", help="a smoke run: few calls, numbers mean nothing")
    parser.add_argument(
        "--mlflow-python", help="MLflow's interpreter, to run the same calls under mlflow.openai.autolog"
    )
    parser.add_argument("--mlflow-pairs", type=int, default=300,
                        help="pairs of calls per case for MLflow (its export costs ~50 ms a call)")
    parser.add_argument("--impl", choices=["heron", "mlflow"], help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.processes < 1 or args.pairs < 1 or args.mlflow_pairs < 1:
        parser.error("--pairs, --mlflow-pairs and --processes must be at least 1")

    if args.impl:  # a worker: measure against a server already running, print every pair as JSON
        with tempfile.TemporaryDirectory(prefix="heron-bench-openai-") as tmp:
            print(json.dumps(measure(args.impl, args.base_url, args.pairs, Path(tmp))))
        return 0

    each = 20 if args.quick else -(-args.pairs // args.processes)  # pairs per process, rounded up
    server, url = start_server()
    try:
        # Several processes, because a process's memory layout moves its figures by ~10%: pooling their
        # pairs keeps one layout from deciding.
        runs = [measure_in_process(sys.executable, "heron", url, each) for _ in range(args.processes)]
        mlflow, note = None, "MLflow: not run (no --mlflow-python)"
        if args.mlflow_python:
            try:
                theirs = measure_in_process(args.mlflow_python, "mlflow", url, 20 if args.quick else args.mlflow_pairs)
                mlflow, note = summarize(theirs), ""
            except WorkerFailed as exc:
                note = f"MLflow: not run ({exc})"
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)
    heron = summarize(pooled(runs))
    doc = {
        "title": (f"OpenAI autolog overhead ({args.processes} process{'es' if args.processes > 1 else ''} × "
                  f"{each} pairs of calls a case, traced and plain call by call; mean of the pooled differences)"),
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
