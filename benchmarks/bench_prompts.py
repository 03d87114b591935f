"""What ``load_prompt("prompts:/qa@production")`` costs per call, served from the alias cache and read
from the store.

    python benchmarks/bench_prompts.py [--store DIR] [--quick]

Prints JSON: ``{"load_prompt_cached_us": ..., "load_prompt_uncached_us": ..., ...}``, each the median
of several repeats (microseconds per call) after a warm-up, into a SQLite store in DIR (a temporary
folder by default).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import heron


def _per_call_us(call: object, calls: int, repeats: int) -> tuple[float, list[float]]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            call()  # type: ignore[operator]
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(samples), samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", default=None, help="folder for the SQLite store (default: a temporary one)")
    parser.add_argument("--quick", action="store_true", help="few calls: a smoke test")
    args = parser.parse_args()
    folder = Path(args.store or tempfile.mkdtemp(prefix="heron-bench-prompts-"))
    folder.mkdir(parents=True, exist_ok=True)
    heron.set_tracking_uri(f"sqlite:///{folder / 'heron.db'}")

    name = f"qa-{int(time.time() * 1000)}"
    heron.register_prompt(name, "Answer briefly: {{ question }}")
    heron.register_prompt(name, "Answer in one sentence: {{ question }}")
    heron.set_prompt_alias(name, "production", 2)
    uri = f"prompts:/{name}@production"
    for _ in range(10):  # warm-up: store opened, statements compiled, cache filled
        heron.load_prompt(uri)
        heron.load_prompt(uri, cache_ttl_seconds=0)

    cached_calls, uncached_calls, repeats = (2000, 20, 3) if args.quick else (50_000, 300, 7)
    cached, cached_samples = _per_call_us(lambda: heron.load_prompt(uri), cached_calls, repeats)
    uncached, uncached_samples = _per_call_us(
        lambda: heron.load_prompt(uri, cache_ttl_seconds=0), uncached_calls, repeats
    )
    prompt = heron.load_prompt(uri)
    formatted, _ = _per_call_us(lambda: prompt.format(question="why?"), cached_calls, repeats)  # type: ignore[union-attr]
    print(
        json.dumps(
            {
                "load_prompt_cached_us": round(cached, 2),
                "load_prompt_uncached_us": round(uncached, 1),
                "format_us": round(formatted, 2),
                "samples": {"cached_us": cached_samples, "uncached_us": uncached_samples},
                "calls": {"cached": cached_calls, "uncached": uncached_calls, "repeats": repeats},
                "store": "sqlite",
                "python": platform.python_version(),
                "platform": platform.platform(),
                "quick": args.quick,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
