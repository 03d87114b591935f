"""Tracking-server benchmark: the same HTTP client against ``heron server`` or ``mlflow server``.

    python benchmarks/bench_server.py --impl heron|mlflow --store DIR [--out result.json] [--quick]
                                      [--workers N] [--threads 8]

Starts the server on 127.0.0.1 (``heron server`` with this interpreter; ``mlflow server`` from
benchmarks/.mlflow-venv, which ``make bench`` builds), on a fresh SQLite store in DIR, both with their
access log off and the same number of workers, then measures over HTTP with one client (httpx, the
MLflow REST API, which both servers speak):

- ``log_batch``: requests per second of ``runs/log-batch`` with 100 metrics each, sent by 8 client
  threads into 8 runs;
- ``seed_runs``: runs per second created with ``runs/create`` + ``runs/log-batch`` (2 params, 2
  metrics), by the same 8 threads;
- ``search_runs``: seconds per ``runs/search`` of the 2,000 seeded runs with MLflow's filter
  ``metrics.acc > 0.5 and params.depth = '3'``, following every page.

Each measurement keeps every sample; the median is the result. Prints the JSON document (and writes it
to --out). The server is stopped (SIGTERM to its process group) when done.
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

ROOT = Path(__file__).resolve().parents[1]
MLFLOW_VENV = ROOT / "benchmarks" / ".mlflow-venv"
API = "/api/2.0/mlflow"
SEARCH_FILTER = "metrics.acc > 0.5 and params.depth = '3'"
RESULT_KEYS = ("log_batch", "seed_runs", "search_runs")


@dataclass(frozen=True)
class Sizes:
    threads: int
    batch_metrics: int
    batches_per_thread: int
    repeats: int
    search_runs: int
    search_repeats: int


FULL = Sizes(threads=8, batch_metrics=100, batches_per_thread=40, repeats=3, search_runs=2000, search_repeats=7)
QUICK = Sizes(threads=8, batch_metrics=100, batches_per_thread=10, repeats=2, search_runs=100, search_repeats=3)


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
        self.http = httpx.Client(base_url=url + API, timeout=120, limits=limits)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(path, json=body)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

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


def _in_threads(threads: int, work: Callable[[int], None]) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(work, t) for t in range(threads)]:
            future.result()
    return time.perf_counter() - start


def bench_log_batch(client: Client, sizes: Sizes) -> Measurement:
    experiment = client.create_experiment(f"bench-log-batch-{random.randrange(10**9)}")
    runs = [client.create_run(experiment) for _ in range(sizes.threads)]
    counter = [0]
    lock = threading.Lock()

    def batch(step0: int) -> list[dict[str, Any]]:
        now = int(time.time() * 1000)
        n = sizes.batch_metrics
        return [{"key": f"m{j % 10}", "value": random.random(), "timestamp": now, "step": step0 + j // 10} for j in range(n)]

    def work(thread: int) -> None:
        for _ in range(sizes.batches_per_thread):
            with lock:
                counter[0] += 1
                step0 = counter[0] * sizes.batch_metrics
            client.log_batch(runs[thread], batch(step0))

    _in_threads(sizes.threads, lambda t: client.log_batch(runs[t], batch(0)))  # warm-up: connections, caches
    requests = sizes.threads * sizes.batches_per_thread
    samples = [requests / _in_threads(sizes.threads, work) for _ in range(sizes.repeats)]
    return Measurement(
        f"runs/log-batch of {sizes.batch_metrics} metrics, {sizes.threads} client threads",
        "1/s",
        "higher",
        statistics.median(samples),
        samples,
        {"requests_per_sample": requests, "threads": sizes.threads, "metrics_per_request": sizes.batch_metrics},
    )


def seed(client: Client, sizes: Sizes) -> tuple[str, Measurement]:
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


def bench_search(client: Client, experiment: str, sizes: Sizes) -> Measurement:
    rows = client.search_all(experiment)  # warm-up
    samples = []
    for _ in range(sizes.search_repeats):
        start = time.perf_counter()
        client.search_all(experiment)
        samples.append(time.perf_counter() - start)
    return Measurement(
        f"runs/search({SEARCH_FILTER!r}) over {sizes.search_runs:,} runs, every page",
        "s",
        "lower",
        statistics.median(samples),
        samples,
        {"runs": sizes.search_runs, "rows": rows},
    )


# ---------------------------------------------------------------------------------------------- main


def run(impl: str, store: Path, sizes: Sizes, workers: int, log: Callable[[str], None]) -> dict[str, Any]:
    store.mkdir(parents=True, exist_ok=True)
    server = Server(impl, store, workers)
    try:
        log(f"starting {impl} server on {server.url}")
        server.wait_ready()
        client = Client(server.url, sizes.threads)
        results: dict[str, Measurement] = {}
        log("log_batch")
        results["log_batch"] = bench_log_batch(client, sizes)
        log(f"seeding {sizes.search_runs:,} runs")
        experiment, results["seed_runs"] = seed(client, sizes)
        log("search_runs")
        results["search_runs"] = bench_search(client, experiment, sizes)
        version = server.version()
    finally:
        server.stop()
    return {
        "impl": impl,
        "version": version,
        "python": platform.python_version(),
        "quick": sizes is QUICK,
        "workers": workers,
        "cpus": os.cpu_count(),
        "results": {key: asdict(m) for key, m in results.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", choices=["heron", "mlflow"], required=True)
    parser.add_argument("--store", required=True, help="folder for the server's SQLite store and logs")
    parser.add_argument("--out", help="also write the JSON here")
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke test")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{args.impl} {time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    document = run(args.impl, Path(args.store).resolve(), QUICK if args.quick else FULL, args.workers, log)
    text = json.dumps(document, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
