"""Each prompt test starts with an empty load_prompt cache and no remembered trace/run links."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from heron.prompts import links
from heron.prompts.cache import prompt_cache


@pytest.fixture(autouse=True)
def _fresh_prompt_state() -> Iterator[None]:
    prompt_cache.clear()
    links.reset_for_tests()
    yield
    prompt_cache.clear()
    links.reset_for_tests()
