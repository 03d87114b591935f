"""The Markdown of docs/benchmarks.md, from the JSON the benchmarks write (used by report.py).

Tracking rows hold issue 2's targets; bench_tracing.py's results are checked against issue 3's; any other
benchmark follows the ``rows`` contract described in report.py.
"""

from __future__ import annotations

import json
import platform
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LARGE_RUNS = 100_000
SKIP_MLFLOW_LARGE = (
    f"not run: seeding {LARGE_RUNS:,} runs through MLflow's API would take 30+ min (see its seeding rate)"
)


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def fmt_rate(per_second: float) -> str:
    return f"{per_second:,.0f} runs/s"


@dataclass(frozen=True)
class Row:
    """One tracking table row: where its numbers are and what Heron must reach.

    ``label`` is formatted with the measurement's ``info`` (e.g. ``{runs:,}``); ``limit`` is a bound on
    Heron's own value (``("<=", 0.4e-3)``) and ``min_speedup`` a bound on MLflow/Heron.
    """

    key: str
    label: str
    fmt: Callable[[float], str]
    target: str
    limit: tuple[str, float] | None = None
    min_speedup: float | None = None

    def within_limit(self, value: float) -> bool | None:
        if self.limit is None:
            return None
        op, bound = self.limit
        return {"<=": value <= bound, "<": value < bound, ">=": value >= bound}[op]

    def limit_miss(self, value: float) -> str:
        if self.limit is None:
            return ""
        op, bound = self.limit
        gap = f"{value / bound - 1:.0%} over" if op in ("<=", "<") else f"{1 - value / bound:.0%} short"
        return (
            f"{self.fmt(value)} against {op.replace('<=', '≤').replace('>=', '≥')} {self.fmt(bound)} ({gap})"
        )


TRACKING_ROWS = (
    Row(
        "log_metric",
        "`log_metric`, per call ({calls:,} calls in a run)",
        fmt_time,
        "≤ 0.4 ms and ≥ 10×",
        ("<=", 0.4e-3),
        10,
    ),
    Row("log_param", "`log_param`, per call ({keys:,} keys in a run)", fmt_time, "≥ 10×", None, 10),
    Row(
        "log_batch",
        "`log_batch`, per metric (batches of {batch_size:,})",
        fmt_time,
        "≤ 12 µs and ≥ 10×",
        ("<=", 12e-6),
        10,
    ),
    Row(
        "run_creation",
        "run with 5 params + 5 metrics (`start_run` … end)",
        fmt_rate,
        "≥ 540 runs/s and ≥ 10×",
        (">=", 540),
        10,
    ),
    Row("search_runs", "`search_runs` (filter below), {runs:,} runs", fmt_time, "≥ 5×", None, 5),
    Row(
        "search_runs_large",
        "`search_runs` (filter below), {runs:,} runs, first 1,000",
        fmt_time,
        "< 300 ms",
        ("<", 0.3),
    ),
    Row(
        "import", "`import heron` / `import mlflow`, fresh process", fmt_time, "< 150 ms (Heron)", ("<", 0.15)
    ),
    Row(
        "import_api",
        "`import heron` / `import mlflow` + look up `log_metric`, `MlflowClient` (Heron imports lazily)",
        fmt_time,
        "—",
    ),
    Row("seed_runs", "seeding: `create_run` + `log_batch` (2 params, 2 metrics)", fmt_rate, "—"),
)


def fmt_requests(per_second: float) -> str:
    return f"{per_second:,.0f} requests/s"


def fmt_spans(per_second: float) -> str:
    return f"{per_second:,.0f} spans/s"


