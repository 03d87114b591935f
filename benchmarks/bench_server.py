"""Tracking-server benchmark: the same HTTP client against ``heron server`` and ``mlflow server``.

    python benchmarks/bench_server.py --impl heron|mlflow|both --store DIR [--out result.json] [--quick]
                                      [--workers N]

Starts the server(s) on 127.0.0.1 (``heron server`` with this interpreter; ``mlflow server`` from
benchmarks/.mlflow-venv, which ``make bench`` builds), each on a fresh SQLite store in DIR, with their
access log off and the same number of workers, then measures over HTTP with one client (httpx):

- ``log_batch``: requests per second of ``runs/log-batch`` with 100 metrics each, sent by 8 client
  threads into 8 runs;
- ``seed_runs``: runs per second created with ``runs/create`` + ``runs/log-batch`` (2 params, 2
  metrics), by the same 8 threads (setup for the search; one sample per server);
- ``search_runs``: seconds per ``runs/search`` of the 2,000 seeded runs with MLflow's filter
  ``metrics.acc > 0.5 and params.depth = '3'``, following every page;
- ``otlp_ingest``: spans per second into ``POST /v1/traces`` (OTLP/HTTP protobuf, what an
  OpenTelemetry exporter sends): traces of 5 spans (a chain, two LLM calls with GenAI token usage, a
  retriever, a tool), 100 traces (500 spans) per request, 4 client threads. Both servers get the same
  payloads; MLflow 3's endpoint needs ``x-mlflow-experiment-id``, Heron's takes
  ``x-heron-experiment-id``.

``--impl both`` (what ``make bench`` runs) starts both servers and **interleaves** them: each
measurement is taken in rounds, one sample of each server per round (the order alternating), so a
change of the machine's load between rounds hits both sides alike. Each round's speed-up (Heron against
MLflow) is kept, and the result is the median of the rounds with their spread (min, max). Measuring one
server after the other, minutes apart, gave speed-ups from 1.6x to 3.9x for the same code on this
shared machine. ``--impl heron|mlflow`` measures one server alone (for the smoke test and profiling).

Each measurement keeps every sample; the median is the result. Prints the JSON document (and writes it
to --out). The servers are stopped (SIGTERM to their process group) when done.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

ROOT = Path(__file__).resolve().parents[1]
MLFLOW_VENV = ROOT / "benchmarks" / ".mlflow-venv"
API = "/api/2.0/mlflow"
SEARCH_FILTER = "metrics.acc > 0.5 and params.depth = '3'"
OTLP_PATH = "/v1/traces"
RETRIES = 10
RESULT_KEYS = ("log_batch", "seed_runs", "search_runs", "otlp_ingest")
IMPLS = ("heron", "mlflow")


@dataclass(frozen=True)
class Sizes:
    threads: int
    batch_metrics: int
    batches_per_thread: int
    repeats: int
    search_runs: int
    search_repeats: int
    otlp_threads: int
    otlp_requests_per_thread: int
    otlp_traces_per_request: int
    otlp_repeats: int


FULL = Sizes(threads=8, batch_metrics=100, batches_per_thread=15, repeats=5, search_runs=2000, search_repeats=9,
             otlp_threads=4, otlp_requests_per_thread=2, otlp_traces_per_request=100, otlp_repeats=5)
QUICK = Sizes(threads=8, batch_metrics=100, batches_per_thread=10, repeats=2, search_runs=100, search_repeats=3,
              otlp_threads=2, otlp_requests_per_thread=2, otlp_traces_per_request=20, otlp_repeats=2)
SPANS_PER_TRACE = 5


@dataclass
class Measurement:
    description: str
    unit: str  # "s" or "1/s"
    better: str  # "lower" or "higher"
    median: float | None = None
    samples: list[float] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None


# ------------------------------------------------------------------------------------------- servers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server subprocess in its own process group (its workers stop with it)."""

    def __init__(self, impl: str, store: Path, workers: int) -> None:
        self.impl = impl
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        db = store / f"{impl}-server.db"
        artifacts = store / f"{impl}-server-artifacts"
        for stale in (db, artifacts):
            if stale.is_dir():
                shutil.rmtree(stale)
            elif stale.exists():
                stale.unlink()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
        common = ["--backend-store-uri", f"sqlite:///{db}", "--artifacts-destination", str(artifacts)]
        common += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        if impl == "heron":
            command = [sys.executable, "-m", "heron.cli", "server", *common, "--no-access-log"]
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        else:
            mlflow = MLFLOW_VENV / "bin" / "mlflow"
            if not mlflow.exists():
                raise SystemExit(f"{mlflow} is missing: run `make bench` (benchmarks/run.sh) to build the MLflow venv.")
            command = [str(mlflow), "server", *common, "--uvicorn-opts", "--no-access-log"]
            env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
        self.log = open(store / f"{impl}-server.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, env=env, cwd=store, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.impl} server exited with {self.process.returncode}; see {self.log.name}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.impl} server did not answer /health within {timeout:.0f} s")

    def version(self) -> str:
        return httpx.get(f"{self.url}/version", timeout=10).text.strip()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the group this script started
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


