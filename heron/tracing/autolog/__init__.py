"""Integrations that trace third-party libraries: ``openai`` (by patching the SDK) and ``langchain``
(through LangChain's callbacks), and ``autolog()``, which turns on every one whose library is installed.

Importing this package imports none of those libraries; turning an integration on does.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from heron.tracing.autolog import langchain as _langchain
from heron.tracing.autolog import openai as _openai

__all__ = ["autolog"]

_logger = logging.getLogger(__name__)

# flavor name -> (the library it traces, its autolog function)
_INTEGRATIONS: dict[str, tuple[str, Callable[..., None]]] = {
    "openai": ("openai", _openai.autolog),
    "langchain": ("langchain_core", _langchain.autolog),
}


def autolog(
    disable: bool = False,
    log_traces: bool = True,
    silent: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    exclude_flavors: Iterable[str] | None = None,
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    extra_tags: Mapping[str, Any] | None = None,
) -> None:
    """Turn on (``disable=True``: off) tracing for every supported library that is installed: ``openai``
    (``heron.openai.autolog``) and LangChain (``heron.langchain.autolog``), except the ``exclude_flavors``
    named (``"openai"``, ``"langchain"``). A library that is not installed is skipped without being
    imported; an integration that fails to turn on is logged and the others go on.

    ``silent`` and ``log_traces`` are passed to each integration. ``exclusive``,
    ``disable_for_unsupported_versions`` and MLflow's model-logging options (``log_input_examples``,
    ``log_model_signatures``, ``log_models``, ``log_datasets``, ``extra_tags``) are accepted for
    ``mlflow.autolog`` compatibility and ignored: Heron's autolog records traces only. Thread-safe.
    """
    del exclusive, disable_for_unsupported_versions, log_input_examples, log_model_signatures, log_models
    del log_datasets, extra_tags
    excluded = {str(name) for name in exclude_flavors or ()}
    for flavor, (library, enable) in _INTEGRATIONS.items():
        if flavor in excluded or not _installed(library):
            continue
        try:
            enable(disable=disable, log_traces=log_traces, silent=silent)
        except Exception as exc:  # noqa: BLE001 - one integration failing leaves the others on
            _logger.warning("Heron could not %s %s autolog: %s: %s", "turn off" if disable else "turn on",
                            flavor, type(exc).__name__, exc)


def _installed(library: str) -> bool:
    """Whether ``library`` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(library) is not None
    except (ImportError, ValueError):
        return False
