"""Tracking-API benchmark that runs unchanged under Heron or MLflow.

    python benchmarks/bench_tracking.py --impl heron|mlflow --store DIR --out result.json [--quick]

``--impl heron`` does ``import heron as mlflow`` and tracks into ``sqlite:///DIR/heron.db``;
``--impl mlflow`` does ``import mlflow`` (run it with the MLflow venv's Python) and tracks into
``sqlite:///DIR/mlflow.db``. Everything after that is the same code. Each measurement is the median
of several repeats taken after a warm-up; the JSON keeps every sample. benchmarks/report.py runs this
under both implementations and writes docs/benchmarks.md.

Seeded search experiments are tagged when complete and reused when ``--store`` already holds them,
so a kept store skips the (slow) seeding on the next run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Any

SEARCH_FILTER = "metrics.acc > 0.5 and params.depth = '3'"
SEEDED_TAG = "bench.seeded_runs"

# Every key of "results"; tests/test_benchmarks_smoke.py checks the JSON has them all.
RESULT_KEYS = (
    "import",
    "import_api",
    "log_metric",
    "log_param",
    "log_batch",
    "run_creation",
    "seed_runs",
    "search_runs",
    "search_runs_large",
)


@dataclass(frozen=True)
class Sizes:
    """How much work each measurement does; ``--quick`` shrinks everything for a smoke test."""

    repeats: int
    import_repeats: int
    log_metric_calls: int
    log_param_keys: int
    batch_size: int
    batches_per_repeat: int
    runs_per_repeat: int
    search_runs: int
    search_runs_large: int
    search_repeats: int


FULL = Sizes(
    repeats=5,
    import_repeats=5,
    log_metric_calls=1000,
    log_param_keys=500,
    batch_size=1000,
    batches_per_repeat=5,
    runs_per_repeat=100,
    search_runs=2000,
    search_runs_large=100_000,
    search_repeats=7,
)
QUICK = Sizes(
    repeats=3,
    import_repeats=3,
    log_metric_calls=20,
    log_param_keys=20,
    batch_size=50,
    batches_per_repeat=1,
    runs_per_repeat=5,
    search_runs=50,
    search_runs_large=100,
    search_repeats=3,
)


@dataclass
class Measurement:
    """One benchmarked operation: ``median`` of ``samples`` in ``unit`` (None when skipped)."""

    description: str
    unit: str  # "s" (time per operation) or "1/s" (operations per second)
    better: str  # "lower" or "higher"
    median: float | None = None
    samples: list[float] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None


def _median(samples: list[float]) -> float:
    return statistics.median(samples)


def _time_it(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _now_ms() -> int:
    return int(time.time() * 1000)


def _fresh_experiment(mlflow: ModuleType, name: str) -> str:
    """Make a new experiment with a unique name active and return its id."""
    experiment = mlflow.set_experiment(f"{name}-{uuid.uuid4().hex[:8]}")
    return str(experiment.experiment_id)


# ------------------------------------------------------------------------------------------- measures


def bench_import(impl: str, repeats: int, touch_api: bool = False) -> Measurement:
    """``import <impl>`` in a fresh interpreter (interpreter start-up excluded), after one warm-up.

    With ``touch_api`` the timing also covers looking up ``log_metric`` and ``MlflowClient``: Heron's
    package imports its parts lazily, on first use, so this is the import cost before tracking works.
    """
    statement = f"import {impl}" + (f"; {impl}.log_metric; {impl}.MlflowClient" if touch_api else "")
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    samples = []
    for i in range(repeats + 1):
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
        if i:  # the first run warms the OS file cache
            samples.append(float(out.stdout.strip().splitlines()[-1]))
    return Measurement(f"`{statement}` in a fresh process", "s", "lower", _median(samples), samples)


def bench_log_metric(mlflow: ModuleType, sizes: Sizes) -> Measurement:
    """``log_metric`` per call: ``log_metric_calls`` calls with increasing steps in one run."""
    _fresh_experiment(mlflow, "bench-log-metric")
    calls = sizes.log_metric_calls

    def one_run(n: int) -> float:
        with mlflow.start_run():
            start = time.perf_counter()
            for i in range(n):
                mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
            return time.perf_counter() - start

    one_run(max(10, calls // 10))  # warm-up
    samples = [one_run(calls) / calls for _ in range(sizes.repeats)]
    return Measurement(
        f"log_metric, {calls:,} calls in one run", "s", "lower", _median(samples), samples, {"calls": calls}
    )


def bench_log_param(mlflow: ModuleType, sizes: Sizes) -> Measurement:
    """``log_param`` per call: ``log_param_keys`` distinct keys in one run."""
    _fresh_experiment(mlflow, "bench-log-param")
    keys = sizes.log_param_keys

    def one_run(n: int) -> float:
        with mlflow.start_run():
            start = time.perf_counter()
            for i in range(n):
                mlflow.log_param(f"param_{i}", i)
            return time.perf_counter() - start

    one_run(max(10, keys // 10))
    samples = [one_run(keys) / keys for _ in range(sizes.repeats)]
    return Measurement(
        f"log_param, {keys:,} distinct keys in one run",
        "s",
        "lower",
        _median(samples),
        samples,
        {"keys": keys},
    )


def bench_log_batch(mlflow: ModuleType, metric_cls: type, sizes: Sizes) -> Measurement:
    """``MlflowClient().log_batch`` per metric, in batches of ``batch_size`` metrics."""
    _fresh_experiment(mlflow, "bench-log-batch")
    client = mlflow.MlflowClient()
    size, per_repeat = sizes.batch_size, sizes.batches_per_repeat

    def batch(b: int) -> list[Any]:
        # 10 keys x (size / 10) steps, unique steps per batch so nothing repeats.
        now = _now_ms()
        return [metric_cls(f"m{j % 10}", random.random(), now, b * size + j // 10) for j in range(size)]

    def one_run(n_batches: int) -> float:
        batches = [batch(b) for b in range(n_batches)]  # built outside the timed part
        with mlflow.start_run() as run:
            start = time.perf_counter()
            for metrics in batches:
                client.log_batch(run.info.run_id, metrics=metrics)
            return time.perf_counter() - start

    one_run(1)
    samples = [one_run(per_repeat) / (per_repeat * size) for _ in range(sizes.repeats)]
    return Measurement(
        f"log_batch per metric, {per_repeat} batches of {size:,} metrics",
        "s",
        "lower",
        _median(samples),
        samples,
        {"batch_size": size, "batches": per_repeat},
    )


def bench_run_creation(mlflow: ModuleType, sizes: Sizes) -> Measurement:
    """Runs per second for ``with start_run(): log_params(5 params); log_metrics(5 metrics)``."""
    _fresh_experiment(mlflow, "bench-run-creation")
    params = {f"p{i}": i for i in range(5)}
    metrics = {f"m{i}": i / 10 for i in range(5)}

    def runs(n: int) -> None:
        for _ in range(n):
            with mlflow.start_run():
                mlflow.log_params(params)
                mlflow.log_metrics(metrics)

    n = sizes.runs_per_repeat
    runs(max(5, n // 10))
    samples = [n / _time_it(lambda: runs(n)) for _ in range(sizes.repeats)]
    return Measurement(
        "run creation: start_run + log_params(5) + log_metrics(5) + end",
        "1/s",
        "higher",
        _median(samples),
        samples,
        {"runs": n},
    )


def _seed(
    mlflow: ModuleType, metric_cls: type, param_cls: type, n_runs: int, log: Callable[[str], None]
) -> tuple[str, float | None]:
    """An experiment holding ``n_runs`` seeded runs (reused when complete); its id and seed rate in runs/s.

    Each run gets params depth (1-5) and lr, metrics acc and loss (uniform 0-1), from a fixed seed,
    through the public client API: create_run + log_batch.
    """
    client = mlflow.MlflowClient()
    name = f"bench-search-{n_runs}"
    existing = client.get_experiment_by_name(name)
    if existing is not None and existing.tags.get(SEEDED_TAG) == str(n_runs):
        log(f"reusing seeded experiment {name!r}")
        return str(existing.experiment_id), None
    if existing is not None:  # an interrupted seeding: start over under a fresh name
        name = f"{name}-{uuid.uuid4().hex[:8]}"
    experiment_id = str(client.create_experiment(name))
    rng = random.Random(42)
    start = time.perf_counter()
    for i in range(n_runs):
        now = _now_ms()
        run = client.create_run(experiment_id, start_time=now)
        client.log_batch(
            run.info.run_id,
            metrics=[metric_cls("acc", rng.random(), now, 0), metric_cls("loss", rng.random(), now, 0)],
            params=[
                param_cls("depth", str(rng.randint(1, 5))),
                param_cls("lr", str(rng.choice([0.1, 0.01]))),
            ],
        )
        if (i + 1) % 10_000 == 0:
            log(f"seeded {i + 1:,}/{n_runs:,} runs ({(i + 1) / (time.perf_counter() - start):,.0f} runs/s)")
    rate = n_runs / (time.perf_counter() - start)
    client.set_experiment_tag(experiment_id, SEEDED_TAG, str(n_runs))
    return experiment_id, rate


def bench_search(
    mlflow: ModuleType, experiment_id: str, n_runs: int, repeats: int, max_results: int | None
) -> Measurement:
    """``search_runs(filter_string=SEARCH_FILTER)`` as a DataFrame over the seeded experiment."""
    kwargs: dict[str, Any] = {"experiment_ids": [experiment_id], "filter_string": SEARCH_FILTER}
    if max_results is not None:
        kwargs["max_results"] = max_results
    rows = len(mlflow.search_runs(**kwargs))  # warm-up (also loads pandas)
    samples = [_time_it(lambda: mlflow.search_runs(**kwargs)) for _ in range(repeats)]
    limit = f", first {max_results:,}" if max_results is not None else ""
    return Measurement(
        f"search_runs({SEARCH_FILTER!r}) over {n_runs:,} runs{limit}",
        "s",
        "lower",
        _median(samples),
        samples,
        {"runs": n_runs, "rows": rows, "max_results": max_results},
    )


# ------------------------------------------------------------------------------------------------ main


def run(impl: str, store: str, sizes: Sizes, only: set[str] | None, large_runs: int | None) -> dict[str, Any]:
    """Run the selected measurements (all when ``only`` is None) and return the result document."""

    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{impl} {time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    def wanted(key: str) -> bool:
        return only is None or key in only

    store = os.path.abspath(store)
    os.makedirs(store, exist_ok=True)
    os.chdir(store)  # anything either implementation writes relative to the cwd stays in the store dir
    results: dict[str, Measurement] = {}
    if wanted("import"):
        log("import time")
        results["import"] = bench_import(impl, sizes.import_repeats)
    if wanted("import_api"):
        log("import time, with the tracking API")
        results["import_api"] = bench_import(impl, sizes.import_repeats, touch_api=True)

    mlflow = importlib.import_module(impl)
    entities = importlib.import_module(f"{impl}.entities")
    mlflow.set_tracking_uri(f"sqlite:///{os.path.join(store, impl + '.db')}")
    mlflow.set_experiment("bench-setup")  # creates/migrates the database outside any timing

    measures: list[tuple[str, Callable[[], Measurement]]] = [
        ("log_metric", lambda: bench_log_metric(mlflow, sizes)),
        ("log_param", lambda: bench_log_param(mlflow, sizes)),
        ("log_batch", lambda: bench_log_batch(mlflow, entities.Metric, sizes)),
        ("run_creation", lambda: bench_run_creation(mlflow, sizes)),
    ]
    for key, measure in measures:
        if wanted(key):
            log(key)
            results[key] = measure()

    if wanted("search_runs") or wanted("seed_runs"):
        log(f"seeding {sizes.search_runs:,} runs")
        experiment_id, rate = _seed(mlflow, entities.Metric, entities.Param, sizes.search_runs, log)
        results["seed_runs"] = Measurement(
            "seeding: create_run + log_batch(2 params, 2 metrics)",
            "1/s",
            "higher",
            rate,
            [] if rate is None else [rate],
            {"runs": sizes.search_runs},
            None if rate is not None else "store reused: already seeded",
        )
        log("search_runs")
        results["search_runs"] = bench_search(
            mlflow, experiment_id, sizes.search_runs, sizes.search_repeats, None
        )

    if wanted("search_runs_large"):
        n = large_runs if large_runs is not None else sizes.search_runs_large
        if n <= 0:
            results["search_runs_large"] = Measurement(
                f"search_runs over a large experiment, first 1,000 (skipped for {impl})",
                "s",
                "lower",
                skipped=f"not run for {impl}: seeding the runs through its API takes too long",
            )
        else:
            log(f"seeding {n:,} runs for the large search (this takes a while)")
            experiment_id, rate = _seed(mlflow, entities.Metric, entities.Param, n, log)
            log("search_runs, large")
            results["search_runs_large"] = bench_search(mlflow, experiment_id, n, sizes.search_repeats, 1000)
            results["search_runs_large"].info["seed_rate"] = rate

    return {
        "impl": impl,
        "version": str(getattr(mlflow, "__version__", "unknown")),
        "python": platform.python_version(),
        "quick": sizes is QUICK,
        "store": store,
        "results": {key: asdict(m) for key, m in results.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--impl", choices=["heron", "mlflow"], required=True)
    parser.add_argument("--store", required=True, help="folder for the SQLite store (created if missing)")
    parser.add_argument("--out", required=True, help="where to write the JSON results")
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke test")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(RESULT_KEYS)}")
    parser.add_argument(
        "--large-runs",
        type=int,
        help="runs to seed for search_runs_large (default 100,000, or 100 with --quick; 0 skips it)",
    )
    args = parser.parse_args(argv)
    only = None if args.only is None else {k.strip() for k in args.only.split(",") if k.strip()}
    if only is not None and not only <= set(RESULT_KEYS):
        parser.error(f"--only takes keys from {', '.join(RESULT_KEYS)}; got {', '.join(sorted(only))}")
    out = os.path.abspath(args.out)
    document = run(args.impl, args.store, QUICK if args.quick else FULL, only, args.large_runs)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