# ------------------------------------------------------------------------------------------- client


class Client:
    """MLflow REST calls over one pooled httpx client (shared by the threads)."""

    def __init__(self, url: str, threads: int) -> None:
        limits = httpx.Limits(max_connections=threads * 2, max_keepalive_connections=threads * 2)
        self.url = url
        self.http = httpx.Client(base_url=url + API, timeout=120, limits=limits)
        self.otlp = httpx.Client(base_url=url, timeout=300, limits=limits)
        self.retries = 0
        self._lock = threading.Lock()

    def _send(self, http: httpx.Client, path: str, **kwargs: Any) -> httpx.Response:
        # MLflow's server answers 503 ("database is locked") when its SQLite writers time out under load;
        # the transaction was rolled back, so the request is sent again, and counted ("retries_after_503").
        for _ in range(RETRIES):
            response = http.post(path, **kwargs)
            if response.status_code != 503:
                break
            with self._lock:
                self.retries += 1
        response.raise_for_status()
        return response

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._send(self.http, path, json=body).json()  # type: ignore[no-any-return]

    def create_experiment(self, name: str) -> str:
        return str(self.post("/experiments/create", {"name": name})["experiment_id"])

    def create_run(self, experiment_id: str) -> str:
        run = self.post("/runs/create", {"experiment_id": experiment_id, "start_time": int(time.time() * 1000)})
        return str(run["run"]["info"]["run_id"])

    def log_batch(self, run_id: str, metrics: list[dict[str, Any]], params: list[dict[str, str]] | None = None) -> None:
        self.post("/runs/log-batch", {"run_id": run_id, "metrics": metrics, "params": params or []})

    def search_all(self, experiment_id: str) -> int:
        rows, token = 0, None
        while True:
            body: dict[str, Any] = {"experiment_ids": [experiment_id], "filter": SEARCH_FILTER, "max_results": 1000}
            if token:
                body["page_token"] = token
            page = self.post("/runs/search", body)
            rows += len(page.get("runs", []))
            token = page.get("next_page_token")
            if not token:
                return rows

    def count_heron_traces(self, experiment_id: str) -> int:
        count, token = 0, None
        while True:
            body: dict[str, Any] = {"experiment_ids": [experiment_id], "max_results": 1000, "include_spans": False}
            if token:
                body["page_token"] = token
            response = self.otlp.post("/api/2.0/heron/traces/search", json=body)
            response.raise_for_status()
            page = response.json()
            count += len(page.get("traces", []))
            token = page.get("next_page_token")
            if not token:
                return count

    def export_spans(self, payload: bytes, experiment_id: str) -> None:
        headers = {"content-type": "application/x-protobuf", "x-heron-experiment-id": experiment_id,
                   "x-mlflow-experiment-id": experiment_id}
        self._send(self.otlp, OTLP_PATH, content=payload, headers=headers)


@dataclass
class Side:
    """One server under test and the client talking to it."""

    impl: str
    server: Server
    client: Client


