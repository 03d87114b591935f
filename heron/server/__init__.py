"""The Heron tracking server: MLflow's REST API and artifact proxy on one FastAPI app.

``create_app(settings)`` builds the app; ``heron server`` runs it with uvicorn, ``BackgroundServer`` in a
thread of the calling process. FastAPI is imported only when one of them is first used, so
``heron --help`` stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from heron.server.settings import Settings

__all__ = ["BackgroundServer", "Settings", "create_app"]

if TYPE_CHECKING:
    from heron.server.app import create_app
    from heron.server.background import BackgroundServer


def __getattr__(name: str) -> Any:
    if name == "create_app":
        return importlib.import_module("heron.server.app").create_app
    if name == "BackgroundServer":
        return importlib.import_module("heron.server.background").BackgroundServer
    raise AttributeError(f"module 'heron.server' has no attribute {name!r}")
