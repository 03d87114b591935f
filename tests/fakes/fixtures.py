"""Pytest fixtures for the fakes. Register with `pytest_plugins = ["tests.fakes.fixtures"]` or import them."""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator

import pytest

from tests.fakes.openai_server import FakeOpenAI

__all__ = ["fake_openai"]

_shared: FakeOpenAI | None = None
_shared_lock = threading.Lock()


def _shared_fake_openai() -> FakeOpenAI:
    # One server per process (per xdist worker), started on first use: starting and stopping uvicorn
    # costs ~0.2 s, too much per test. Stopped at interpreter exit.
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FakeOpenAI().start()
            atexit.register(_shared.stop)
        return _shared


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A started FakeOpenAI with no recorded requests, no pending failures and default knobs.

    The server is shared by the tests of a process and reset around each test; a test that needs its own
    server uses `with FakeOpenAI(...) as fake:`.
    """
    fake = _shared_fake_openai()
    fake.reset()
    yield fake
    fake.reset()
