"""The trace pages in a real browser (Debian's Chromium driven by Playwright) and over plain HTTP, against a
live `heron server` on a SQLite store seeded by real traced calls (the real `openai` SDK against the fake
OpenAI server, and @heron.trace functions).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

import heron
import heron.openai
from heron.server import BackgroundServer
from tests.fakes.openai_server import FakeOpenAI
from tests.server.conftest import server_settings
from tests.ui.browser import Page

# Read at import: the suite's autouse fixture removes HERON_* variables before each test.
PAYLOADS = ['<script>window.__pwned=1</script>', '<img src=x onerror="window.__pwned=1">']
ERRORS_ONLY = "trace.status = 'ERROR'"


@dataclass
class Seeded:
    url: str
    experiment_id: str
    chat_trace_id: str
    error_trace_id: str
    session_trace_id: str


def _seed_store(tmp_path: Path, fake: FakeOpenAI, evil: bool = False) -> tuple[BackgroundServer, Seeded]:
    settings = server_settings(tmp_path)
    server = BackgroundServer(settings).start()
    heron.set_tracking_uri(settings.backend_store_uri)  # the traced app writes to the server's database
    heron.openai.autolog()
    client = openai.OpenAI(base_url=fake.base_url, api_key="test", max_retries=0)

    @heron.trace
    def answer(question: str) -> str:
        heron.update_current_trace(session_id="session-42", user_id="ada", tags={"team": "search"})
        reply = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": question}],
        )
        return reply.choices[0].message.content or ""

    @heron.trace(name="lookup")
    def lookup(key: str) -> dict[str, Any]:
        raise KeyError(f"no entry for {key}")

    try:
        client.chat.completions.create(model="gpt-4o-mini",
                                       messages=[{"role": "user", "content": "What is a heron?"}])
        chat_id = heron.get_last_active_trace_id()
        answer("Where do herons live?")
        session_id = heron.get_last_active_trace_id()
        with pytest.raises(KeyError):
            lookup("k1")
        error_id = heron.get_last_active_trace_id()
        if evil:
            _seed_payloads(client)
        assert heron.flush_traces(30)
    finally:
        heron.openai.autolog(disable=True)
        client.close()
    assert chat_id and session_id and error_id
    return server, Seeded(server.url, "0", chat_id, error_id, session_id)


def _seed_payloads(client: openai.OpenAI) -> None:
    """A trace whose name, tag, inputs, outputs and attributes hold HTML/JS payloads."""
    both = " ".join(PAYLOADS)

    @heron.trace(name=f"evil {PAYLOADS[0]}")
    def evil(text: str) -> dict[str, str]:
        heron.update_current_trace(tags={"note": both}, session_id=PAYLOADS[1])
        span = heron.get_current_active_span()
        assert span is not None
        span.set_attribute("note", both)
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": both}])
        return {"html": both}

    evil(both)


@pytest.fixture
def seeded(tmp_path: Path, fake_openai: FakeOpenAI) -> Iterator[Seeded]:
    server, found = _seed_store(tmp_path, fake_openai)
    try:
        yield found
    finally:
        server.stop()


@pytest.fixture
def evil_seeded(tmp_path: Path, fake_openai: FakeOpenAI) -> Iterator[Seeded]:
    server, found = _seed_store(tmp_path, fake_openai, evil=True)
    try:
        yield found
    finally:
        server.stop()


# ----------------------------------------------------------------------------------------- the browser


def test_browse_filter_open_a_trace_and_select_a_span(seeded: Seeded, page: Page) -> None:
    p = page.page
    p.goto(seeded.url + "/")
    assert re.search(r"/experiments/0/traces$", p.url)
    rows = p.locator("table.traces tbody tr")
    assert rows.count() == 3
    assert p.locator("table.traces").get_by_text("ERROR").count() == 1
    assert "session-42" in p.locator("table.traces").inner_text()
    assert "unpriced" not in p.locator("table.traces").inner_text()  # gpt-4o-mini has a price
    p.locator('[data-summary="count"]').wait_for()  # the summary strip arrives by its own request

    p.fill("#filter", ERRORS_ONLY)
    p.click("form.filter button")
    p.wait_for_url(re.compile(r"filter=trace\.status"))
    assert rows.count() == 1
    assert rows.first.get_attribute("data-trace-id") == seeded.error_trace_id
    assert p.input_value("#filter") == ERRORS_ONLY

    p.click("text=Clear")
    p.wait_for_url(re.compile(r"/traces$"))
    p.locator(f'tr[data-trace-id="{seeded.session_trace_id}"] td.name a').click()
    p.wait_for_url(re.compile(r"/traces/"))
    totals = p.locator("dl.totals").first.inner_text()
    assert "OK" in totals and "$" in totals and "session-42" in totals
    # JS shows one span's details at a time; selecting the LLM span shows the conversation
    assert p.locator(".span-detail:visible").count() == 1
    p.locator(".tree .span-link", has_text="chat gpt-4o-mini").first.click()
    detail = p.locator(".span-detail:visible")
    assert detail.count() == 1
    text = detail.inner_text()
    assert "Where do herons live?" in text  # the user message
    assert "echo: Where do herons live?" in text  # the assistant's reply (the fake echoes)
    assert detail.locator(".msg-user").count() == 1 and detail.locator(".msg-assistant").count() == 1
    assert "gpt-4o-mini" in text
    assert re.search(r"Tokens in / out\s+\d+\s*/\s*\d+", text)
    assert re.search(r"Cost\s+\$0\.0", text)
    assert "#span-" in p.url
    assert page.problems == []


def test_error_trace_shows_the_exception(seeded: Seeded, page: Page) -> None:
    p = page.page
    p.goto(f"{seeded.url}/traces/{seeded.error_trace_id}")
    text = p.locator(".span-detail:visible").inner_text()
    assert "ERROR" in text and "KeyError" in text and "no entry for k1" in text
    assert page.problems == []


def test_keyboard_moves_through_the_tree(seeded: Seeded, page: Page) -> None:
    p = page.page
    p.goto(f"{seeded.url}/traces/{seeded.session_trace_id}")
    p.locator(".tree .span-link").first.focus()
    p.keyboard.press("ArrowDown")
    second = p.locator(".tree .span-link").nth(1).get_attribute("data-span-id")
    assert p.locator(".span-detail:visible").get_attribute("data-span-id") == second
    assert page.problems == []


def test_payloads_in_trace_data_render_as_text(evil_seeded: Seeded, page: Page) -> None:
    p = page.page
    p.goto(f"{evil_seeded.url}/experiments/0/traces")
    table = p.locator("table.traces").inner_text()
    assert PAYLOADS[0] in table  # the trace name, shown as text
    assert PAYLOADS[1] in table  # the session id and the tag
    assert p.evaluate("typeof window.__pwned") == "undefined"
    p.locator("td.name a", has_text="evil").click()
    p.wait_for_url(re.compile(r"/traces/"))
    body = p.locator("body").inner_text()
    assert PAYLOADS[0] in body and PAYLOADS[1] in body
    for link in p.locator(".tree .span-link").all():
        link.click()
        assert PAYLOADS[1] in p.locator(".span-detail:visible").inner_text()  # inputs, outputs, attributes
    assert p.evaluate("typeof window.__pwned") == "undefined"
    assert p.locator("img[src=x]").count() == 0 and p.locator("main script").count() == 0
    assert page.problems == []


# ----------------------------------------------------------------------------------------- plain HTTP


def test_status_codes_and_the_pages_without_javascript(seeded: Seeded) -> None:
    with httpx.Client(base_url=seeded.url) as http:
        home = http.get("/", follow_redirects=False)
        assert home.status_code == 302 and home.headers["location"] == "/experiments/0/traces"
        listing = http.get("/experiments/0/traces")
        assert listing.status_code == 200 and listing.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in listing.headers["content-security-policy"]
        assert listing.text.count("<tr data-trace-id=") == 3 and "session-42" in listing.text
        detail = http.get(f"/traces/{seeded.chat_trace_id}")
        assert detail.status_code == 200
        # without JS every span's details are in the HTML, the conversation included
        assert "What is a heron?" in detail.text and "echo: What is a heron?" in detail.text
        assert 'class="span-detail' in detail.text and "<details open>" not in detail.text  # one span
        nested = http.get(f"/traces/{seeded.session_trace_id}")
        assert nested.text.count('class="span-detail') == 2 and "<details open>" in nested.text
        assert http.get("/traces/tr-" + seeded.chat_trace_id).status_code == 200
        assert http.get("/traces/nope").status_code == 404
        missing = http.get("/experiments/12345/traces")
        assert missing.status_code == 404 and "error-box" in missing.text
        assert http.get("/static/heron.css").headers["content-type"].startswith("text/css")
        assert http.get("/static/heron.js").status_code == 200
        assert http.get("/static/..%2Fpyproject.toml").status_code == 404


def test_a_bad_filter_is_a_400_page_with_the_message(seeded: Seeded) -> None:
    with httpx.Client(base_url=seeded.url) as http:
        bad = http.get("/experiments/0/traces", params={"filter": "trace.status = "})
        assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/html")
        assert 'role="alert"' in bad.text and "INVALID_PARAMETER_VALUE" in bad.text
        assert "Traceback" not in bad.text
        assert 'value="trace.status ="' in bad.text  # the filter stays in the box to be fixed
        assert http.get("/experiments/0/traces", params={"page_token": "garbage"}).status_code == 400
        for query in ("tags.team = 'search'", "span.type = 'CHAT_MODEL' AND trace.execution_time_ms >= 0"):
            found = http.get("/experiments/0/traces", params={"filter": query})
            assert found.status_code == 200, query
        tagged = http.get("/experiments/0/traces", params={"filter": "tags.team = 'search'"}).text
        assert re.findall(r'<tr data-trace-id="([^"]+)"', tagged) == [seeded.session_trace_id]


def test_pagination_follows_next_links(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    from heron.server import pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    with httpx.Client(base_url=seeded.url) as http:
        first = http.get("/experiments/0/traces")
        ids = re.findall(r'<tr data-trace-id="([^"]+)"', first.text)
        assert len(ids) == 2 and ids[0] == seeded.error_trace_id  # newest first
        next_url = re.search(r'href="([^"]+)" rel="next"', first.text)
        assert next_url is not None
        second = http.get(next_url.group(1).replace("&amp;", "&"))
        more = re.findall(r'<tr data-trace-id="([^"]+)"', second.text)
        assert more == [seeded.chat_trace_id] and 'rel="next"' not in second.text
        assert "First page" in second.text


def test_unpriced_cost_is_never_shown_as_zero(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    settings = server_settings(tmp_path)
    with BackgroundServer(settings) as server:
        heron.set_tracking_uri(settings.backend_store_uri)
        heron.openai.autolog()
        try:
            with openai.OpenAI(base_url=fake_openai.base_url, api_key="test", max_retries=0) as client:
                client.chat.completions.create(model="some-local-model",
                                               messages=[{"role": "user", "content": "hi"}])
            assert heron.flush_traces(30)
        finally:
            heron.openai.autolog(disable=True)
        trace_id = heron.get_last_active_trace_id()
        with httpx.Client(base_url=server.url) as http:
            listing = http.get("/experiments/0/traces").text
            detail = http.get(f"/traces/{trace_id}").text
    for html in (listing, detail):
        assert "badge-unpriced" in html and "$0" not in html
