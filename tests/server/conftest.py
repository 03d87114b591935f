"""Live servers for the server tests: a fresh store per test, on SQLite and (where asked) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import heron
from heron.server import BackgroundServer, Settings
from tests.pgserver import PostgresServer
from tests.tracking import test_artifacts

# A real S3 API (moto) and a fresh bucket, shared with the artifact tests.
moto_endpoint = test_artifacts.moto_endpoint
s3_bucket = test_artifacts.s3_bucket


def server_settings(tmp_path: Path, store_uri: str | None = None, **kwargs: object) -> Settings:
    return Settings(
        backend_store_uri=store_uri or f"sqlite:///{tmp_path / 'server' / 'heron.db'}",
        artifacts_destination=str(tmp_path / "server" / "artifacts"),
        access_log=False,
        **kwargs,  # type: ignore[arg-type]
    )


def store_uri_for(backend: str, request: pytest.FixtureRequest) -> str | None:
    """The store a test server gets: None (its default SQLite file under tmp_path) for a SQLite backend,
    else a fresh database on the session's PostgreSQL server."""
    if "postgres" not in backend:
        return None
    pg: PostgresServer = request.getfixturevalue("postgres_server")
    return pg.create_database(f"s_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[BackgroundServer]:
    """A server on a fresh SQLite store, artifacts proxied into tmp_path/server/artifacts."""
    with BackgroundServer(server_settings(tmp_path)) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgres"])
def remote_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A live server on a fresh store of each backend, set as Heron's tracking URI."""
    store_uri = store_uri_for(request.param, request)
    with BackgroundServer(server_settings(tmp_path, store_uri)) as server:
        heron.set_tracking_uri(server.url)
        yield server.url


@pytest.fixture(params=["server-sqlite", "server-postgres"])
def suite_tracking_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """For running an embedded-store suite against a server: a live server on a fresh store of each
    backend, set as the tracking URI, with HERON_ARTIFACT_ROOT in tmp_path. Traces are flushed before
    the server stops. A module overrides tests/conftest.py's ``tracking_uri`` with it."""
    store_uri = store_uri_for(request.param, request)
    with BackgroundServer(server_settings(tmp_path, store_uri)) as server:
        os.environ["HERON_ARTIFACT_ROOT"] = str(tmp_path / "artifacts")
        heron.set_tracking_uri(server.url)
        try:
            yield server.url
        finally:
            heron.flush_traces(30)  # before the server stops
            os.environ.pop("HERON_ARTIFACT_ROOT", None)
