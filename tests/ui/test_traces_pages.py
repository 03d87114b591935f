"""The traces page's columns, quick filters, sort and summary strip, the sessions pages and a 10,000-span
trace rendered lazily, in Chromium and over plain HTTP, against a live server whose store was filled by
real traced calls: the `openai` SDK and a LangChain chain (ChatOpenAI) against the fake OpenAI server,
a prompt loaded from the registry inside a trace, feedback logged on a trace."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest

import heron
import heron.langchain
import heron.openai
from heron.server import BackgroundServer
from tests.fakes.openai_server import FakeOpenAI
from tests.server.conftest import server_settings
from tests.ui.browser import Page

PAYLOADS = ['<script>window.__pwned=1</script>', '<img src=x onerror="window.__pwned=1">']
ROWS = re.compile(r'<tr data-trace-id="([^"]+)"')


@dataclass
class Store:
    url: str
    chat_ids: list[str]  # the session's three LangChain turns, in order
    prompt_trace_id: str
    error_trace_id: str
    big_trace_id: str | None


def _seed(tmp_path: Path, fake: FakeOpenAI, evil: bool = False, big: int = 0) -> tuple[BackgroundServer, Store]:
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_openai import ChatOpenAI

    settings = server_settings(tmp_path)
    server = BackgroundServer(settings).start()
    heron.set_tracking_uri(settings.backend_store_uri)
    heron.openai.autolog()
    heron.langchain.autolog()
    client = openai.OpenAI(base_url=fake.base_url, api_key="test", max_retries=0)
    model = ChatOpenAI(model="gpt-4o-mini", base_url=fake.base_url, api_key="test", max_retries=0)  # type: ignore[arg-type]
    chain = ChatPromptTemplate.from_messages([("system", "Be brief."), ("user", "{q}")]) | model | StrOutputParser()
    session = PAYLOADS[0] if evil else "chat-7"
    user = PAYLOADS[1] if evil else "grace"

    @heron.trace(name="turn")
    def chat_turn(q: str) -> str:
        heron.update_current_trace(session_id=session, user_id=user, tags={"team": PAYLOADS[1] if evil else "support"})
        return str(chain.invoke({"q": q}))

    @heron.trace(name="qa")
    def answer_with_prompt(question: str) -> str:
        prompt = heron.load_prompt("prompts:/qa-prompt/1")
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": prompt.format(question=question)}])
        return reply.choices[0].message.content or ""

    @heron.trace(name="lookup")
    def lookup(key: str) -> None:
        raise KeyError(f"no entry for {key}")

    try:
        heron.register_prompt("qa-prompt", "Answer briefly: {{ question }}")
        chat_ids = []
        for q in ("Where do herons live?", "What do they eat?", "How tall are they?"):
            chat_turn(q)
            chat_ids.append(heron.get_last_active_trace_id() or "")
        answer_with_prompt("Why are herons grey?")
        prompt_id = heron.get_last_active_trace_id() or ""
        with pytest.raises(KeyError):
            lookup("k1")
        error_id = heron.get_last_active_trace_id() or ""
        big_id = None
        if big:
            with heron.start_span("big"):
                for i in range(big // 100):
                    with heron.start_span(f"step-{i}", span_type="CHAIN"):
                        for j in range(99 if i else 98):
                            with heron.start_span(f"leaf-{i}-{j}", span_type="TOOL") as leaf:
                                leaf.set_inputs({"i": i, "j": j})
            big_id = heron.get_last_active_trace_id()
        assert heron.flush_traces(60)
        heron.log_feedback(chat_ids[0], name=PAYLOADS[1] if evil else "relevance", value=0.8)
        heron.log_feedback(prompt_id, name="correct", value=True)
    finally:
        heron.openai.autolog(disable=True)
        heron.langchain.autolog(disable=True)
        client.close()
    return server, Store(server.url, chat_ids, prompt_id, error_id, big_id)


@pytest.fixture
def store(tmp_path: Path, fake_openai: FakeOpenAI) -> Iterator[Store]:
    server, found = _seed(tmp_path, fake_openai)
    try:
        yield found
    finally:
        server.stop()


def _ids(html: str) -> list[str]:
    return ROWS.findall(html)


def _durations() -> dict[str, int]:
    return {t.info.trace_id: t.info.execution_duration or 0 for t in heron.search_traces(return_type="list")}


# ----------------------------------------------------------------------------------------- the browser


def test_columns_quick_filters_sort_and_summary(store: Store, page: Page) -> None:
    p = page.page
    p.goto(f"{store.url}/experiments/0/traces")
    table = p.locator("table.traces")
    assert table.locator("tbody tr").count() == 5
    prompt_row = p.locator(f'tr[data-trace-id="{store.prompt_trace_id}"]').inner_text()
    assert "qa-prompt v1" in prompt_row and "correct: yes" in prompt_row
    first_turn = p.locator(f'tr[data-trace-id="{store.chat_ids[0]}"]').inner_text()
    assert "relevance: 0.8" in first_turn and "chat-7" in first_turn and "grace" in first_turn
    # the summary strip arrives by its own request, over the whole filtered set
    count = p.locator('[data-summary="count"]')
    count.wait_for()
    assert count.inner_text() == "5"
    assert p.locator(".summary svg.spark polyline").count() == 1
    tokens = p.locator('[data-summary="tokens"]').inner_text()
    assert re.fullmatch(r"[1-9]\d* / [1-9]\d*", tokens)
    assert "$" in p.locator('[data-summary="cost"]').inner_text()
    assert re.fullmatch(r"\S+ m?s / \S+ m?s", p.locator('[data-summary="latency"]').inner_text())

    p.click("a[data-quick=errors]")
    p.wait_for_url(re.compile(r"errors=1"))
    assert table.locator("tbody tr").count() == 1
    p.locator('[data-summary="count"]').wait_for()
    assert p.locator('[data-summary="count"]').inner_text() == "1"

    p.click("a[data-quick=errors]")  # off again
    p.wait_for_url(re.compile(r"/traces$"))
    p.fill("#min_latency_ms", "3600000")
    p.click(".quick-filters button")
    p.wait_for_url(re.compile(r"min_latency_ms=3600000"))
    assert "No trace matches" in p.locator("main").inner_text()
    p.fill("#min_latency_ms", "")
    p.click(".quick-filters button")
    p.click("a[data-quick=since-1h]")
    p.wait_for_url(re.compile(r"since=1h"))
    assert table.locator("tbody tr").count() == 5

    p.click("a[data-sort=latency]")
    p.wait_for_url(re.compile(r"sort=latency&dir=desc"))
    shown = [r.get_attribute("data-trace-id") for r in table.locator("tbody tr").all()]
    durations = _durations()
    assert [durations[i or ""] for i in shown] == sorted(durations.values(), reverse=True)
    p.click("a[data-sort=latency]")
    p.wait_for_url(re.compile(r"sort=latency&dir=asc"))
    assert p.locator("th[aria-sort=ascending]").count() == 1

    p.fill("#filter", "trace.text ILIKE '%what do they eat%' OR trace.status = 'ERROR'")
    p.click("form.filter button")
    p.wait_for_url(re.compile(r"filter="))
    shown = sorted(r.get_attribute("data-trace-id") or "" for r in table.locator("tbody tr").all())
    assert shown == sorted([store.chat_ids[1], store.error_trace_id])
    assert "since=1h" in p.url and "sort=latency" in p.url  # the quick filters and sort stay in the URL
    assert page.problems == []


def test_sessions_pages_show_the_conversation_and_totals(store: Store, page: Page) -> None:
    p = page.page
    p.goto(f"{store.url}/experiments/0/traces")
    p.click("nav.tabs >> text=Sessions")
    p.wait_for_url(re.compile(r"/experiments/0/sessions$"))
    row = p.locator('tr[data-session-id="chat-7"]')
    assert row.count() == 1 and p.locator("table.sessions tbody tr").count() == 1
    cells = row.inner_text()
    assert "grace" in cells and re.search(r"\b3\b", cells) and "$" in cells
    row.locator("a").click()
    p.wait_for_url(re.compile(r"/sessions/chat-7$"))
    turns = p.locator("li.turn")
    assert [t.get_attribute("data-trace-id") for t in turns.all()] == store.chat_ids
    second = turns.nth(1).inner_text()
    assert "What do they eat?" in second and "echo: What do they eat?" in second
    assert re.search(r"Tokens in / out\s+[1-9]\d*\s*/\s*[1-9]\d*", p.locator("dl.totals").inner_text())
    turns.nth(0).locator(".turn-head a").click()
    p.wait_for_url(re.compile(r"/traces/" + store.chat_ids[0]))
    assert page.problems == []


def test_a_10000_span_trace_opens_lazily(tmp_path: Path, fake_openai: FakeOpenAI, page: Page) -> None:
    server, found = _seed(tmp_path, fake_openai, big=10_000)
    try:
        p = page.page
        url = f"{found.url}/traces/{found.big_trace_id}"
        p.goto(url)  # warm-up: the server's first read of the trace
        begin = time.perf_counter()
        p.goto(url, wait_until="load")
        p.locator(".tree .span-link").first.wait_for(state="visible")
        opened = time.perf_counter() - begin
        print(f"10,000-span trace: loaded and drawn in Chromium in {opened:.2f} s")
        assert opened < 10  # the 2 s target is measured by benchmarks/bench_ui.py; this machine is shared
        assert "10000" in p.locator("dl.totals").first.inner_text()
        links = p.locator(".tree .span-link")
        assert links.count() == 200 and p.locator(".timeline .tl-row").count() == 200
        assert p.locator(".span-detail").count() == 1  # only the selected span's payloads are in the page

        # scrolling the tree to its end fetches the next rows
        p.locator(".tree-panel").evaluate("el => el.scrollTop = el.scrollHeight")
        deadline = time.monotonic() + 10
        while links.count() < 1200 and time.monotonic() < deadline:  # (wait_for_function needs eval: CSP)
            p.wait_for_timeout(100)
        assert links.count() >= 1200
        assert p.locator(".timeline .tl-row").count() == links.count()

        # selecting a span fetches its details
        target = links.nth(705)  # a leaf: rows 701-799 are step-7's TOOL spans
        span_id = target.get_attribute("data-span-id")
        target.scroll_into_view_if_needed()
        target.click()
        detail = p.locator(f'.span-detail[data-span-id="{span_id}"]')
        detail.wait_for(state="visible")
        assert '"i"' in detail.inner_text() and "TOOL" in detail.inner_text()
        assert p.locator(".span-detail:visible").count() == 1

        # keyboard: down selects the next span; left collapses a subtree and hides its rows
        target.focus()
        p.keyboard.press("ArrowDown")
        following = links.nth(706).get_attribute("data-span-id")
        p.locator(f'.span-detail[data-span-id="{following}"]').wait_for(state="visible")
        step = p.locator(".tree .orow", has=p.locator(".twisty")).nth(2)  # step-1: 99 leaves
        before = p.locator(".tree .span-link:visible").count()
        step.locator(".span-link").focus()
        p.keyboard.press("ArrowLeft")
        assert p.locator(".tree .span-link:visible").count() == before - 99
        assert step.locator(".twisty").get_attribute("aria-expanded") == "false"
        p.keyboard.press("ArrowRight")
        assert p.locator(".tree .span-link:visible").count() == before
        assert page.problems == []
    finally:
        server.stop()


def test_payloads_in_new_columns_and_session_pages_render_as_text(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                  page: Page) -> None:
    server, _ = _seed(tmp_path, fake_openai, evil=True)
    try:
        p = page.page
        p.goto(f"{server.url}/experiments/0/traces")
        table = p.locator("table.traces").inner_text()
        assert PAYLOADS[0] in table and PAYLOADS[1] in table  # session, user, tag and score name as text
        assert f"{PAYLOADS[1]}: 0.8" in table
        p.goto(f"{server.url}/experiments/0/sessions")
        assert PAYLOADS[0] in p.locator("table.sessions").inner_text()
        assert PAYLOADS[1] in p.locator("table.sessions").inner_text()
        p.locator("table.sessions td.name a").click()
        p.wait_for_url(re.compile(r"/sessions/"))
        assert PAYLOADS[0] in p.locator("h1").inner_text()
        assert p.locator("li.turn").count() == 3
        assert p.evaluate("typeof window.__pwned") == "undefined"
        assert p.locator("img[src=x]").count() == 0 and p.locator("main script").count() == 0
        assert page.problems == []
    finally:
        server.stop()


# ----------------------------------------------------------------------------------------- plain HTTP


def test_sort_is_stable_across_pages(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from heron.server import pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    durations = _durations()
    with httpx.Client(base_url=store.url) as http:
        seen: list[str] = []
        url: str | None = "/experiments/0/traces?sort=latency&dir=asc"
        while url:
            html = http.get(url).text
            seen += _ids(html)
            found = re.search(r'href="([^"]+)" rel="next"', html)
            url = found.group(1).replace("&amp;", "&") if found else None
            assert url is None or "sort=latency" in url
    assert len(seen) == 5 and len(set(seen)) == 5
    assert [durations[i] for i in seen] == sorted(durations.values())


def test_bad_query_fields_are_400_pages_naming_the_field(store: Store) -> None:
    with httpx.Client(base_url=store.url) as http:
        for params, field in [({"min_latency_ms": "fast"}, "min_latency_ms"), ({"since": "1y"}, "since"),
                              ({"sort": "secret"}, "sort"), ({"dir": "up"}, "dir"), ({"errors": "yes"}, "errors")]:
            for path in ("/experiments/0/traces", "/experiments/0/traces/summary"):
                bad = http.get(path, params=params)
                assert bad.status_code == 400, (path, params)
                assert f"Invalid {field}" in bad.text and 'role="alert"' in bad.text
        assert http.get("/experiments/0/sessions", params={"page_token": "x"}).status_code == 400
        assert http.get("/experiments/0/sessions/nobody").status_code == 404
        assert http.get("/experiments/999/sessions").status_code == 404
        outline = http.get(f"/traces/{store.chat_ids[0]}/outline")
        assert outline.status_code == 200 and outline.json()["total"] == len(outline.json()["rows"]) > 1
        bad_offset = http.get(f"/traces/{store.chat_ids[0]}/outline", params={"offset": "-1"})
        assert bad_offset.status_code == 400 and "offset" in bad_offset.json()["message"]
        assert http.get("/traces/0123/outline").status_code == 404
        assert http.get(f"/traces/{store.chat_ids[0]}/spans/0000000000000000").status_code == 404
        span_id = outline.json()["rows"][0]["span_id"]
        fragment = http.get(f"/traces/{store.chat_ids[0]}/spans/{span_id}")
        assert fragment.status_code == 200 and 'class="span-detail' in fragment.text
        # reading pages writes nothing: the store still holds the five traces
        assert len(_ids(http.get("/experiments/0/traces").text)) == 5


def test_summary_is_over_the_whole_filtered_set(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from heron.server import pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 1)  # the table shows one trace; the summary counts them all
    traces = heron.search_traces(return_type="list")
    with httpx.Client(base_url=store.url) as http:
        assert len(_ids(http.get("/experiments/0/traces").text)) == 1
        html = http.get("/experiments/0/traces/summary").text
        total_in = sum(t.info.input_tokens for t in traces)
        total_out = sum(t.info.output_tokens for t in traces)
        assert f'data-summary="count">{len(traces)}<' in html
        assert f'data-summary="tokens">{total_in} / {total_out}<' in html
        errors = http.get("/experiments/0/traces/summary", params={"errors": "1"}).text
        assert 'data-summary="count">1<' in errors
