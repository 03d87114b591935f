"""The web UI's speed on a large store (issue 6): 100,000 traces and 1,000,000 spans in SQLite.

    python benchmarks/bench_ui.py [--store DIR] [--out result.json] [--quick] [--no-browser]

Seeds a fresh SQLite store through Heron (the schema comes from ``Database``) with bulk ``executemany``
inserts into its trace tables: 100,000 traces over 30 days (10 % errors, half in sessions, tags) with 9
or 10 spans each, plus one trace with 10,000 spans — 1,000,000 spans in all. Then serves it with ``heron
server``'s app (uvicorn on 127.0.0.1 in this process) and measures, over HTTP, the time of:

- the traces page (the newest 50 rows), target < 150 ms, and its summary strip (its own request: traces
  per hour, p50/p95 latency, tokens and cost over all 100,000 traces);
- a filtered page (``span.type = 'CHAT_MODEL' AND trace.execution_time_ms > 1000`` plus errors only)
  and its summary strip, target < 300 ms;
- the page of the 10,000-span trace, target < 2 s; and, with Chromium at /usr/bin/chromium and
  Playwright installed, the time until Chromium has loaded and drawn it.

Each is the median of several requests after one warm-up. ``--quick`` seeds 2,000 traces and a
1,000-span trace (a smoke run). Writes report.py's JSON contract ({"title", "rows": [...]}) to --out
and prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from heron.server import Settings, create_app
from heron.server.runner import listen
from heron.tracking.store.db import Database

CHROMIUM = "/usr/bin/chromium"
FILTER = "span.type = 'CHAT_MODEL' AND trace.execution_time_ms > 1000"
DAY_MS = 86_400_000


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def seed(db_path: Path, traces: int, spans_per_trace: int, big_spans: int) -> tuple[str, int, float]:
    """Fill a new store (every tenth trace has one span less than ``spans_per_trace``); returns the big
    trace's id, the number of spans and the seconds it took."""
    started = time.perf_counter()
    Database(f"sqlite:///{db_path}", str(db_path.parent / "artifacts")).dispose()  # schema at head
    import sqlite3  # the store's tables, written in bulk with the driver the store itself uses

    rng = random.Random(6)
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    now_ms = int(time.time() * 1000)
    trace_sql = ("INSERT INTO traces (trace_id, experiment_id, name, status, start_time, end_time, root_span_id, "
                 "request_preview, response_preview, input_tokens, output_tokens, total_tokens, cost, span_count, "
                 "session_id, user_id) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    span_sql = ("INSERT INTO spans (trace_id, span_id, parent_span_id, name, span_type, status, start_time_ns, "
                "end_time_ns, inputs, outputs, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    tag_sql = 'INSERT INTO trace_tags (trace_id, "key", "value") VALUES (?, ?, ?)'
    types = ["CHAIN", "RETRIEVER", "TOOL", "CHAT_MODEL", "PARSER"]
    batch_traces: list[tuple[Any, ...]] = []
    batch_spans: list[tuple[Any, ...]] = []
    batch_tags: list[tuple[Any, ...]] = []

    def flush() -> None:
        conn.executemany(trace_sql, batch_traces)
        conn.executemany(span_sql, batch_spans)
        conn.executemany(tag_sql, batch_tags)
        conn.commit()
        batch_traces.clear()
        batch_spans.clear()
        batch_tags.clear()

    big_id = ""
    spans_total = 0
    for i in range(traces + 1):
        big = i == traces
        count = big_spans if big else spans_per_trace - (i % 10 == 0)
        spans_total += count
        trace_id = _hex(rng, 32)
        start = now_ms - (DAY_MS * 30 * (traces - i)) // max(traces, 1) if not big else now_ms - 1000
        duration = int(rng.lognormvariate(6.5, 0.9))
        error = rng.random() < 0.1
        tokens_in, tokens_out = rng.randint(20, 2000), rng.randint(5, 500)
        question = f"question {i} about herons"
        root = _hex(rng, 16)
        batch_traces.append((trace_id, "big trace" if big else f"qa-{i % 7}", "ERROR" if error else "OK", start,
                             start + duration, root, json.dumps({"q": question}), json.dumps(f"answer {i}"),
                             tokens_in, tokens_out, tokens_in + tokens_out, (tokens_in * 0.15 + tokens_out * 0.6) / 1e6,
                             count, f"session-{i // 4}" if i % 2 == 0 else None, f"user-{i % 50}"))
        batch_tags.append((trace_id, "team", ["search", "support", "billing"][i % 3]))
        start_ns = start * 1_000_000
        step = max(duration * 1_000_000 // max(count, 1), 1)
        parents = [root]
        for j in range(count):
            span_id = root if j == 0 else _hex(rng, 16)
            parent = None if j == 0 else parents[rng.randrange(len(parents))] if big else root
            kind = "CHAIN" if j == 0 else types[j % len(types)]
            begin = start_ns + j * step
            batch_spans.append((trace_id, span_id, parent, f"{kind.lower()}-{j}", kind,
                                "ERROR" if error and j == count - 1 else "OK", begin,
                                begin + step if j else start_ns + duration * 1_000_000,
                                '{"messages": [{"role": "user", "content": "hi"}]}' if kind == "CHAT_MODEL"
                                else '{"x": 1}', '"ok"', json.dumps({"heron.span_type": kind})))
            if big and len(parents) < 2000:
                parents.append(span_id)
        if big:
            big_id = trace_id
        if len(batch_spans) >= 50_000 or big:
            flush()
    flush()
    conn.execute("ANALYZE")
    conn.close()
    return big_id, spans_total, time.perf_counter() - started


class _Server:
    def __init__(self, db_path: Path) -> None:
        settings = Settings(backend_store_uri=f"sqlite:///{db_path}",
                            artifacts_destination=str(db_path.parent / "artifacts"), access_log=False)
        sock = listen("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(create_app(settings), log_config=None, log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start in 30 s")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _timed(http: httpx.Client, path: str, params: dict[str, str], repeats: int) -> tuple[float, list[float], int]:
    http.get(path, params=params).raise_for_status()  # warm-up
    samples = []
    size = 0
    for _ in range(repeats):
        begin = time.perf_counter()
        response = http.get(path, params=params)
        samples.append(time.perf_counter() - begin)
        response.raise_for_status()
        size = len(response.content)
    return statistics.median(samples), samples, size


def _browser_open(url: str, repeats: int) -> float | None:
    """Seconds until Chromium has loaded the page and its span tree is visible, or None without it."""
    if not os.path.exists(CHROMIUM):
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    samples = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1360, "height": 900})
        page.goto(url)
        for _ in range(repeats):
            begin = time.perf_counter()
            page.goto(url, wait_until="load")
            page.locator(".tree .span-link").first.wait_for(state="visible")
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(1)))")
            samples.append(time.perf_counter() - begin)
        browser.close()
    return statistics.median(samples)


