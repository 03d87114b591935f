"""The in-process cache of loaded prompt versions, so that a hot path calling ``load_prompt`` per
request does not pay a database round trip each time.

Entries live for a TTL (``HERON_PROMPT_CACHE_TTL_SECONDS``, default 60 s): an alias moved by another
process is seen within the TTL. Every prompt write made through this process drops that prompt's
entries, so the writer's own process sees it at once. Thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable

from heron.prompts.records import PromptVersion

__all__ = ["PromptCache", "prompt_cache"]


class PromptCache:
    """A bounded map from (store URI, the caller's reference) to a prompt version, with expiry."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._entries: dict[Hashable, tuple[float, str, str, PromptVersion]] = {}
        self._lock = threading.Lock()
        self._max_entries = max_entries

    def get(self, key: Hashable) -> PromptVersion | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[3]

    def put(self, key: Hashable, store_uri: str, prompt: PromptVersion, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            return
        with self._lock:
            if len(self._entries) >= self._max_entries:
                # Drop the oldest half (dicts keep insertion order): cheap and keeps hot entries coming back.
                for stale in list(self._entries)[: self._max_entries // 2]:
                    del self._entries[stale]
            self._entries[key] = (time.monotonic() + ttl_seconds, store_uri, prompt.name, prompt)

    def invalidate(self, store_uri: str, name: str) -> None:
        """Forget every entry for prompt ``name`` in the store at ``store_uri``."""
        with self._lock:
            for key in [k for k, e in self._entries.items() if e[1] == store_uri and e[2] == name]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


prompt_cache = PromptCache()
"""The process-wide cache ``load_prompt`` uses."""