def _in_threads(threads: int, work: Callable[[int], None]) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(work, t) for t in range(threads)]:
            future.result()
    return time.perf_counter() - start


def _rounds(sides: list[Side], rounds: int, sample: Callable[[Side, int], float]) -> dict[str, list[float]]:
    """``rounds`` samples of every side, interleaved: one of each per round, in alternating order."""
    samples: dict[str, list[float]] = {side.impl: [] for side in sides}
    for r in range(rounds):
        for side in sides if r % 2 == 0 else sides[::-1]:
            samples[side.impl].append(sample(side, r))
    return samples


def _count_retries(sides: list[Side], found: dict[str, Measurement], before: dict[str, int]) -> None:
    for side in sides:
        found[side.impl].info["retries_after_503"] = side.client.retries - before[side.impl]


def _measurements(
    samples: dict[str, list[float]], description: str, unit: str, better: str, info: dict[str, Any]
) -> dict[str, Measurement]:
    return {impl: Measurement(description, unit, better, statistics.median(values), values, dict(info))
            for impl, values in samples.items()}


def bench_log_batch(sides: list[Side], sizes: Sizes) -> dict[str, Measurement]:
    counter = [0]
    lock = threading.Lock()
    runs: dict[str, list[str]] = {}
    for side in sides:
        experiment = side.client.create_experiment(f"bench-log-batch-{random.randrange(10**9)}")
        runs[side.impl] = [side.client.create_run(experiment) for _ in range(sizes.threads)]

    def batch(step0: int) -> list[dict[str, Any]]:
        now = int(time.time() * 1000)
        n = sizes.batch_metrics
        return [{"key": f"m{j % 10}", "value": random.random(), "timestamp": now, "step": step0 + j // 10} for j in range(n)]

    def next_step() -> int:
        with lock:
            counter[0] += 1
            return counter[0] * sizes.batch_metrics

    for side in sides:  # warm-up: connections, caches
        _in_threads(sizes.threads, lambda t, s=side: s.client.log_batch(runs[s.impl][t], batch(next_step())))
    requests = sizes.threads * sizes.batches_per_thread

    def sample(side: Side, _round: int) -> float:
        def work(thread: int) -> None:
            for _ in range(sizes.batches_per_thread):
                side.client.log_batch(runs[side.impl][thread], batch(next_step()))

        return requests / _in_threads(sizes.threads, work)

    return _measurements(
        _rounds(sides, sizes.repeats, sample),
        f"runs/log-batch of {sizes.batch_metrics} metrics, {sizes.threads} client threads",
        "1/s",
        "higher",
        {"requests_per_sample": requests, "threads": sizes.threads, "metrics_per_request": sizes.batch_metrics},
    )


def seed(side: Side, sizes: Sizes) -> tuple[str, Measurement]:
    client = side.client
    experiment = client.create_experiment(f"bench-search-{sizes.search_runs}-{random.randrange(10**9)}")
    per_thread = sizes.search_runs // sizes.threads

    def work(thread: int) -> None:
        rng = random.Random(thread)
        for _ in range(per_thread):
            run_id = client.create_run(experiment)
            now = int(time.time() * 1000)
            client.log_batch(
                run_id,
                [{"key": "acc", "value": rng.random(), "timestamp": now, "step": 0},
                 {"key": "loss", "value": rng.random(), "timestamp": now, "step": 0}],
                [{"key": "depth", "value": str(rng.randint(1, 5))}, {"key": "lr", "value": rng.choice(["0.1", "0.01"])}],
            )

    elapsed = _in_threads(sizes.threads, work)
    rate = per_thread * sizes.threads / elapsed
    return experiment, Measurement(
        f"seeding: runs/create + runs/log-batch (2 params, 2 metrics), {sizes.threads} threads",
        "1/s",
        "higher",
        rate,
        [rate],
        {"runs": per_thread * sizes.threads},
    )


def bench_search(sides: list[Side], experiments: dict[str, str], sizes: Sizes) -> dict[str, Measurement]:
    rows = {side.impl: side.client.search_all(experiments[side.impl]) for side in sides}  # warm-up
    for side in sides:
        side.client.search_all(experiments[side.impl])

    def sample(side: Side, _round: int) -> float:
        start = time.perf_counter()
        side.client.search_all(experiments[side.impl])
        return time.perf_counter() - start

    found = _measurements(
        _rounds(sides, sizes.search_repeats, sample),
        f"runs/search({SEARCH_FILTER!r}) over {sizes.search_runs:,} runs, every page",
        "s",
        "lower",
        {"runs": sizes.search_runs},
    )
    for impl, measurement in found.items():
        measurement.info["rows"] = rows[impl]
    return found


# ----------------------------------------------------------------------------------------- OTLP ingest


def _any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=str(value))


def otlp_payload(traces: int, rng: random.Random) -> bytes:
    """An ExportTraceServiceRequest of ``traces`` fresh traces of SPANS_PER_TRACE spans each."""
    message = ExportTraceServiceRequest()
    resource = message.resource_spans.add()
    resource.resource.attributes.append(KeyValue(key="service.name", value=_any_value("bench-app")))
    scope = resource.scope_spans.add()
    scope.scope.name = "bench"
    now = time.time_ns()
    question = json.dumps({"question": "How long do refunds take? " * 4})
    for _ in range(traces):
        trace_id = rng.getrandbits(128).to_bytes(16, "big")
        root_id = rng.getrandbits(64).to_bytes(8, "big")
        children = [
            ("retrieve", "RETRIEVER", {"retrieval.k": 5}),
            ("llm-1", "CHAT_MODEL", {"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 420,
                                     "gen_ai.usage.output_tokens": 60, "gen_ai.operation.name": "chat"}),
            ("lookup_order", "TOOL", {"tool.name": "lookup_order"}),
            ("llm-2", "CHAT_MODEL", {"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 510,
                                     "gen_ai.usage.output_tokens": 80, "gen_ai.operation.name": "chat"}),
        ]
        spans = [("answer", "CHAIN", {}, root_id, None)]
        spans += [(name, kind, attrs, rng.getrandbits(64).to_bytes(8, "big"), root_id) for name, kind, attrs in children]
        for i, (name, kind, attrs, span_id, parent) in enumerate(spans):
            span = scope.spans.add()
            span.trace_id, span.span_id, span.name = trace_id, span_id, name
            if parent is not None:
                span.parent_span_id = parent
            span.start_time_unix_nano = now + i * 1_000_000
            span.end_time_unix_nano = now + (i + 1) * 1_000_000 if parent is not None else now + 9_000_000
            fields = {"heron.span.type": kind, "mlflow.spanType": kind, "heron.span.inputs": question,
                      "heron.span.outputs": json.dumps("Refunds take 30 days."), **attrs}
            span.attributes.extend(KeyValue(key=k, value=_any_value(v)) for k, v in fields.items())
    return message.SerializeToString()  # type: ignore[no-any-return]


def bench_otlp(sides: list[Side], sizes: Sizes) -> dict[str, Measurement]:
    experiments = {side.impl: side.client.create_experiment(f"bench-otlp-{random.randrange(10**9)}")
                   for side in sides}
    rng = random.Random(7)
    per_sample = sizes.otlp_threads * sizes.otlp_requests_per_thread
    # Every request holds new traces; both servers get the same bytes in the same round.
    payloads = [[otlp_payload(sizes.otlp_traces_per_request, rng) for _ in range(per_sample)]
                for _ in range(sizes.otlp_repeats + 1)]
    for side in sides:  # warm-up
        side.client.export_spans(payloads[-1][0], experiments[side.impl])
    spans = per_sample * sizes.otlp_traces_per_request * SPANS_PER_TRACE

    def sample(side: Side, round_: int) -> float:
        def work(thread: int) -> None:
            for i in range(sizes.otlp_requests_per_thread):
                side.client.export_spans(payloads[round_][thread * sizes.otlp_requests_per_thread + i],
                                         experiments[side.impl])

        return spans / _in_threads(sizes.otlp_threads, work)

    found = _measurements(
        _rounds(sides, sizes.otlp_repeats, sample),
        f"POST /v1/traces (OTLP protobuf), {sizes.otlp_traces_per_request * SPANS_PER_TRACE} spans per request, "
        f"{sizes.otlp_threads} client threads",
        "1/s",
        "higher",
        {"spans_per_sample": spans, "spans_per_request": sizes.otlp_traces_per_request * SPANS_PER_TRACE,
         "threads": sizes.otlp_threads,
         "traces_sent": (sizes.otlp_repeats * per_sample + 1) * sizes.otlp_traces_per_request},
    )
    for side in sides:
        if side.impl == "heron":  # every trace sent is stored (MLflow has no such count in its REST API)
            found["heron"].info["traces_stored"] = side.client.count_heron_traces(experiments["heron"])
    return found


# ---------------------------------------------------------------------------------------------- main


def _speedups(heron: Measurement, mlflow: Measurement) -> dict[str, Any]:
    """Heron's speed-up over MLflow in each round (samples i of both were taken back to back)."""
    pairs = zip(heron.samples, mlflow.samples, strict=False)
    rounds = [m / h if heron.better == "lower" else h / m for h, m in pairs if h > 0 and m > 0]
    if not rounds:
        return {}
    return {"median": statistics.median(rounds), "min": min(rounds), "max": max(rounds), "rounds": rounds}


def run(impls: list[str], store: Path, sizes: Sizes, workers: int, log: Callable[[str], None]) -> dict[str, Any]:
    store.mkdir(parents=True, exist_ok=True)
    sides: list[Side] = []
    results: dict[str, dict[str, Measurement]] = {impl: {} for impl in impls}
    versions: dict[str, str] = {}
    try:
        for impl in impls:
            server = Server(impl, store, workers)
            sides.append(Side(impl, server, Client(server.url, sizes.threads)))
            log(f"starting {impl} server on {server.url}")
        for side in sides:
            side.server.wait_ready()
            versions[side.impl] = side.server.version()
        def measure(key: str, bench: Callable[[], dict[str, Measurement]]) -> None:
            log(key)
            before = {side.impl: side.client.retries for side in sides}
            try:
                found = bench()
            except httpx.HTTPError as exc:  # one failed measurement must not lose the others
                log(f"{key} failed: {exc!r}")
                found = {side.impl: Measurement(key, "", "", skipped=f"failed: {exc!r}"[:300]) for side in sides}
            _count_retries(sides, found, before)
            for impl, m in found.items():
                results[impl][key] = m

        measure("log_batch", lambda: bench_log_batch(sides, sizes))
        experiments = {}
        for side in sides:
            log(f"seeding {sizes.search_runs:,} runs into {side.impl}")
            experiments[side.impl], results[side.impl]["seed_runs"] = seed(side, sizes)
        measure("search_runs", lambda: bench_search(sides, experiments, sizes))
        measure("otlp_ingest", lambda: bench_otlp(sides, sizes))
    finally:
        for side in sides:
            side.server.stop()
    documents = {
        impl: {
            "impl": impl,
            "version": versions.get(impl, "unknown"),
            "python": platform.python_version(),
            "quick": sizes is QUICK,
            "workers": workers,
            "cpus": os.cpu_count(),
            "interleaved": len(impls) > 1,
            "results": {key: asdict(m) for key, m in results[impl].items()},
        }
        for impl in impls
    }
    if len(impls) == 1:
        return documents[impls[0]]
    speedups = {key: _speedups(results["heron"][key], results["mlflow"][key])
                for key in RESULT_KEYS if key != "seed_runs"}
    return {"impl": "both", **documents, "speedups": speedups}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", choices=["heron", "mlflow", "both"], required=True)
    parser.add_argument("--store", required=True, help="folder for the servers' SQLite stores and logs")
    parser.add_argument("--out", help="also write the JSON here")
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke test")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{args.impl} {time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    impls = list(IMPLS) if args.impl == "both" else [args.impl]
    document = run(impls, Path(args.store).resolve(), QUICK if args.quick else FULL, args.workers, log)
    text = json.dumps(document, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