def _row(operation: str, seconds: float | None, target: float, note: str) -> dict[str, Any]:
    return {"operation": operation, "heron": None if seconds is None else f"{seconds * 1000:.0f} ms",
            "mlflow": None, "speedup": None, "target": f"< {target * 1000:.0f} ms",
            "met": None if seconds is None else seconds < target, "note": note}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, help="folder for the store (default: a temporary one, removed)")
    parser.add_argument("--out", type=Path, help="write the JSON result here too")
    parser.add_argument("--quick", action="store_true", help="2,000 traces: a smoke run")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium measurement")
    args = parser.parse_args(argv)
    traces, per_trace, big_spans, repeats = (2_000, 10, 1_000, 3) if args.quick else (100_000, 10, 10_000, 15)
    folder = args.store or Path(tempfile.mkdtemp(prefix="heron-bench-ui-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "heron.db"
    db_path.unlink(missing_ok=True)
    load_before = os.getloadavg()
    try:
        big_id, spans_total, seed_s = seed(db_path, traces, per_trace, big_spans)
        print(f"bench_ui: seeded {traces + 1:,} traces, {spans_total:,} spans in {seed_s:.1f} s",
              file=sys.stderr, flush=True)
        server = _Server(db_path)
        try:
            with httpx.Client(base_url=server.url, timeout=120) as http:
                narrow = {"filter": FILTER, "errors": "1"}
                page, page_samples, _ = _timed(http, "/experiments/0/traces", {}, repeats)
                summary, summary_samples, _ = _timed(http, "/experiments/0/traces/summary", {}, repeats)
                filtered, filtered_samples, _ = _timed(http, "/experiments/0/traces", narrow, repeats)
                filtered_summary, filtered_summary_samples, _ = _timed(
                    http, "/experiments/0/traces/summary", narrow, repeats)
                trace, trace_samples, trace_bytes = _timed(http, f"/traces/{big_id}", {}, max(3, repeats // 3))
                sessions, sessions_samples, _ = _timed(http, "/experiments/0/sessions", {}, repeats)
            browser = None if args.no_browser or args.quick else _browser_open(f"{server.url}/traces/{big_id}", 3)
        finally:
            server.stop()
    finally:
        if args.store is None:
            shutil.rmtree(folder, ignore_errors=True)
    load_after = os.getloadavg()
    size = f"{traces + 1:,} traces, {spans_total:,} spans"
    rows = [
        {"operation": "seed the store", "heron": f"{seed_s:.1f} s", "mlflow": None, "speedup": None,
         "target": "minutes", "met": None, "note": size},
        _row("traces page (rows)", page, 0.150, f"newest 50 of {size}"),
        _row("traces summary strip", summary, 0.150, "its own request: per-hour counts, p50/p95, tokens, cost "
             "over every trace"),
        _row("filtered traces page (rows)", filtered, 0.300, f"{FILTER} AND errors only"),
        _row("filtered summary strip", filtered_summary, 0.300, "the same filter"),
        _row(f"trace page, {big_spans:,} spans (server)", trace, 2.0, f"{trace_bytes / 1024:.0f} KiB of HTML"),
        _row(f"trace page, {big_spans:,} spans (Chromium, loaded and drawn)", browser, 2.0,
             "not measured (no Chromium, or --quick)" if browser is None else "page.goto until the tree shows"),
        _row("sessions page", sessions, 0.300, f"{traces // 8:,} sessions"),
    ]
    doc = {
        "title": (f"Server time over HTTP on 127.0.0.1 (median of {repeats}); load average "
                  f"{load_before[0]:.2f} before, {load_after[0]:.2f} after."),
        "rows": rows,
        "samples": {"traces_page": page_samples, "summary": summary_samples, "filtered_page": filtered_samples,
                    "filtered_summary": filtered_summary_samples, "trace_page": trace_samples,
                    "sessions_page": sessions_samples},
        "quick": args.quick,
    }
    text = json.dumps(doc, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
