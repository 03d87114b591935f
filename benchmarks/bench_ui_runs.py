"""Server time of the runs pages with 10,000 runs in a SQLite store (issue 6: the run table under 200 ms).

    python benchmarks/bench_ui_runs.py [--store DIR] [--out FILE] [--quick] [--runs N]

Seeds an experiment through the tracking API (``Client.create_run`` and ``log_batch``: 10 params, 10
metrics with a 5-step history, 3 tags per run), builds the server app with ``create_app`` and times
each page in-process through Starlette's TestClient (the whole app and its middleware; no network),
median of several requests after a warm-up. The store is reused when DIR already holds one with
enough runs. Writes JSON in benchmarks/report.py's contract: ``{"title", "rows": [...]}``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from heron.server.app import create_app
from heron.server.settings import Settings
from heron.tracking.client import Client
from heron.tracking.entities import Metric, Param, RunTag

TARGET_MS = 200.0  # issue 6: the run table with 10,000 runs
EXPERIMENT = "bench-ui-runs"


def seed(client: Client, runs: int) -> tuple[str, list[str]]:
    """The experiment holding ``runs`` runs (created or topped up) and some of its run ids."""
    found = client.get_experiment_by_name(EXPERIMENT)
    experiment_id = found.experiment_id if found else client.create_experiment(EXPERIMENT)
    have = client.search_runs(experiment_id, max_results=1000)
    ids = [r.info.run_id for r in have]
    count = len(ids)
    token = have.token
    while token and count < runs:
        page = client.search_runs(experiment_id, max_results=1000, page_token=token)
        count += len(page)
        token = page.token
    start = time.perf_counter()
    now = int(time.time() * 1000)
    for i in range(count, runs):
        run = client.create_run(experiment_id, start_time=now - (runs - i) * 1000, run_name=f"run-{i}",
                                tags={"team": ("search", "ranking", "chat")[i % 3]})
        metrics = [Metric(f"m{k}", ((i * 7919 + k * 104729) % 1000) / 1000 + step / 100, now + step, step)
                   for k in range(10) for step in range(5)]
        params = [Param(f"p{k}", str((i + k) % 17)) for k in range(10)]
        tags = [RunTag("phase", "train" if i % 2 else "eval"), RunTag("seed", str(i % 5))]
        client.log_batch(run.info.run_id, metrics, params, tags)
        client.set_terminated(run.info.run_id, end_time=now - (runs - i) * 1000 + 500)
        if len(ids) < 10:
            ids.append(run.info.run_id)
        if i and i % 1000 == 0:
            print(f"bench_ui_runs: seeded {i} runs ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    return experiment_id, ids


def time_page(http: TestClient, url: str, repeats: int) -> tuple[float, float, list[float]]:
    """Median wall-clock and CPU milliseconds of ``repeats`` GETs of ``url`` (after one warm-up), and the
    wall-clock samples. CPU time is the whole process's (the app runs in it): on a shared machine it
    stays near what an idle machine would show when wall-clock time does not."""
    first = http.get(url)
    if first.status_code != 200:
        raise SystemExit(f"{url} answered {first.status_code}: {first.text[:500]}")
    samples, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = http.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return statistics.median(samples), statistics.median(cpu), samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", help="folder for the SQLite store (default: a temporary one)")
    parser.add_argument("--out", help="write the JSON here (default: stdout)")
    parser.add_argument("--quick", action="store_true", help="300 runs, few repeats: a smoke test")
    parser.add_argument("--runs", type=int, help="runs to seed (default 10,000; 300 with --quick)")
    args = parser.parse_args()
    runs = args.runs or (300 if args.quick else 10_000)
    repeats = 3 if args.quick else 15
    folder = Path(args.store or tempfile.mkdtemp(prefix="heron-bench-ui-runs-"))
    folder.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{folder / 'heron.db'}"
    start = time.perf_counter()
    experiment_id, ids = seed(Client(uri), runs)
    seed_s = time.perf_counter() - start

    settings = Settings(backend_store_uri=uri, artifacts_destination=str(folder / "artifacts"), access_log=False)
    base = f"/experiments/{experiment_id}/runs"
    with TestClient(create_app(settings)) as http:
        page = http.get(base).text
        token = page.split('rel="next"')[0].rsplit('href="', 1)[-1].split('"')[0].replace("&amp;", "&")
        pages = [
            ("Runs table, first page (50 of N runs)", base, True),
            ("Runs table, filtered (metrics.m0 > 0.5 AND params.p1 = '3')",
             f"{base}?filter=metrics.m0+%3E+0.5+AND+params.p1+%3D+%273%27", True),
            ("Runs table, sorted by a metric (metrics.m3 DESC)", f"{base}?order_by=metrics.%60m3%60+DESC", True),
            ("Runs table, second page (page token)", token, True),
            ("Experiments list (run counts)", "/experiments", False),
            ("Run page (10 metric charts)", f"/runs/{ids[0]}", False),
            ("Compare 5 runs (10 overlaid charts)", f"/compare?runs={','.join(ids[:5])}", False),
        ]
        rows: list[dict[str, Any]] = []
        samples: dict[str, list[float]] = {}
        for name, url, targeted in pages:
            median, cpu, taken = time_page(http, url, repeats)
            samples[name] = taken
            rows.append({
                "operation": name.replace("N runs", f"{runs:,} runs"),
                "heron": f"{median:.1f} ms (CPU {cpu:.1f} ms)",
                "mlflow": None,
                "speedup": None,
                "target": f"< {TARGET_MS:.0f} ms" if targeted else "",
                "met": (median < TARGET_MS) if targeted else None,
                "note": f"median of {repeats}, in-process (TestClient); target checked on wall-clock time",
            })
    load = os.getloadavg()
    rows.append({"operation": f"Seeding {runs:,} runs through the tracking API", "heron": f"{seed_s:.1f} s",
                 "mlflow": None, "speedup": None, "target": "", "met": None,
                 "note": "0 s when the store was reused"})
    doc = {"title": f"UI runs pages ({runs:,} runs in SQLite; load average {load[0]:.1f} on "
                    f"{os.cpu_count()} cores)", "rows": rows, "samples_ms": samples, "quick": args.quick,
           "runs": runs}
    text = json.dumps(doc, indent=2)
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
