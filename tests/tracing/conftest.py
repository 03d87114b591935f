"""Tracing tests: every test starts with an empty export queue and the default tracing configuration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from heron.tracing import reset_for_tests


@pytest.fixture(autouse=True)
def _reset_tracing() -> Iterator[None]:
    reset_for_tests()
    yield
    reset_for_tests()