# Issue 5: Heron's server at least 3x MLflow's on the first two.
SERVER_ROWS = (
    Row(
        "log_batch",
        "`runs/log-batch` of 100 metrics, 8 client threads",
        fmt_requests,
        "≥ 3×",
        None,
        3,
    ),
    Row(
        "search_runs",
        "`runs/search` (the tracking filter), {runs:,} runs, every page",
        fmt_time,
        "≥ 3×",
        None,
        3,
    ),
    Row(
        "otlp_ingest",
        "OTLP ingest `POST /v1/traces`, {spans_per_request:,} spans per request, {threads} client threads",
        fmt_spans,
        "—",
    ),
    Row("seed_runs", "seeding: `runs/create` + `runs/log-batch` (2 params, 2 metrics)", fmt_rate, "—"),
)


# MLflow 3.17 on SQLite as issue 2 quotes it (measured on this kind of machine, not in this run): shown
# next to this run's MLflow numbers so a reader can tell how loaded the machine was.
ISSUE2_MLFLOW = {
    "log_metric": 4.7e-3,
    "log_param": 3.2e-3,
    "log_batch": 116e-6,
    "run_creation": 54.0,
    "search_runs": 89e-3,
}


def mlflow_reference(mlflow: dict[str, Any] | None) -> list[str]:
    """This run's MLflow numbers beside issue 2's, and how much slower MLflow ran here (median)."""
    if mlflow is None:
        return []
    rows, slowdowns = [], []
    for row in TRACKING_ROWS:
        result, reference = _result(mlflow, row.key), ISSUE2_MLFLOW.get(row.key)
        if reference is None or result is None or not result.get("median"):
            continue
        value = result["median"]
        slower = value / reference if result.get("better") == "lower" else reference / value
        slowdowns.append(slower)
        rows.append(
            f"| {row.label.format(**result.get('info', {}))} | {row.fmt(value)} | {row.fmt(reference)} | {slower:.1f}× |"
        )
    if not rows:
        return []
    median = sorted(slowdowns)[len(slowdowns) // 2]
    return [
        "",
        f"How loaded was the machine? MLflow ran a median {median:.1f}× slower here than in the figures issue 2",
        "quotes for it (those were not measured in this run). Heron's numbers were taken in the same run,",
        "minutes apart, so speed-ups compare both under similar conditions and Heron's absolute numbers",
        "were measured under that load too.",
        "",
        "| operation | MLflow, this run | MLflow, issue 2's figures | this run slower by |",
        "|---|---|---|---|",
        *rows,
    ]


def _result(doc: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    return None if doc is None else doc["results"].get(key)


def _cell(result: dict[str, Any] | None, fmt: Callable[[float], str], missing: str) -> str:
    if result is None:
        return missing
    if result.get("median") is None:
        return result.get("skipped") or "—"
    return fmt(result["median"])


@dataclass(frozen=True)
class Pair:
    """One benchmark run under both implementations: their JSON documents, or why one is missing."""

    heron: dict[str, Any] | None
    mlflow: dict[str, Any] | None
    why_heron: str = ""
    why_mlflow: str = ""
    # Per measurement, Heron's speed-up in each interleaved round: {"median", "min", "max", "rounds"}.
    speedups: dict[str, Any] | None = None


def _label(template: str, info: dict[str, Any]) -> str:
    """A row label filled from a measurement's info; sizes left as "…" when neither side was run."""
    try:
        return template.format(**info)
    except (KeyError, ValueError):
        return re.sub(r"\{[^}]*\}", "…", template)


def comparison_table(rows: tuple[Row, ...], pair: Pair) -> list[str]:
    """Heron against MLflow row by row, then one line per missed target saying by how much."""
    heron, mlflow = pair.heron, pair.mlflow
    mlflow_missing = f"not run: {pair.why_mlflow or 'unknown'}"
    lines = [
        "| operation | Heron | MLflow | Heron speed-up | target | met? |",
        "|---|---|---|---|---|---|",
    ]
    misses = []
    for row in rows:
        h, m = _result(heron, row.key), _result(mlflow, row.key)
        info = (h or m or {}).get("info", {})
        label = _label(row.label, info)
        runs = info.get("runs")
        if row.key == "search_runs_large" and runs is not None and runs != LARGE_RUNS:
            label += f" (**smaller than the {LARGE_RUNS:,} of the target**)"
        hv = h.get("median") if h else None
        mv = m.get("median") if m else None
        speedup = None
        spread = ""
        rounds = (pair.speedups or {}).get(row.key) or {}
        if rounds.get("median"):
            speedup = float(rounds["median"])
            spread = f" ({rounds['min']:.1f}–{rounds['max']:.1f}× over {len(rounds['rounds'])} rounds)"
        elif hv and mv:
            speedup = mv / hv if (h or {}).get("better") == "lower" else hv / mv
        checks: list[bool | None] = []
        why_missed = []
        if hv is not None and row.limit is not None:
            checks.append(row.within_limit(hv))
            if checks[-1] is False:
                why_missed.append(row.limit_miss(hv))
        if row.min_speedup is not None:
            checks.append(None if speedup is None else speedup >= row.min_speedup)
            if checks[-1] is False:
                why_missed.append(f"speed-up {speedup:.1f}× against ≥ {row.min_speedup:g}×")
        # A miss on either part is a miss; otherwise unknown until every part was measured.
        met = (
            None
            if not checks or hv is None
            else (False if False in checks else (None if None in checks else True))
        )
        m_cell = _cell(m, row.fmt, mlflow_missing)
        if row.key == "search_runs_large" and mv is None:
            m_cell = SKIP_MLFLOW_LARGE
        lines.append(
            f"| {label} | {_cell(h, row.fmt, 'not run')} | {m_cell} | "
            f"{'—' if speedup is None else f'{speedup:.1f}×{spread}'} | {row.target} | "
            f"{'—' if met is None else ('yes' if met else '**no**')} |"
        )
        if why_missed:
            misses.append(f"- {label}: {'; '.join(why_missed)}.")
    if heron is None:
        lines += ["", f"Heron's run failed: {pair.why_heron or 'unknown'}."]
    if heron and mlflow:
        hr, mr = _result(heron, "search_runs"), _result(mlflow, "search_runs")
        if hr and mr and hr["info"].get("rows") != mr["info"].get("rows"):
            lines += [
                "",
                f"**Warning:** `search_runs` returned {hr['info'].get('rows')} rows in Heron but "
                f"{mr['info'].get('rows')} in MLflow over the same seeded data.",
            ]
    if misses:
        return lines + ["", "Targets Heron misses in this run:", ""] + misses
    return lines + ["", "Heron meets every target that was measured in this run."]


def tracing_table(doc: dict[str, Any]) -> list[str]:
    """bench_tracing.py's results (µs per call, spans/s) against issue 3's targets.

    Its baseline is the raw OpenTelemetry SDK (BatchSpanProcessor, exporter that does nothing), measured in
    the same process; MLflow's ``@mlflow.trace`` (when run with ``--mlflow-python``) is measured in MLflow's
    venv against the same raw OpenTelemetry loops in that process.
    """
    r = doc["results"]
    ml_info = doc.get("mlflow") or {}

    def mlflow(spans: str) -> str:
        ml, ml_otel = r.get(f"mlflow_{spans}"), r.get(f"mlflow_otel_{spans}")
        if ml is None or not ml_otel:
            return "not measured (run bench_tracing.py with --mlflow-python)"
        kept = ml_info.get("mlflow_traces_stored"), ml_info.get("mlflow_traces_expected")
        note = f", {kept[0]:,} of {kept[1]:,} traces kept" if all(isinstance(k, int) for k in kept) else ""
        return f"{ml:.1f} µs ({ml / ml_otel:.2f}× OTel in its own process{note})"

    calls, repeats = doc.get("calls"), doc.get("repeats")
    lines = [
        f"{calls if not isinstance(calls, int) else f'{calls:,}'} calls × {repeats} repeats (median), every trace kept and "
        "written to SQLite; Heron's time runs until `flush_traces()` has written every span."
        + (f" MLflow {ml_info.get('mlflow_version', '')}: {ml_info['mlflow_calls']:,} calls × "
           f"{ml_info.get('mlflow_repeats')} repeats in its own venv, timed until "
           "`mlflow.flush_trace_async_logging()` returns." if isinstance(ml_info.get("mlflow_calls"), int) else ""),
        "",
        "| operation | Heron | raw OpenTelemetry SDK | Heron / OTel | MLflow | target | met? |",
        "|---|---|---|---|---|---|---|",
    ]
    for spans, label in (("1span", "one span"), ("3spans", "three nested spans")):
        heron, otel = r.get(f"heron_{spans}"), r.get(f"otel_{spans}")
        if heron is None or otel is None:
            continue
        ratio = heron / otel
        lines.append(
            f"| `@heron.trace`, {label}, per call, end to end | {heron:.1f} µs | {otel:.1f} µs | {ratio:.2f}× | "
            f"{mlflow(spans)} | ≤ 2× OTel | {'yes' if ratio <= 2 else '**no**'} |"
        )
        app = r.get(f"heron_{spans}_app")
        if app is not None:
            ml_app, ml_otel = r.get(f"mlflow_{spans}_app"), r.get(f"mlflow_otel_{spans}")
            ml_cell = f"{ml_app:.1f} µs ({ml_app / ml_otel:.2f}× OTel in its own process)" \
                if ml_app is not None and ml_otel else "—"
            lines.append(
                f"| `@heron.trace`, {label}, per call, what the app waits for (no flush) | {app:.1f} µs | "
                f"{otel:.1f} µs | {app / otel:.2f}× | {ml_cell} | — | — |"
            )
    rate = r.get("store_spans_per_s")
    if rate is not None:
        lines.append(
            f"| store: finished spans written to SQLite (batches of 4,096) | {rate:,.0f} spans/s | — | — | — | "
            f"≥ 20,000 spans/s | {'yes' if rate >= 20_000 else '**no**'} |"
        )
    return lines


def other_table(doc: Any) -> list[str]:
    """A tracing benchmark's JSON as a table (see the module docstring for the shape)."""

    def cell(value: Any) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return "yes" if value else "**no**"
        if isinstance(value, float):
            return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
        return str(value)

    if isinstance(doc, dict) and isinstance(doc.get("results"), dict) and "heron_1span" in doc["results"]:
        return tracing_table(doc)
    if isinstance(doc, dict) and isinstance(doc.get("rows"), list):
        lines = [
            "| operation | Heron | MLflow | Heron speed-up | target | met? |",
            "|---|---|---|---|---|---|",
        ]
        for r in doc["rows"]:
            speedup = r.get("speedup")
            lines.append(
                f"| {cell(r.get('operation'))} | {cell(r.get('heron'))} | {cell(r.get('mlflow'))} | "
                f"{cell(speedup) + ('×' if isinstance(speedup, int | float) else '')} | "
                f"{cell(r.get('target'))} | {cell(r.get('met'))} |"
            )
        notes = [f"- {r['operation']}: {r['note']}" for r in doc["rows"] if r.get("note")]
        return lines + ([""] + notes if notes else [])
    if isinstance(doc, dict):
        flat = _flatten(doc)
        return ["| measurement | value |", "|---|---|"] + [
            f"| `{k}` | {str(v).lower() if isinstance(v, bool) else cell(v)} |" for k, v in flat.items()
        ]
    return ["```", json.dumps(doc, indent=2), "```"]


def _flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        elif not isinstance(value, list):
            flat[name] = value
    return flat


# --------------------------------------------------------------------------------------------- page


def render(
    info: dict[str, str],
    tracking: Pair,
    server: Pair,
    others: list[tuple[str, str, Any, str]],
    quick: bool,
) -> str:
    """The whole page: machine, tracking, tracking server, then the other benchmarks' sections."""
    heron, mlflow = tracking.heron, tracking.mlflow
    info = dict(info)
    info["Python"] = (heron or mlflow or {}).get("python", platform.python_version())
    info["Heron"] = (heron or {}).get("version", "not run")
    info["MLflow"] = (mlflow or {}).get("version", "not run")
    out = [
        "# Benchmarks",
        "",
        "<!-- Generated by `make bench` (benchmarks/report.py); do not edit by hand. -->",
        "",
    ]
    if quick:
        out += ["**QUICK SMOKE RUN: tiny counts, the numbers mean nothing.**", ""]
    out += [
        "Heron and MLflow side by side, measured in one `make bench` run on the same machine, one",
        "implementation at a time. Both track into a fresh SQLite file through the same code",
        "(`benchmarks/bench_tracking.py`, run with `import heron as mlflow` or `import mlflow`). Each number",
        "is the median of several repeats after a warm-up; every sample is in `benchmarks/results/*.json`.",
        "Speed-up is MLflow/Heron for times and Heron/MLflow for rates. The machine is shared, so expect",
        "some noise between runs.",
        "",
        "To reproduce: `make bench` (about half an hour: most of it seeds 100,000 runs into Heron and 2,000",
        "into MLflow; the first run also builds `benchmarks/.mlflow-venv`). `bash benchmarks/run.sh --quick`",
        "is a one-minute smoke run written to `benchmarks/results/benchmarks-quick.md`;",
        "`--keep-stores DIR` keeps the seeded stores for reuse and profiling; `--render-only` rewrites this",
        "page from `benchmarks/results/`.",
        "",
        "## Machine",
        "",
    ]
    out += [f"- {k}: {v}" for k, v in info.items()]
    out += ["", "## Tracking (SQLite)", ""]
    out += comparison_table(TRACKING_ROWS, tracking)
    out += [
        "",
        "Filter: `metrics.acc > 0.5 and params.depth = '3'` over runs seeded with `depth` in 1-5 and `acc`",
        "uniform in 0-1 (same seed for both). `search_runs` returns a pandas DataFrame in both.",
        "MLflow runs with `MLFLOW_DISABLE_TELEMETRY=true` so that no network call lands in its timings.",
    ]
    out += mlflow_reference(mlflow)
    sample = heron or mlflow
    if sample is not None:
        details = []
        for key, result in sample["results"].items():
            details.append(f"- `{key}`: {result['description']}")
        out += ["", "What each row measured (Heron's run; MLflow's uses the same sizes):", ""] + details
    out += ["", "## Tracking server (HTTP)", ""]
    if server.heron is None and server.mlflow is None:
        out += [f"Not yet run: {server.why_heron or 'no result'}."]
    else:
        out += [
            "`benchmarks/bench_server.py`: one HTTP client (MLflow's REST API) against `heron server` and",
            "`mlflow server`, each on a fresh SQLite store with the same number of workers.",
        ]
        if server.speedups:
            out += [
                "Both servers run side by side and are measured in interleaved rounds (one sample of each per",
                "round, in alternating order), so a change of the machine's load hits both alike. The speed-up is",
                "the median of the rounds' speed-ups, with their range: measured one server after the other,",
                "minutes apart, the same code gave 1.6× in one run and 3.9× in another on this shared machine.",
                "OTLP ingest: the same protobuf payloads to both (traces of 5 spans: a chain, two LLM calls with",
                "token usage, a retriever, a tool); MLflow 3.17's `/v1/traces` takes them with",
                "`x-mlflow-experiment-id`. Requests MLflow answered 503 (SQLite `database is locked`) were sent",
                "again and are counted in `benchmarks/results/server-both.json` (`retries_after_503`).",
            ]
        out += [""]
        out += comparison_table(SERVER_ROWS, server)
    for title, script, doc, reason in others:
        out += ["", f"## {title}", ""]
        if doc is None:
            out += [
                "| operation | Heron | MLflow | Heron speed-up | target | met? |",
                "|---|---|---|---|---|---|",
                f"| benchmarks/{script} | {reason} | — | — | see the issue | — |",
            ]
        else:
            if isinstance(doc, dict) and doc.get("title"):
                out += [str(doc["title"]), ""]
            out += other_table(doc)
    return "\n".join(out) + "\n"
