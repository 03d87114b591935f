"""``create_app(settings)``: the Heron server as one FastAPI app composed of routers, one per area.

Nothing happens at import: the app, its store and its artifact destination are built by ``create_app``.
Later areas (registry, prompts, traces, OTLP ingest, UI pages) add a router to :data:`ROUTERS`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI

from heron import __version__, config
from heron.auth.records import Role
from heron.auth.sqlstore import SqlAuthStore
from heron.errors import RESOURCE_ALREADY_EXISTS, HeronError
from heron.server import (
    accounts,
    artifacts,
    experiments,
    health,
    model_versions,
    otlp,
    pages,
    pages_registry,
    pages_runs,
    pages_sessions,
    prompts,
    registered_models,
    runs,
    traces,
)
from heron.server.context import ServerClient, ServerContext, open_store
from heron.server.destination import ArtifactDestination
from heron.server.errors import CatchAll, install_error_handlers
from heron.server.guard import AuthState, CreatorGrant, guard
from heron.server.limits import BodyLimit
from heron.server.query import known_query
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
    pages_registry.router,
    pages_runs.router,
    pages_sessions.router,
    traces.router,
    otlp.router,
    accounts.router,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The server app for ``settings`` (default: :meth:`Settings.from_env`).

    Opens the backend store now (creating or migrating its schema), so a wrong URI fails here rather
    than on the first request. Raises HeronError for unusable settings.
    """
    settings = (settings or Settings.from_env()).resolved()
    store = open_store(settings)
    auth = _auth_state(settings, SqlAuthStore(store.db)) if settings.auth else None
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
        # authentication and the route table of heron.server.policy, then unknown query parameters
        dependencies=[Depends(guard), Depends(known_query)],
    )
    app.state.heron = context
    app.state.heron_auth = auth
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(
        BodyLimit, max_body_bytes=settings.max_body_bytes, max_artifact_bytes=settings.max_artifact_bytes
    )
    app.add_middleware(CreatorGrant)
    app.add_middleware(CatchAll)  # outermost of ours: also catches what BodyLimit raises
    return app


def _auth_state(settings: Settings, store: SqlAuthStore) -> AuthState:
    """Auth for the app, after creating the admin ``settings.admin_username`` when HERON_ADMIN_PASSWORD
    is set and no such user exists. Refuses to start when there would be no admin at all."""
    password = config.ADMIN_PASSWORD.get()
    if password:
        try:
            store.create_user(settings.admin_username, password, is_admin=True)
        except HeronError as exc:
            if exc.error_code != RESOURCE_ALREADY_EXISTS:  # another worker made it, or an earlier start
                raise HeronError(f"{config.ADMIN_PASSWORD.name}: {exc.message}", exc.error_code) from None
    if not store.has_admin():
        raise HeronError.invalid(
            f"--auth needs an admin user: set {config.ADMIN_PASSWORD.name} (creates user "
            f"{settings.admin_username!r}), or run 'heron users create NAME --admin --backend-store-uri "
            f"{settings.backend_store_uri}' first."
        )
    return AuthState(store, Role[settings.default_permission.upper()])


def create_app_from_env() -> FastAPI:
    """The app for the settings in the environment: the factory each ``heron server --workers N``
    worker process calls."""
    return create_app(Settings.from_env())
