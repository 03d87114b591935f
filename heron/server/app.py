"""``create_app(settings)``: the Heron server as one FastAPI app composed of routers, one per area.

Nothing happens at import: the app, its store and its artifact destination are built by ``create_app``.
Later areas (registry, prompts, traces, OTLP ingest, UI pages) add a router to :data:`ROUTERS`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from heron import __version__
from heron.errors import NOT_IMPLEMENTED, HeronError
from heron.server import (
    artifacts,
    experiments,
    health,
    model_versions,
    otlp,
    pages,
    prompts,
    registered_models,
    runs,
    traces,
)
from heron.server.context import ServerClient, ServerContext, open_store
from heron.server.destination import ArtifactDestination
from heron.server.errors import CatchAll, install_error_handlers
from heron.server.limits import BodyLimit
from heron.server.settings import Settings

__all__ = ["ROUTERS", "create_app", "create_app_from_env"]

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    experiments.router,
    runs.router,
    artifacts.router,
    registered_models.router,
    registered_models.heron_router,
    model_versions.router,
    prompts.router,
    pages.router,
    traces.router,
    otlp.router,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The server app for ``settings`` (default: :meth:`Settings.from_env`).

    Opens the backend store now (creating or migrating its schema), so a wrong URI fails here rather
    than on the first request. Raises HeronError for unusable settings.
    """
    settings = (settings or Settings.from_env()).resolved()
    if settings.auth:
        raise HeronError("Authentication (--auth) is not available yet; serve on 127.0.0.1.", NOT_IMPLEMENTED)
    store = open_store(settings)
    context = ServerContext(settings, ServerClient(store), ArtifactDestination(settings.artifacts_destination))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        store.db.dispose()  # graceful shutdown: in-flight requests are done, close the pool

    app = FastAPI(
        title="Heron tracking server",
        version=__version__,
        description="MLflow-compatible REST API (/api/2.0/mlflow/...) and artifact proxy of Heron.",
        lifespan=lifespan,
    )
    app.state.heron = context
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(
        BodyLimit, max_body_bytes=settings.max_body_bytes, max_artifact_bytes=settings.max_artifact_bytes
    )
    app.add_middleware(CatchAll)  # outermost of ours: also catches what BodyLimit raises
    return app


def create_app_from_env() -> FastAPI:
    """The app for the settings in the environment: the factory each ``heron server --workers N``
    worker process calls."""
    return create_app(Settings.from_env())
