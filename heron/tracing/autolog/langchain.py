"""LangChain autolog: every LangChain run (chains, prompts, chat models, LLMs, parsers, retrievers, tools)
becomes a span, through LangChain's own callbacks.

``autolog()`` registers a LangChain *configure hook*: each time LangChain sets up the callbacks of a run
it adds Heron's handler (``HeronCallbackHandler``, one shared instance) as an inheritable callback, unless
the run already has one (passed explicitly as ``config={"callbacks": [HeronCallbackHandler()]}``).
Nothing in LangChain is patched. Importing this module does not import LangChain; ``autolog()`` does.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from heron.errors import HeronError

if TYPE_CHECKING:
    from contextvars import ContextVar

    from heron.tracing.autolog.langchain_callbacks import HeronCallbackHandler

__all__ = ["autolog", "is_enabled", "report_failure"]

_logger = logging.getLogger(__name__)


@dataclass
class _State:
    enabled: bool = False
    silent: bool = False
    registered: bool = False  # the hook is in LangChain's list
    handler: HeronCallbackHandler | None = None


class _Switch:
    """What Heron registers as a LangChain configure hook. LangChain reads a hook's handler with
    ``get()`` (hooks are ContextVars there); a ContextVar's value would not reach threads started before
    ``autolog()``, this answers the same in every thread and task: the handler while autolog is on."""

    name = "heron_langchain_autolog"

    def get(self, default: Any = None) -> Any:
        return _state.handler if _state.enabled else default


_lock = threading.Lock()
_state = _State()
_SWITCH = _Switch()
_reported: set[str] = set()


def autolog(
    disable: bool = False,
    log_traces: bool = True,
    silent: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
) -> None:
    """Trace every LangChain run: one span per runnable step, nested as LangChain nests them, under the
    current span if there is one (``@heron.trace``, ``heron.start_span``, an app's OpenTelemetry span).

    ``disable=True`` (or ``log_traces=False``) removes Heron's hook; runs already started finish their
    spans. Enabling twice registers once. ``silent`` turns Heron's warnings about its own recording
    failures into debug logs. ``exclusive`` and ``disable_for_unsupported_versions`` are accepted for
    MLflow compatibility and ignored. Raises HeronError when ``langchain-core`` is not installed.
    Thread-safe.
    """
    del exclusive, disable_for_unsupported_versions
    with _lock:
        _state.silent = silent
        if disable or not log_traces:
            _state.enabled = False
            _unregister()
            return
        if _state.handler is None:
            _state.handler = _new_handler()
        if not _state.registered:
            _register()
        _state.enabled = True


def is_enabled() -> bool:
    """Whether LangChain autolog is on."""
    return _state.enabled


def _new_handler() -> HeronCallbackHandler:
    try:
        # LangChain is optional and heavy: loaded when autolog is turned on, never by `import heron`
        from heron.tracing.autolog.langchain_callbacks import HeronCallbackHandler
    except ImportError as exc:
        if exc.name is not None and exc.name.startswith("langchain"):
            raise HeronError.invalid(
                "heron.langchain.autolog() needs the langchain-core package; install it with: "
                "pip install 'heron[langchain]'."
            ) from None
        raise
    return HeronCallbackHandler()


def _register() -> None:
    from langchain_core.tracers.context import register_configure_hook

    from heron.tracing.autolog.langchain_callbacks import HeronCallbackHandler

    # handle_class: LangChain adds no autolog handler to a run that has a HeronCallbackHandler already
    register_configure_hook(cast("ContextVar[Any]", _SWITCH), True, HeronCallbackHandler)
    _state.registered = True


def _unregister() -> None:
    """Take the hook out of LangChain's list. The list is LangChain's private state: if it cannot be
    found the hook stays, switched off (it then adds nothing)."""
    if not _state.registered:
        return
    try:
        from langchain_core.tracers import context as lc_context

        hooks = getattr(lc_context, "_configure_hooks", None)
        if isinstance(hooks, list):
            hooks[:] = [hook for hook in hooks if not (isinstance(hook, tuple) and hook and hook[0] is _SWITCH)]
            _state.registered = False
    except Exception as exc:  # noqa: BLE001 - switched off all the same
        report_failure("hook removal", exc)


def report_failure(where: str, exc: BaseException) -> None:
    """Log a failure of Heron's own recording once per place (a debug log when ``silent``); never raise."""
    level = logging.DEBUG if _state.silent or where in _reported else logging.WARNING
    _reported.add(where)
    _logger.log(level, "Heron's LangChain autolog could not record the %s (the run itself is unaffected): "
                "%s: %s", where, type(exc).__name__, exc, exc_info=exc)
