"""Regenerate the screenshots of the web UI under docs/img/ (`make screenshots`).

Seeds a fresh demo store with scripts/demo.py (as `make demo` does), starts `heron server` on 127.0.0.1
over it, and saves one PNG per page of PAGES with Playwright driving Debian's Chromium
(/usr/bin/chromium; `playwright install` is never used): light theme, a fixed 1280x800 viewport.
Exits 1, naming the page, when a page does not answer 200 or logs a console error or warning.

A new page is one line in PAGES: the file name and the URL path, where {experiment_id} (the demo LLM
app's experiment), {trace_id} (a trace of it that used the production prompt), {runs_experiment_id} (the
sweep's experiment), {run_id} and {other_run_id} (its two best runs) are filled in.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import heron

REPO = Path(__file__).resolve().parents[1]
PAGES: list[tuple[str, str]] = [
    ("traces.png", "/experiments/{experiment_id}/traces"),
    ("trace.png", "/traces/{trace_id}"),
    ("sessions.png", "/experiments/{experiment_id}/sessions"),
    ("experiments.png", "/experiments"),
    ("runs.png", "/experiments/{runs_experiment_id}/runs"),
    ("run.png", "/runs/{run_id}"),
    ("compare.png", "/compare?runs={run_id}&runs={other_run_id}"),
    ("models.png", "/models"),
    ("model.png", "/models/churn-classifier"),
    ("model-version.png", "/models/churn-classifier/versions/2"),
    ("prompts.png", "/prompts"),
    ("prompt.png", "/prompts/support-answer"),
    ("prompt-version.png", "/prompts/support-answer/versions/2"),
    ("prompt-diff.png", "/prompts/support-answer/diff?from=1&to=2"),
]
VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def seed(store: Path) -> dict[str, str]:
    """A fresh demo store at ``store``; returns the values PAGES' paths are filled with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "OPENAI_"))}
    subprocess.run([sys.executable, str(REPO / "scripts" / "demo.py"), "--store", str(store), "--no-serve"],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    heron.set_tracking_uri(f"file:{store}")
    experiment = heron.get_experiment_by_name("demo-support-bot")
    if experiment is None:
        raise SystemExit("The demo store has no 'demo-support-bot' experiment: scripts/demo.py changed?")
    traces = heron.search_traces(experiment_ids=[experiment.experiment_id], max_results=1, return_type="list",
                                 filter_string="tags.`heron.prompt.support-answer` = '2'", include_spans=False)
    if not traces:
        raise SystemExit("The demo store has no trace that used prompt support-answer v2.")
    sweep = heron.get_experiment_by_name("demo-churn-model")
    if sweep is None:
        raise SystemExit("The demo store has no 'demo-churn-model' experiment: scripts/demo.py changed?")
    runs = heron.search_runs(experiment_ids=[sweep.experiment_id], output_format="list",
                             filter_string="metrics.val_auc > 0", order_by=["metrics.val_auc DESC"], max_results=2)
    if len(runs) < 2:
        raise SystemExit("The demo store's sweep has fewer than two runs with val_auc.")
    return {"experiment_id": experiment.experiment_id, "trace_id": traces[0].info.trace_id,
            "runs_experiment_id": sweep.experiment_id, "run_id": runs[0].info.run_id,
            "other_run_id": runs[1].info.run_id}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(store: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`heron server` over the demo store on a free port of 127.0.0.1, once it answers /health."""
    port = _free_port()
    command = [sys.executable, "-m", "heron.cli", "server", "--host", "127.0.0.1", "--port", str(port),
               "--backend-store-uri", f"sqlite:///{store / 'heron.db'}",
               "--artifacts-destination", str(store / "heron-artifacts")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                return server, url
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                stop_server(server)
                raise SystemExit("`heron server` did not start within 60 s.") from None
            time.sleep(0.2)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def capture(url: str, out: Path, values: dict[str, str], pages: list[tuple[str, str]] = PAGES) -> list[str]:
    """Save one PNG per page under ``out``; returns the problems seen (empty when all went well)."""
    from playwright.sync_api import sync_playwright  # the dev extra; only this script and tests need it

    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport=VIEWPORT, color_scheme="light", device_scale_factor=1)
            for file_name, path in pages:
                page = context.new_page()
                seen: list[str] = []

                def on_console(msg: Any, seen: list[str] = seen) -> None:
                    if msg.type in ("error", "warning"):
                        seen.append(f"console {msg.type}: {msg.text}")

                page.on("console", on_console)
                page.on("pageerror", lambda exc, seen=seen: seen.append(f"page error: {exc}"))
                target = path.format(**values)
                # networkidle: the traces page fetches its summary strip after loading
                response = page.goto(url + target, wait_until="networkidle")
                if response is None or response.status != 200:
                    seen.append(f"HTTP {response.status if response else 'no response'}")
                page.screenshot(path=str(out / file_name))
                problems.extend(f"{file_name} ({target}): {s}" for s in seen)
                page.close()
        finally:
            browser.close()
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(REPO / "docs" / "img"), help="folder for the PNG files")
    parser.add_argument("--store", default=None, help="folder for the demo store (replaced; default: a temp dir)")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"{CHROMIUM} is missing: run `bash scripts/ensure-chromium.sh`.")
    temp = None if args.store else tempfile.mkdtemp(prefix="heron-screenshots-")
    store = Path(args.store).resolve() if args.store else Path(str(temp)) / "demo-store"
    if store.exists():
        shutil.rmtree(store)
    try:
        values = seed(store)
        server, url = start_server(store)
        try:
            problems = capture(url, Path(args.out), values)
        finally:
            stop_server(server)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        raise SystemExit(1)
    print(f"Saved {len(PAGES)} screenshots under {args.out}.")


if __name__ == "__main__":
    main()
