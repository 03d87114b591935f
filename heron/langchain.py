"""``heron.langchain``: tracing for LangChain, as ``mlflow.langchain`` offers it.

``heron.langchain.autolog()`` turns every LangChain run into a span; ``HeronCallbackHandler`` traces
chosen runs only (``config={"callbacks": [HeronCallbackHandler()]}``). See docs/langchain.md. Importing
this module does not import LangChain: ``autolog()`` and ``HeronCallbackHandler`` do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from heron.tracing.autolog.langchain import autolog

if TYPE_CHECKING:
    from heron.tracing.autolog.langchain_callbacks import HeronCallbackHandler

__all__ = ["HeronCallbackHandler", "autolog"]


def __getattr__(name: str) -> Any:
    if name == "HeronCallbackHandler":
        # imports langchain-core: only when asked for
        from heron.tracing.autolog.langchain_callbacks import HeronCallbackHandler

        return HeronCallbackHandler
    raise AttributeError(f"module 'heron.langchain' has no attribute {name!r}")
