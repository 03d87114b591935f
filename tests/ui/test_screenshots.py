"""`make screenshots`: scripts/screenshots.py seeds a demo store, serves it with `heron server` on
127.0.0.1 and saves a PNG of every page in its PAGES list; it exits non-zero when a page does not answer
200 or logs a console error. Run here into a temp dir (docs/img is left alone)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from heron.server import BackgroundServer
from tests.server.conftest import server_settings
from tests.ui.browser import CHROMIUM

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "screenshots.py"


def _script() -> Any:
    """scripts/screenshots.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("heron_screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_page_of_the_list_is_saved_without_console_errors(tmp_path: Path) -> None:
    pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: run `bash scripts/ensure-chromium.sh`.")
    pages: list[tuple[str, str]] = _script().PAGES
    names = [name for name, _ in pages]
    assert len(set(names)) == len(names) and all(name.endswith(".png") for name in names)
    assert {"models.png", "model.png", "prompts.png", "prompt.png", "prompt-diff.png"} <= set(names)
    out = tmp_path / "img"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "OPENAI_"))}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--store", str(tmp_path / "demo-store")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    for name in names:
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000, name


def test_a_page_with_console_errors_or_a_bad_status_fails_the_run(tmp_path: Path) -> None:
    pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: run `bash scripts/ensure-chromium.sh`.")
    with BackgroundServer(server_settings(tmp_path)) as server:
        problems = _script().capture(server.url, tmp_path / "img", {}, [("missing.png", "/models/nope")])
    assert problems and "missing.png (/models/nope)" in problems[0]
    assert (tmp_path / "img" / "missing.png").exists()
