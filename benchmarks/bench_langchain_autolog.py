"""LangChain autolog overhead: time per chain invoke with and without ``heron.langchain.autolog()``.

    python benchmarks/bench_langchain_autolog.py [--calls N] [--repeats R] [--out result.json] [--quick]

The chain is a prompt, a fake chat model and a parser (``ChatPromptTemplate | FakeListChatModel |
StrOutputParser``): four LangChain runs, so four spans per invoke with autolog on. Blocks of N invokes
alternate R times between autolog off and on; what autolog adds is the median of the paired
differences, in wall-clock time (what the app waits) and CPU time (this process, every thread, so the
export thread too). With autolog on, traces go to a fresh SQLite store; ``with_export`` adds the time
``flush_traces()`` then takes to write them, spread over the invokes, and every trace is checked to be
in the store. ``stream`` does the same for ``chain.stream()`` read to the end. ``yardstick`` is what
four nested ``@heron.trace`` spans (with inputs and outputs) cost in the same run, for comparison on a
machine whose speed varies. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SPANS_PER_INVOKE = 4


def _chain() -> Any:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages([("system", "You answer briefly."), ("user", "{question}")])
    return prompt | FakeListChatModel(responses=["A heron is a long-legged wading bird."]) | StrOutputParser()


def _block(fn: Callable[[], Any], calls: int) -> tuple[float, float, float]:
    """(wall-clock, CPU of every thread, CPU of this thread) seconds per call."""
    start, cpu, own = time.perf_counter(), time.process_time(), time.thread_time()
    for _ in range(calls):
        fn()
    return ((time.perf_counter() - start) / calls, (time.process_time() - cpu) / calls,
            (time.thread_time() - own) / calls)


def _measure(name: str, fn: Callable[[], Any], calls: int, repeats: int) -> dict[str, Any]:
    import heron
    import heron.langchain

    for _ in range(max(5, calls // 10)):  # warm up both paths
        fn()
    heron.langchain.autolog()
    for _ in range(max(5, calls // 10)):
        fn()
    heron.flush_traces()
    heron.langchain.autolog(disable=True)

    off_wall, off_cpu, off_own, on_wall, on_cpu, on_own, export = [], [], [], [], [], [], []
    for _ in range(repeats):
        wall, cpu, own = _block(fn, calls)
        off_wall.append(wall)
        off_cpu.append(cpu)
        off_own.append(own)
        heron.langchain.autolog()
        wall, cpu, own = _block(fn, calls)
        heron.langchain.autolog(disable=True)
        start = time.perf_counter()
        heron.flush_traces()
        export.append((time.perf_counter() - start) / calls)
        on_wall.append(wall)
        on_cpu.append(cpu)
        on_own.append(own)

    def us(values: list[float]) -> float:
        return round(statistics.median(values) * 1e6, 1)

    added_wall = [b - a for a, b in zip(off_wall, on_wall, strict=True)]
    added_cpu = [b - a for a, b in zip(off_cpu, on_cpu, strict=True)]
    added_own = [b - a for a, b in zip(off_own, on_own, strict=True)]
    with_export = [w + e for w, e in zip(added_wall, export, strict=True)]
    return {
        "name": name,
        "calls_per_block": calls,
        "repeats": repeats,
        "off_us_per_call": us(off_wall),
        "on_us_per_call": us(on_wall),
        "added_us_per_call": us(added_wall),
        "added_cpu_us_per_call": us(added_cpu),
        "added_app_thread_cpu_us_per_call": us(added_own),
        "added_us_per_call_with_export": us(with_export),
        "added_us_per_span": round(statistics.median(added_wall) * 1e6 / SPANS_PER_INVOKE, 1),
        "added_percent": round(100 * statistics.median(added_wall) / statistics.median(off_wall), 1),
    }


def _yardstick(calls: int, repeats: int) -> dict[str, Any]:
    """Four nested @heron.trace spans per call, against the same functions untraced."""
    import heron

    def plain_step(x: str) -> str:
        return x

    def plain(x: str) -> str:
        return plain_step(plain_step(plain_step(x)))

    step = heron.trace(plain_step)

    @heron.trace
    def traced(x: str) -> str:
        return step(step(step(x)))

    for fn in (plain, traced):
        for _ in range(max(5, calls // 10)):
            fn("q")
    off, on = [], []
    for _ in range(repeats):
        off.append(_block(lambda: plain("q"), calls))
        on.append(_block(lambda: traced("q"), calls))
    heron.flush_traces()

    def added(i: int) -> float:
        return statistics.median(b[i] - a[i] for a, b in zip(off, on, strict=True)) * 1e6

    return {"name": "yardstick", "added_us_per_call": round(added(0), 1),
            "added_app_thread_cpu_us_per_call": round(added(2), 1),
            "added_us_per_span": round(added(0) / SPANS_PER_INVOKE, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300, help="invokes per block")
    parser.add_argument("--repeats", type=int, default=7, help="off/on block pairs")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--quick", action="store_true", help="a smoke run: few calls")
    args = parser.parse_args(argv)
    calls, repeats = (20, 2) if args.quick else (args.calls, args.repeats)

    import heron

    with tempfile.TemporaryDirectory() as tmp:
        heron.set_tracking_uri(f"sqlite:///{Path(tmp) / 'heron.db'}")
        chain = _chain()
        inputs = {"question": "What is a heron?"}
        results = [
            _measure("invoke", lambda: chain.invoke(inputs), calls, repeats),
            _measure("stream", lambda: list(chain.stream(inputs)), calls, repeats),
            _yardstick(calls, repeats),
        ]
        heron.flush_traces()
        stored = len(heron.search_traces(return_type="list", include_spans=False,
                                         filter_string="trace.name = 'RunnableSequence'"))
        expected = 2 * (repeats * calls + max(5, calls // 10))
        heron.set_tracking_uri(None)
    import langchain_core

    doc = {
        "benchmark": "langchain_autolog",
        "python": sys.version.split()[0],
        "langchain_core": langchain_core.__version__,
        "quick": args.quick,
        "spans_per_invoke": SPANS_PER_INVOKE,
        "traces_stored": stored,
        "traces_expected": expected,
        "results": {r["name"]: r for r in results},
    }
    text = json.dumps(doc, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return 0 if stored == expected else 1


if __name__ == "__main__":
    sys.exit(main())
