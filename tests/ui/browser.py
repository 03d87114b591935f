"""The browser fixtures of the page tests: Debian's Chromium (/usr/bin/chromium, installed by
scripts/ensure-chromium.sh; `playwright install` is never used) driven by Playwright, and a page that
records console errors and warnings. tests/ui/conftest.py makes them fixtures of every test here."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "Page", "browser", "page"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_sync = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: run `bash scripts/ensure-chromium.sh` (make test does).")
    with playwright_sync.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@dataclass
class Page:
    page: Any
    problems: list[str]


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    """A fresh page (1360x900); ``problems`` collects console errors and warnings and page errors."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    pw_page = context.new_page()
    problems: list[str] = []
    pw_page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
               if msg.type in ("error", "warning") else None)
    pw_page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    pw_page.set_default_timeout(10_000)
    # A page load waits on the test's own server, which shares a loaded 2-core CI machine with the other
    # test worker and PostgreSQL: one wait_for_url ran out at 10 s once in a dozen CI runs.
    pw_page.set_default_navigation_timeout(30_000)
    yield Page(pw_page, problems)
    context.close()
