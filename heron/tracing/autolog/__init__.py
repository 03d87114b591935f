"""Integrations that trace third-party libraries by patching them: ``openai`` (and ``langchain``).

Import the one you need (``heron.tracing.autolog.openai``); importing this package imports none of them.
"""

from __future__ import annotations

__all__: list[str] = []
