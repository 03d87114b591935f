"""The runs pages' view models on their own: chart geometry, artifact previews and their caps, the
compare diff and the column parameter (the pages that use them are tested in test_runs_pages.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from heron.errors import HeronError
from heron.tracking.artifacts import get_repository
from heron.tracking.entities import FileInfo, Metric
from heron.ui import artifact_preview, charts, run_view


def _history(values: list[float], step: bool = True) -> list[Metric]:
    return [Metric("m", v, 1000 + i, i if step else 0) for i, v in enumerate(values)]


def test_chart_skips_non_finite_values_and_thins_long_histories() -> None:
    drawn = charts.chart("m", [("run", _history([1.0, math.nan, 3.0, math.inf, 2.0]))])
    series = drawn.series[0]
    assert series.skipped == 2 and series.count == 5
    assert [p.label for p in series.markers] == ["step 0: 1", "step 2: 3", "step 4: 2"]
    ys = [p.y for p in series.markers]
    assert ys[1] == drawn.plot_top and max(ys) == drawn.plot_bottom  # 3 at the top, 1 at the bottom

    long = charts.chart("m", [("run", _history([float(i) for i in range(5000)]))]).series[0]
    assert len(long.points.split()) == charts.MAX_POINTS and len(long.markers) == charts.MAX_MARKERS
    assert long.markers[0].label == "step 0: 0" and long.markers[-1].label == "step 4999: 4999"


def test_chart_without_steps_uses_the_logging_order_and_names_series() -> None:
    drawn = charts.chart("m", [("a", _history([1.0, 2.0, 3.0], step=False)), ("b", [])])
    xs = [p.x for p in drawn.series[0].markers]
    assert xs == sorted(xs) and len(set(xs)) == 3
    assert drawn.series[0].markers[0].label == "a · step 0: 1"
    assert drawn.series[1].markers == () and not drawn.empty
    assert charts.chart("m", [("a", [Metric("m", math.nan, 0, 0)])]).empty


def test_previews_and_their_caps(tmp_path: Path) -> None:
    repo = get_repository(str(tmp_path / "root"))
    repo.write_bytes("a.json", b'{"b": [1, 2]}')
    repo.write_bytes("bad.json", b"{nope")
    repo.write_bytes("t.csv", b"x,y\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(300)))
    repo.write_bytes("blob.bin", b"\x00\x01\x02")
    repo.write_bytes("big.txt", b"a" * (artifact_preview.MAX_PREVIEW_BYTES + 1))
    repo.write_bytes("long.log", b"b" * (artifact_preview.MAX_TEXT_CHARS + 10))
    sizes = {f.path: f for f in repo.list_artifacts()}

    def show(name: str) -> artifact_preview.Preview:
        return artifact_preview.preview(repo, sizes[name])

    assert show("a.json").kind == "json" and show("a.json").text == '{\n  "b": [\n    1,\n    2\n  ]\n}'
    bad = show("bad.json")
    assert bad.kind == "text" and bad.text == "{nope" and "Not valid JSON" in bad.note
    table = show("t.csv")
    assert table.kind == "csv" and table.rows[0] == ["x", "y"] and len(table.rows) == 1 + artifact_preview.MAX_CSV_ROWS
    assert table.truncated and "first 200 rows" in table.note
    assert show("blob.bin").kind == "binary"
    assert show("big.txt").kind == "too-large" and show("big.txt").text == ""
    log = show("long.log")
    assert log.truncated and len(log.text) == artifact_preview.MAX_TEXT_CHARS
    assert artifact_preview.preview(repo, FileInfo("p.png", False, 10)).kind == "image"


def test_svg_is_never_an_image(tmp_path: Path) -> None:
    repo = get_repository(str(tmp_path / "root"))
    repo.write_bytes("x.svg", b"<svg><script>alert(1)</script></svg>")
    shown = artifact_preview.preview(repo, repo.list_artifacts()[0])
    assert shown.kind == "text" and "<script>" in shown.text  # text, escaped by the template
    assert ".svg" not in artifact_preview.IMAGE_TYPES


def test_diff_rows_and_columns() -> None:
    rows = run_view.diff_rows([{"lr": "0.1", "m": "s"}, {"lr": "0.2", "m": "s"}, {"lr": "0.1"}])
    assert [(r.key, r.values, r.differs) for r in rows] == [
        ("lr", ["0.1", "0.2", "0.1"], True), ("m", ["s", "s", None], True)]
    same = run_view.diff_rows([{"a": 1.0}, {"a": 1.0}], as_number=True)
    assert same[0].values == ["1", "1"] and not same[0].differs
    assert [c.ref for c in run_view.parse_columns(["metrics.a b/c", "params.x", "metrics.a b/c"])] == [
        "metrics.a b/c", "params.x"]
    for bad in ("acc", "attributes.status", "metrics.", "metrics.`x`"):
        with pytest.raises(HeronError, match="is not a column: expected metrics.<key>"):
            run_view.parse_columns([bad])
    with pytest.raises(HeronError, match="at most 60"):
        run_view.parse_columns([f"params.p{i}" for i in range(61)])
