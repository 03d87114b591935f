"""The experiments and runs pages in a real browser (Debian's Chromium driven by Playwright) and over plain
HTTP, against a live `heron server` seeded through the real tracking API over HTTP (runs, params, metric
histories, tags and artifacts sent by the fluent API to the server, artifacts through its proxy).
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import heron
from heron.server import BackgroundServer, pages_runs
from tests.server.conftest import server_settings
from tests.ui.browser import Page

PAYLOADS = ['<script>window.__pwned=1</script>', '<img src=x onerror="window.__pwned=1">']
EVIL_FILE = '<img src=x onerror="window.__pwned=1">.txt'


def _png(width: int, height: int) -> bytes:
    """A valid RGB PNG (a red-to-blue gradient), built by hand so the test needs no imaging library."""
    raw = b"".join(b"\x00" + b"".join(bytes((255 * x // width, 64, 255 - 255 * x // width)) for x in range(width))
                   for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@dataclass
class Seeded:
    url: str
    experiment_id: str
    baseline: str
    tuned: str
    evil: str


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    tmp = tmp_path_factory.mktemp("runs-ui")
    server = BackgroundServer(server_settings(tmp)).start()
    try:
        heron.set_tracking_uri(server.url)  # the real REST client and the artifact proxy
        experiment_id = heron.set_experiment("runs-ui").experiment_id
        png = tmp / "plot.png"
        png.write_bytes(_png(24, 12))
        with heron.start_run(run_name="baseline") as baseline:
            heron.log_params({"lr": "0.1", "model": "small"})
            heron.set_tag("team", "search")
            for step, loss in enumerate([0.9, 0.5, 0.3, 0.2]):
                heron.log_metric("loss", loss, step=step)
            heron.log_metric("val loss/x", 0.25)
            heron.log_text("first line\nsecond line", "notes/readme.txt")
            heron.log_dict({"layers": [64, 32], "name": "baseline"}, "config.json")
            heron.log_text("epoch,loss\n0,0.9\n1,0.5\n", "history.csv")
            heron.log_artifact(str(png), "plots")
        with heron.start_run(run_name="tuned") as tuned:
            heron.log_params({"lr": "0.01", "model": "small"})
            heron.set_tag("team", "ranking")
            for step, loss in enumerate([0.8, 0.4, 0.1]):
                heron.log_metric("loss", loss, step=step)
        both = " ".join(PAYLOADS)
        with heron.start_run(run_name=PAYLOADS[0]) as evil:
            heron.log_param("prompt", both)
            heron.set_tag("note", both)
            heron.log_metric("score", 1.0)
            heron.log_text(both, EVIL_FILE)
            heron.log_dict({"html": both}, "evil.json")
            heron.log_text(f"col,{PAYLOADS[1]}\n1,{PAYLOADS[0]}\n", "evil.csv")
        heron.set_tracking_uri(None)
        yield Seeded(server.url, experiment_id, baseline.info.run_id, tuned.info.run_id, evil.info.run_id)
    finally:
        server.stop()


def _run_names(p: Any) -> list[str]:
    return [t.strip() for t in p.locator("table.runs tbody td.name").all_inner_texts()]


# ----------------------------------------------------------------------------------------- the browser


def test_experiments_then_runs_table_filter_sort_and_columns(seeded: Seeded, page: Page) -> None:
    p = page.page
    p.goto(seeded.url + "/experiments/0/traces")
    p.click("nav.sidebar >> text=Runs")
    p.wait_for_url(re.compile(r"/experiments$"))
    row = p.locator(f'tr[data-experiment-id="{seeded.experiment_id}"]')
    assert "runs-ui" in row.inner_text() and re.search(r"\b3\b", row.locator("td").nth(2).inner_text())
    row.locator("td.name a").click()
    p.wait_for_url(re.compile(rf"/experiments/{seeded.experiment_id}/runs$"))
    assert p.locator(".tabs a[aria-current=page]").inner_text() == "Runs"
    assert sorted(_run_names(p)) == sorted(["baseline", "tuned", PAYLOADS[0]])
    head = p.locator("table.runs thead").inner_text()
    assert "loss" in head and "lr" in head and "model" in head and "team" not in head  # default columns

    p.fill("#filter", "params.lr = '0.1' AND metrics.loss < 0.5")
    p.click("form.filter button")
    p.wait_for_url(re.compile(r"filter=params\.lr"))
    assert _run_names(p) == ["baseline"]
    assert p.input_value("#filter") == "params.lr = '0.1' AND metrics.loss < 0.5"
    p.click("form.filter >> text=Clear")
    p.wait_for_url(re.compile(r"/runs$"))

    # sort by the loss column: descending first, then ascending; runs without loss come last both ways
    p.locator("table.runs thead a.sort", has_text="loss").first.click()
    p.wait_for_url(re.compile(r"order_by=metrics"))
    assert _run_names(p) == ["baseline", "tuned", PAYLOADS[0]]
    assert p.locator("th[aria-sort=descending]").count() == 1
    p.locator("table.runs thead a.sort", has_text="loss").first.click()
    p.wait_for_url(re.compile(r"ASC"))
    assert _run_names(p) == ["tuned", "baseline", PAYLOADS[0]]

    # the column chooser: add the team tag, drop the model param; the choice lives in the URL
    p.click("details.columns summary")
    p.check('input[name=col][value="tags.team"]')
    p.uncheck('input[name=col][value="params.model"]')
    p.click("form.column-form button")
    p.wait_for_url(re.compile(r"col=tags\.team"))
    head = p.locator("table.runs thead").inner_text()
    assert "team" in head and "model" not in head and "loss" in head
    assert _run_names(p) == ["tuned", "baseline", PAYLOADS[0]]  # the order survived
    assert "ranking" in p.locator(f'tr[data-run-id="{seeded.tuned}"]').inner_text()
    assert page.problems == []


def test_run_page_charts_and_artifact_previews(seeded: Seeded, page: Page) -> None:
    p = page.page
    p.goto(f"{seeded.url}/experiments/{seeded.experiment_id}/runs")
    p.locator("td.name a", has_text="baseline").click()
    p.wait_for_url(re.compile(rf"/runs/{seeded.baseline}$"))
    assert p.locator("h1").inner_text() == "baseline"
    assert "0.1" in p.locator("#params").inner_text() and "search" in p.locator("#tags").inner_text()
    chart = p.locator('figure.chart[data-key="loss"]')
    assert chart.locator("polyline").count() == 1 and chart.locator("circle").count() == 4
    titles = chart.locator("circle title").all_text_contents()
    assert titles == ["step 0: 0.9", "step 1: 0.5", "step 2: 0.3", "step 3: 0.2"]  # hover text without JS
    chart.locator("circle").nth(2).hover()  # JS: crosshair and readout
    assert chart.locator(".readout").inner_text() == "step 2: 0.3"
    assert chart.locator(".crosshair.on").count() == 1
    assert p.locator('figure.chart[data-key="val loss/x"] circle title').all_text_contents() == ["step 0: 0.25"]

    artifacts = p.locator("#artifacts")
    assert artifacts.locator("li.folder").all_inner_texts() == ["notes/", "plots/"]
    artifacts.locator("a", has_text="notes/").click()
    artifacts.locator("a", has_text="readme.txt").click()
    assert p.locator(".preview-text pre").inner_text() == "first line\nsecond line"

    p.goto(f"{seeded.url}/runs/{seeded.baseline}?path=config.json")
    assert p.locator(".preview-json pre").inner_text() == '{\n  "layers": [\n    64,\n    32\n  ],\n  "name": "baseline"\n}'
    p.goto(f"{seeded.url}/runs/{seeded.baseline}?path=history.csv")
    table = p.locator(".preview-csv table")
    assert table.locator("thead th").all_inner_texts() == ["epoch", "loss"]
    assert table.locator("tbody tr").count() == 2
    p.goto(f"{seeded.url}/runs/{seeded.baseline}?path=plots/plot.png")
    image = p.locator("img.artifact-image")
    image.wait_for()
    assert p.evaluate("() => document.querySelector('img.artifact-image').complete") is True
    assert image.evaluate("img => img.naturalWidth") == 24
    assert page.problems == []


def test_compare_two_runs(seeded: Seeded, page: Page) -> None:
    p = page.page
    p.goto(f"{seeded.url}/experiments/{seeded.experiment_id}/runs")
    button = p.locator("form#compare button")
    assert button.is_disabled()  # JS: 2 to 10 runs
    p.check(f'input[name=runs][value="{seeded.baseline}"]')
    assert button.is_disabled()
    p.check(f'input[name=runs][value="{seeded.tuned}"]')
    assert button.is_enabled() and "2 selected" in p.locator(".compare-count").inner_text()
    button.click()
    p.wait_for_url(re.compile(r"/compare\?"))
    assert p.locator("h1").inner_text() == "Compare 2 runs"
    params = p.locator("table.diff").first
    lr = params.locator("tbody tr", has_text="lr")
    model = params.locator("tbody tr", has_text="model")
    assert lr.get_attribute("class") == "differs" and "0.1" in lr.inner_text() and "0.01" in lr.inner_text()
    assert model.get_attribute("class") is None
    chart = p.locator('figure.chart[data-key="loss"]')
    assert chart.locator("polyline").count() == 2  # one line per run on one chart
    assert chart.locator("polyline.s0").get_attribute("points") != chart.locator("polyline.s1").get_attribute("points")
    titles = chart.locator("circle title").all_text_contents()
    assert "baseline · step 3: 0.2" in titles and "tuned · step 2: 0.1" in titles
    assert page.problems == []


def test_payloads_render_as_text(seeded: Seeded, page: Page) -> None:
    p = page.page
    p.goto(f"{seeded.url}/experiments/{seeded.experiment_id}/runs?chosen=1&col=params.prompt&col=tags.note")
    table = p.locator("table.runs").inner_text()
    assert PAYLOADS[0] in table and PAYLOADS[1] in table  # run name, param value, tag value
    p.locator("td.name a", has_text="script").click()
    p.wait_for_url(re.compile(rf"/runs/{seeded.evil}$"))
    body = p.locator("main").inner_text()
    assert p.locator("h1").inner_text() == PAYLOADS[0] and PAYLOADS[1] in body
    p.locator("#artifacts a", has_text="onerror").click()  # the artifact's name, then its content
    assert p.locator(".preview-text pre").inner_text() == " ".join(PAYLOADS)
    for name in ("evil.json", "evil.csv"):
        p.goto(f"{seeded.url}/runs/{seeded.evil}?path={name}")
        assert PAYLOADS[0] in p.locator(".preview").inner_text()  # JSON shows the other one with \"
    p.goto(f"{seeded.url}/compare?runs={seeded.evil},{seeded.baseline}")
    assert PAYLOADS[1] in p.locator("main").inner_text()
    assert p.evaluate("typeof window.__pwned") == "undefined"
    assert p.locator("img[src=x]").count() == 0 and p.locator("main script").count() == 0
    assert page.problems == []


# ----------------------------------------------------------------------------------------- plain HTTP


def test_bad_query_strings_answer_a_clear_400_page(seeded: Seeded) -> None:
    runs = f"/experiments/{seeded.experiment_id}/runs"
    cases: list[tuple[str, dict[str, str] | list[tuple[str, str]], int, str]] = [
        (runs, {"filter": "metrics.loss <"}, 400, "metrics.loss &lt;"),
        (runs, {"order_by": "metrics.loss SIDEWAYS"}, 400, "order_by"),
        (runs, {"page_token": "garbage"}, 400, "token"),
        (runs, [("chosen", "1"), ("col", "loss")], 400, "col &#39;loss&#39; is not a column"),
        ("/compare", {"runs": seeded.baseline}, 400, "1 run id given"),
        ("/compare", {"runs": ",".join([seeded.baseline] + [f"r{i}" for i in range(10)])}, 400, "11 run ids given"),
        ("/compare", {"runs": f"{seeded.baseline},nosuchrun"}, 404, "nosuchrun"),
        (f"/runs/{seeded.baseline}", {"path": "../etc/passwd"}, 400, "INVALID_PARAMETER_VALUE"),
        (f"/runs/{seeded.baseline}", {"path": "nothing.txt"}, 404, "No artifact"),
        (f"/runs/{seeded.baseline}/artifact", {"path": "notes"}, 404, "No artifact file"),
        (f"/runs/{seeded.baseline}/artifact", {}, 400, "path: expected"),
        ("/runs/nosuchrun", {}, 404, "nosuchrun"),
        ("/experiments/424242/runs", {}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ("/experiments", {"page_token": "garbage"}, 400, "INVALID_PARAMETER_VALUE"),
    ]
    with httpx.Client(base_url=seeded.url) as http:
        for path, params, status, text in cases:
            response = http.get(path, params=params)
            assert response.status_code == status, (path, params, response.text[:300])
            assert response.headers["content-type"].startswith("text/html"), path
            assert 'role="alert"' in response.text and text in response.text, (path, params)
            assert "Traceback" not in response.text
        kept = http.get(runs, params={"filter": "metrics.loss <"}).text
        assert 'value="metrics.loss &lt;"' in kept  # the filter stays in the box to be fixed
        # the pages only read: the store is unchanged by every request above
        assert len(re.findall(r"<tr data-run-id=", http.get(runs).text)) == 3


def test_pages_without_javascript_and_the_artifact_route(seeded: Seeded) -> None:
    with httpx.Client(base_url=seeded.url) as http:
        table = http.get(f"/experiments/{seeded.experiment_id}/runs")
        assert table.status_code == 200 and "script-src 'self'" in table.headers["content-security-policy"]
        assert table.text.count("<tr data-run-id=") == 3
        run = http.get(f"/runs/{seeded.baseline}").text
        assert run.count("<title>step ") == 5 and "<polyline" in run  # the charts are in the HTML
        image = http.get(f"/runs/{seeded.baseline}/artifact", params={"path": "plots/plot.png"})
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert image.content == _png(24, 12) and "sandbox" in image.headers["content-security-policy"]
        other = http.get(f"/runs/{seeded.evil}/artifact", params={"path": EVIL_FILE})
        assert other.headers["content-type"] == "application/octet-stream"
        assert other.headers["content-disposition"].startswith("attachment;")
        compare = http.get("/compare", params=[("runs", seeded.baseline), ("runs", seeded.tuned)])  # checkboxes
        assert compare.status_code == 200 and compare.text.count('class="differs"') >= 2  # lr, team
        assert http.get("/static/runs.js").headers["content-type"].startswith("text/javascript")
        assert http.get("/static/runs.css").status_code == 200


def test_pagination_follows_next_links(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages_runs, "PAGE_SIZE", 2)
    with httpx.Client(base_url=seeded.url) as http:
        url = f"/experiments/{seeded.experiment_id}/runs?order_by=attributes.run_name+ASC&chosen=1&col=params.lr"
        first = http.get(url).text
        ids = re.findall(r'<tr data-run-id="([^"]+)"', first)
        assert ids == [seeded.evil, seeded.baseline]  # "<script..." sorts before "baseline"
        next_url = re.search(r'href="([^"]+)" rel="next"', first)
        assert next_url is not None
        link = next_url.group(1).replace("&amp;", "&")
        assert "col=params.lr" in link and "order_by=" in link  # the page keeps its choices
        second = http.get(link).text
        assert re.findall(r'<tr data-run-id="([^"]+)"', second) == [seeded.tuned]
        assert 'rel="next"' not in second and "First page" in second
