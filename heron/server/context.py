"""What every route works with: the settings, the tracking Client over the server's store, the artifact
destination. One :class:`ServerContext` per app, built by ``create_app`` and reached with :data:`Ctx`."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from heron.errors import PERMISSION_DENIED, HeronError
from heron.prompts.client import MlflowClient
from heron.registry.sqlstore import SqlRegistryStore
from heron.registry.store import RegistryStore
from heron.server.destination import ArtifactDestination, not_serving, proxied_path
from heron.server.settings import Settings
from heron.tracing.sqlstore import SqlTraceStore
from heron.tracking.artifacts import ArtifactRepository, get_repository
from heron.tracking.store.sql import SqlTrackingStore
from heron.tracking.uri import resolve

__all__ = ["Ctx", "ServerClient", "ServerContext", "open_store"]


def open_store(settings: Settings) -> SqlTrackingStore:
    """The SQL store behind the server, created or migrated to the newest schema on first use.

    New experiments get ``settings.default_artifact_root``/<id> as their artifact location. Raises
    INVALID_PARAMETER_VALUE when the backend store URI is not a database.
    """
    location = resolve(settings.backend_store_uri)
    if location.kind != "sql":
        raise HeronError.invalid(
            f"--backend-store-uri {settings.backend_store_uri!r} is not a database: expected sqlite:///FILE, "
            "postgresql://... or a folder (a server cannot store into another server)."
        )
    return SqlTrackingStore(replace(location, artifact_root=settings.default_artifact_root))


class ServerClient(MlflowClient):
    """The ``MlflowClient`` users call (tracking, model registry, prompts), bound to the server's own
    store instance and a registry store on the same database.

    The server's store differs from the one ``Client(uri)`` would open only in its artifact root
    (``mlflow-artifacts:`` while proxying), so it is passed in rather than looked up by URI.
    """

    def __init__(self, store: SqlTrackingStore) -> None:
        super().__init__(store.location.uri)
        self.store = store
        self.registry = SqlRegistryStore(store.db)

    @property
    def _store(self) -> SqlTrackingStore:
        return self.store

    @property
    def _registry(self) -> RegistryStore:
        return self.registry


@dataclass(frozen=True)
class ServerContext:
    settings: Settings
    client: ServerClient
    destination: ArtifactDestination

    @property
    def store(self) -> SqlTrackingStore:
        return self.client.store

    @property
    def traces(self) -> SqlTraceStore:
        """The traces of the server's store, for the ``store=`` argument of the trace functions."""
        return SqlTraceStore(self.client.store.db)

    def proxy(self) -> ArtifactDestination:
        """The destination, for the artifact proxy routes; raises NOT_IMPLEMENTED when not proxying."""
        if not self.settings.serve_artifacts:
            raise not_serving()
        return self.destination

    def run_artifacts(self, artifact_uri: str) -> ArtifactRepository:
        """The repository holding a run's artifacts, as this server reaches it.

        Proxied URIs map into the destination. A local path is only read when it lies inside a local
        destination: the server does not list its own disk for whoever asks.
        """
        rel = proxied_path(artifact_uri)
        if rel is not None:
            return self.proxy().repository(rel)
        scheme = urlsplit(artifact_uri).scheme.lower()
        if scheme in ("", "file") or (len(scheme) == 1 and os.name == "nt"):
            repo = get_repository(artifact_uri)
            root = getattr(repo, "root", None)
            if not isinstance(root, str) or not self.destination.contains_local(root):
                raise HeronError(
                    f"The run's artifacts are in the local folder {artifact_uri!r}, outside this server's "
                    "artifacts destination: read them where they were written.",
                    PERMISSION_DENIED,
                )
            return repo
        return get_repository(artifact_uri)

    def check_artifact_location(self, location: str | None) -> str | None:
        """A client-given experiment artifact location, checked: no relative paths (they would be
        relative to the server's working directory) and no climbing out of the proxy."""
        if not location:
            return None
        scheme = urlsplit(location).scheme.lower()
        proxied_path(location)  # validates mlflow-artifacts:/ and proxy URLs
        if scheme == "" and not os.path.isabs(location):
            raise HeronError.invalid(
                f"artifact_location {location!r} is a relative path: give an absolute path, file:///..., "
                "s3://bucket/prefix or mlflow-artifacts:/prefix."
            )
        return location


async def _context(request: Request) -> ServerContext:
    context: ServerContext = request.app.state.heron
    return context


Ctx = Annotated[ServerContext, Depends(_context)]
"""The app's ServerContext, as a route parameter: ``def route(ctx: Ctx) -> ...``."""
