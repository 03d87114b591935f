"""The models and prompts pages in a real browser (Debian's Chromium driven by Playwright) and over plain
HTTP, against a live `heron server` whose store is seeded through the registry and prompt APIs users call,
with traced calls that load prompt versions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

import heron
from heron.server import BackgroundServer, pages_registry
from heron.ui.registry_view import model_url
from tests.server.conftest import server_settings
from tests.ui.browser import Page
from tests.ui.test_pages import PAYLOADS

MODEL = "churn"
PROMPT = "qa"
V1 = "Answer the question: {{ question }}\nBe brief."
V2 = "You are a support agent.\nAnswer the question: {{ question }}\nCite {{ source }}."
EVIL_MODEL = f"evil {PAYLOADS[1]}"  # model names may hold anything but '/' and '@'
EVIL_PROMPT = "evil-prompt"  # prompt names are letters, digits, '_', '-', '.'
BOTH = " ".join(PAYLOADS)


@dataclass
class Seeded:
    url: str
    run_id: str
    v1_trace_id: str
    v2_trace_id: str


def _seed(settings_uri: str, evil: bool) -> Seeded:
    heron.set_tracking_uri(settings_uri)
    client = heron.MlflowClient()
    with heron.start_run(run_name="train") as run:
        heron.log_metric("auc", 0.9)
    run_id = run.info.run_id
    client.create_registered_model(MODEL, tags={"team": "growth"}, description="Predicts churn.")
    client.create_model_version(MODEL, f"runs:/{run_id}/model", run_id, description="first")
    client.create_model_version(MODEL, f"runs:/{run_id}/model", run_id, tags={"validated": "yes"})
    client.set_registered_model_alias(MODEL, "champion", 2)
    client.transition_model_version_stage(MODEL, 2, "Staging")
    heron.register_prompt(PROMPT, V1, commit_message="first cut", tags={"task": "qa"})
    heron.register_prompt(PROMPT, V2, commit_message="cite the source")
    heron.set_prompt_alias(PROMPT, "production", 2)
    heron.register_prompt("chat-qa", [{"role": "system", "content": "Be {{ tone }}."},
                                      {"role": "user", "content": "{{ question }}"}])

    @heron.trace
    def answer(uri: str) -> str:
        return str(heron.load_prompt(uri, cache_ttl_seconds=0).format(question="why?", source="the docs"))

    answer(f"prompts:/{PROMPT}/1")
    v1_trace = heron.get_last_active_trace_id()
    answer(f"prompts:/{PROMPT}@production")
    v2_trace = heron.get_last_active_trace_id()
    if evil:
        client.create_registered_model(EVIL_MODEL, tags={"note": BOTH}, description=BOTH)
        client.create_model_version(EVIL_MODEL, f"runs:/{run_id}/model", run_id, description=BOTH,
                                    tags={"note": BOTH})
        client.set_registered_model_alias(EVIL_MODEL, "x", 1)
        heron.register_prompt(EVIL_PROMPT, f"{BOTH} {{{{ question }}}}", commit_message=BOTH, tags={"note": BOTH})
        heron.register_prompt(EVIL_PROMPT, [{"role": PAYLOADS[0], "content": f"{BOTH} {{{{ question }}}}"}],
                              commit_message=BOTH)
        client.set_prompt_tag(EVIL_PROMPT, "owner", BOTH)
    assert heron.flush_traces(30)
    assert v1_trace and v2_trace
    return Seeded("", run_id, v1_trace, v2_trace)


def _served(tmp_path: Path, evil: bool) -> Iterator[Seeded]:
    settings = server_settings(tmp_path)
    with BackgroundServer(settings) as server:
        seeded = _seed(settings.backend_store_uri, evil)
        seeded.url = server.url
        yield seeded


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Seeded]:
    yield from _served(tmp_path, evil=False)


@pytest.fixture
def evil_seeded(tmp_path: Path) -> Iterator[Seeded]:
    yield from _served(tmp_path, evil=True)


# ----------------------------------------------------------------------------------------- the browser


def test_models_list_a_model_with_its_alias_and_source_run(seeded: Seeded, page: Page) -> None:
    p = page.page
    p.goto(seeded.url + "/")
    p.locator("nav.sidebar a", has_text="Models").click()
    p.wait_for_url(re.compile(r"/models$"))
    row = p.locator(f'tr[data-name="{MODEL}"]')
    assert "@champion: v2" in row.inner_text() and "team=growth" in row.inner_text()
    assert p.locator("table.registry tbody tr").count() == 1  # prompts are not models
    row.locator("td.name a").click()
    p.wait_for_url(re.compile(r"/models/churn$"))
    v2 = p.locator('tr[data-version="2"]')
    assert "@champion" in v2.inner_text() and "Staging" in v2.inner_text() and "READY" in v2.inner_text()
    assert "validated=yes" in v2.inner_text()
    assert v2.locator("a.run-link").get_attribute("href") == f"/runs/{seeded.run_id}"
    v2.locator("td.name a").click()
    p.wait_for_url(re.compile(r"/models/churn/versions/2$"))
    body = p.locator("main").inner_text()
    assert "models:/churn@champion" in body and seeded.run_id in body and "Staging" in body

    p.goto(seeded.url + "/models")
    p.fill("#filter", "name LIKE 'ch%'")
    p.click("form.filter button")
    p.wait_for_url(re.compile(r"filter=name"))
    assert p.locator("table.registry tbody tr").count() == 1
    assert page.problems == []


def test_a_prompt_its_diff_and_the_traces_of_a_version(seeded: Seeded, page: Page) -> None:
    p = page.page
    p.goto(seeded.url + "/models")
    p.locator("nav.sidebar a", has_text="Prompts").click()
    p.wait_for_url(re.compile(r"/prompts$"))
    assert p.locator("table.registry tbody tr").count() == 2  # qa and chat-qa, no model
    p.locator(f'tr[data-name="{PROMPT}"] td.name a').click()
    p.wait_for_url(re.compile(r"/prompts/qa$"))
    versions = p.locator("table.versions").inner_text()
    assert "first cut" in versions and "cite the source" in versions and "@production" in versions
    assert "task=qa" in versions

    p.select_option("#from", "1")
    p.select_option("#to", "2")
    p.click("form.compare button")
    p.wait_for_url(re.compile(r"/prompts/qa/diff\?from=1&to=2$"))
    added = p.locator("table.diff ins").all_inner_texts()
    removed = p.locator("table.diff del").all_inner_texts()
    assert "You are a support agent." in added and "Cite {{ source }}." in added
    assert removed == ["Be brief."]
    assert p.locator("tr.diff-equal").inner_text().count("Answer the question: {{ question }}") == 2
    assert p.locator(".add-mark").count() == len(added) and p.locator(".del-mark").count() == 1

    p.goto(f"{seeded.url}/prompts/qa/versions/2")
    assert p.locator("mark.var").all_inner_texts() == ["{{ question }}", "{{ source }}"]
    rows = p.locator("table.traces tbody tr")
    assert rows.count() == 1 and rows.first.get_attribute("data-trace-id") == seeded.v2_trace_id
    rows.first.locator("a").click()
    p.wait_for_url(re.compile(rf"/traces/{seeded.v2_trace_id}$"))
    p.goto(f"{seeded.url}/prompts/qa/versions/1")
    assert p.locator("table.traces tbody tr").first.get_attribute("data-trace-id") == seeded.v1_trace_id

    p.goto(f"{seeded.url}/prompts/chat-qa/versions/1")
    assert p.locator(".template .msg-system").inner_text().endswith("Be {{ tone }}.")
    assert p.locator(".template .msg-user mark.var").inner_text() == "{{ question }}"
    assert "No trace has loaded this version yet" in p.locator("main").inner_text()
    assert page.problems == []


def test_payloads_in_registry_data_render_as_text(evil_seeded: Seeded, page: Page) -> None:
    p = page.page
    evil = model_url(EVIL_MODEL)
    for path in ("/models", evil, f"{evil}/versions/1", "/prompts", f"/prompts/{EVIL_PROMPT}",
                 f"/prompts/{EVIL_PROMPT}/versions/1", f"/prompts/{EVIL_PROMPT}/versions/2",
                 f"/prompts/{EVIL_PROMPT}/diff?from=1&to=2"):
        response = p.goto(evil_seeded.url + path)
        assert response is not None and response.status == 200, path
        body = p.locator("main").inner_text()
        assert PAYLOADS[0] in body and PAYLOADS[1] in body, path  # shown as text
        assert p.evaluate("typeof window.__pwned") == "undefined", path
        assert p.locator("img[src=x]").count() == 0 and p.locator("main script").count() == 0, path
    assert page.problems == []


# ----------------------------------------------------------------------------------------- plain HTTP


def test_unknown_names_and_versions_are_404_pages(seeded: Seeded) -> None:
    with httpx.Client(base_url=seeded.url) as http:
        for path in ("/models/nope", "/models/churn/versions/9", "/models/qa",  # qa is a prompt
                     "/prompts/nope", "/prompts/churn", "/prompts/qa/versions/9", "/prompts/nope/versions/1",
                     "/prompts/qa/diff?from=1&to=9", "/prompts/nope/diff"):
            found = http.get(path)
            assert found.status_code == 404, path
            assert found.headers["content-type"].startswith("text/html") and 'role="alert"' in found.text, path
            assert "RESOURCE_DOES_NOT_EXIST" in found.text and "Traceback" not in found.text, path


def test_bad_versions_and_filters_are_400_pages_naming_the_field(seeded: Seeded) -> None:
    with httpx.Client(base_url=seeded.url) as http:
        bad = http.get("/prompts/qa/diff", params={"from": "one", "to": "2"})
        assert bad.status_code == 400
        assert "Query parameter &#39;from&#39; must be a version number such as 1 or 2, got &#39;one&#39;." in bad.text
        bad_to = http.get("/prompts/qa/diff", params={"to": "2x"})
        assert bad_to.status_code == 400 and "Query parameter &#39;to&#39;" in bad_to.text
        for path in ("/models/churn/versions/latest", "/prompts/qa/versions/v1"):
            found = http.get(path)
            assert found.status_code == 400 and "The version in the URL must be a version number" in found.text
        for listing in ("/models", "/prompts"):
            bad_filter = http.get(listing, params={"filter": "name = "})
            assert bad_filter.status_code == 400 and "INVALID_PARAMETER_VALUE" in bad_filter.text
            assert 'value="name ="' in bad_filter.text  # the search stays in the box to be fixed
            assert http.get(listing, params={"page_token": "garbage"}).status_code == 400
        # the requests wrote nothing
        assert [m.name for m in heron.MlflowClient().search_registered_models()] == [MODEL]
        assert len(heron.MlflowClient().search_prompt_versions(PROMPT)) == 2


def test_pages_read_without_javascript(seeded: Seeded) -> None:
    with httpx.Client(base_url=seeded.url) as http:
        listing = http.get("/models")
        assert listing.status_code == 200 and "script-src 'self'" in listing.headers["content-security-policy"]
        assert 'href="/models" aria-current="page"' in listing.text and 'href="/prompts"' in listing.text
        diff = http.get("/prompts/qa/diff").text  # default: the newest against the one before
        assert "<ins>You are a support agent.</ins>" in diff and "<del>Be brief.</del>" in diff
        assert '<option value="1" selected>' in diff and '<option value="2" selected>' in diff
        version = http.get("/prompts/qa/versions/2").text
        assert '<mark class="var">{{ source }}</mark>' in version and seeded.v2_trace_id in version
        more = re.search(r'href="(/experiments/0/traces\?filter=[^"]+)"', version)
        assert more is not None
        linked = http.get(more.group(1).replace("&amp;", "&")).text
        assert re.findall(r'<tr data-trace-id="([^"]+)"', linked) == [seeded.v2_trace_id]


def test_model_versions_and_prompts_page_through(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages_registry, "PAGE_SIZE", 1)
    with httpx.Client(base_url=seeded.url) as http:
        first = http.get("/models/churn").text
        assert re.findall(r'<tr data-version="(\d+)"', first) == ["2"]
        next_url = re.search(r'href="([^"]+)" rel="next"', first)
        assert next_url is not None
        second = http.get(next_url.group(1).replace("&amp;", "&")).text
        assert re.findall(r'<tr data-version="(\d+)"', second) == ["1"] and "First page" in second
        prompts = http.get("/prompts").text
        assert len(re.findall(r'<tr data-name="', prompts)) == 1 and 'rel="next"' in prompts


def test_the_pages_on_each_backend(tracking_uri: str, tmp_path: Path) -> None:
    """The same pages over a SQLite file and a PostgreSQL database (the tracking_uri fixture's store)."""
    seeded = _seed(tracking_uri, evil=False)
    with BackgroundServer(server_settings(tmp_path, tracking_uri)) as server, httpx.Client(base_url=server.url) as http:
        models = http.get("/models", params={"filter": "tags.team = 'growth'"}).text
        assert re.findall(r'<tr data-name="([^"]+)"', models) == [MODEL]
        model = http.get("/models/churn").text
        assert re.findall(r'<tr data-version="(\d+)"', model) == ["2", "1"]
        assert model.count(f'href="/runs/{seeded.run_id}"') == 2
        prompts = http.get("/prompts", params={"filter": "name LIKE 'q%'"}).text
        assert re.findall(r'<tr data-name="([^"]+)"', prompts) == [PROMPT]
        version = http.get("/prompts/qa/versions/1").text
        assert re.findall(r'<tr data-trace-id="([^"]+)"', version) == [seeded.v1_trace_id]
        assert "<del>Be brief.</del>" in http.get("/prompts/qa/diff", params={"from": "1", "to": "2"}).text
        assert http.get("/prompts/qa/versions/3").status_code == 404
