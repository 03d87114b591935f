"""Instructions OpenAI autolog adds per call, counted by valgrind: a measure wall-clock noise cannot move.

    python benchmarks/instructions_openai.py [--calls 40] [--case chat,stream]

Wall-clock differences of a few hundred microseconds move by ~100 µs between runs on a busy 2-core
machine; instruction counts of the same code move by well under 1%. Each case runs in a fresh
interpreter under ``valgrind --tool=cachegrind`` (so valgrind must be installed; ``make test`` does not
need it), calling the real ``openai`` SDK with a transport that replays the fake server's recorded replies
(no network, no other process). After a warm-up, the
export thread sleeps (no timer wakes it, and the calls are fewer than a batch), so the count of the traced
calls is the caller's thread only; a last run then flushes, so its extra count is the export thread's share. The garbage collector is off while the
calls are counted (where its collections fall is chance, and one costs millions), so the cost of
collecting what a call leaves for later is not in these counts. Each figure is the difference between
a run of ``--calls`` calls and a run of a fifth as many, divided by the difference in calls, so start-up
and warm-up (two thirds of a run's count) cancel out. The hash seed is fixed so that dict and set
layouts repeat; what still varies between runs (a few million instructions, in start-up) is spread over
the calls, so the default 200 calls keep each figure within about 15k instructions.

This is a tool for comparing changes, not a benchmark of the page: instructions are not time (a cache
miss costs dozens of them), and the page's figures stay wall-clock ones.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import gc, json, os, sys, tempfile
sys.path[:0] = [{root!r}, {bench!r}]
import httpx2, openai
import heron, heron.openai
from heron.tracing import export, fluent
import bench_openai_autolog as bench

export.INTERVAL_S = 1e6  # the export thread sleeps until flushed: no timer, so the counts repeat

kind, mode, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
replies = json.load(open(sys.argv[4]))

def handler(request):
    body = json.loads(request.content)
    if not body.get("stream"):
        return httpx2.Response(200, content=replies["chat"].encode(), headers={{"content-type": "application/json"}})
    usage = (body.get("stream_options") or {{}}).get("include_usage")
    return httpx2.Response(200, content=replies["stream_usage" if usage else "stream"].encode(),
                           headers={{"content-type": "text/event-stream"}})

http = openai.DefaultHttpxClient(transport=httpx2.MockTransport(handler))
client = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="count", max_retries=0, http_client=http)
heron.set_tracking_uri("sqlite:///" + os.path.join(tempfile.mkdtemp(), "count.db"))

def chat():
    client.chat.completions.create(model="gpt-4o-mini", messages=bench.MESSAGES)

def stream():
    for _ in client.chat.completions.create(model="gpt-4o-mini", messages=bench.MESSAGES, stream=True):
        pass

call = {{"chat": chat, "stream": stream, "stream_no_usage": stream}}[kind]
usage = kind != "stream_no_usage"  # autolog(stream_usage=False): no usage chunk asked for
heron.openai.autolog(stream_usage=usage)
for _ in range(20):
    call()
fluent.flush_traces()
heron.openai.autolog(disable=mode == "off", stream_usage=usage)
gc.collect()
gc.disable()  # a collection falls in one run and not the other by chance: counts would jump by millions
for _ in range(calls):  # fewer than a batch: the export thread sleeps, what is counted is the caller's thread
    call()
if mode == "export":
    fluent.flush_traces()
    print("exported", fluent.stats()["exported"])  # the same in both runs of a count: it cancels out
sys.stdout.flush()
os._exit(0)  # no atexit flush: it would be counted in every mode
"""


def _record_replies(path: Path) -> None:
    """The fake server's replies to the calls counted, recorded once (no server runs under valgrind)."""
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    import bench_openai_autolog as bench
    import httpx2

    server, url = bench.start_server()
    try:
        request = {"model": "gpt-4o-mini", "messages": bench.MESSAGES}
        bodies = {
            "chat": request,
            "stream": {**request, "stream": True},
            "stream_usage": {**request, "stream": True, "stream_options": {"include_usage": True}},
        }
        path.write_text(json.dumps({
            name: httpx2.post(f"{url}/chat/completions", json=body, timeout=30).text for name, body in bodies.items()
        }))
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait()


def _count(script: Path, replies: Path, kind: str, mode: str, calls: int) -> int:
    result = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, str(script), kind, mode, str(calls), str(replies)],
        capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}, check=False,
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", result.stderr)
    if result.returncode != 0 or found is None:
        raise RuntimeError(f"valgrind failed ({kind}, {mode}):\n{result.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_call(script: Path, replies: Path, kind: str, mode: str, calls: int) -> float:
    few = max(1, calls // 5)
    with ThreadPoolExecutor(2) as pool:
        many, some = pool.map(lambda n: _count(script, replies, kind, mode, n), (calls, few))
    return (many - some) / (calls - few)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200, help="traced calls in the longer run (default 200)")
    parser.add_argument("--case", default="chat,stream,stream_no_usage",
                        help="chat, stream (Heron asks for usage) and stream_no_usage (autolog(stream_usage=False)); "
                             "default: all three")
    args = parser.parse_args(argv)
    if args.calls < 10:
        parser.error("--calls must be at least 10")
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        script, replies = Path(tmp) / "child.py", Path(tmp) / "replies.json"
        script.write_text(_CHILD.format(root=str(ROOT), bench=str(ROOT / "benchmarks")))
        _record_replies(replies)
        print("| call | SDK alone | added on the caller's thread | added by the export thread |")
        print("|---|---|---|---|")
        for kind in [k.strip() for k in args.case.split(",") if k.strip()]:
            with ThreadPoolExecutor(os.cpu_count() or 1) as pool:  # each count is one process
                off, on, exported = pool.map(lambda mode, kind=kind: per_call(script, replies, kind, mode, args.calls),
                                             ("off", "on", "export"))
            print(f"| {kind} | {off / 1e3:,.0f}k | {(on - off) / 1e3:,.0f}k | {(exported - on) / 1e3:,.0f}k |",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
