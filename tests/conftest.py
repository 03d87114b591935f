"""Shared fixtures: every store test runs on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import heron
from heron.tracking import fluent
from heron.tracking.stores import clear_store_cache
from tests.pgserver import PostgresServer, start_postgres

pytest_plugins = ["tests.fakes.fixtures"]


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """One PostgreSQL server per test session (per xdist worker), on 127.0.0.1, stopped at the end."""
    server = start_postgres(tmp_path_factory.mktemp("pg"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session", autouse=True)
def _own_temp_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Temporary files the code under test makes (``download_artifacts`` without ``dst_path``, the docs'
    examples and servers in subprocesses) go to one directory per test session (per xdist worker),
    removed at its end, instead of piling up in /tmp. A short path: Chromium puts a Unix socket in it."""
    tmp_path_factory.getbasetemp()  # pytest's own directory stays where it is (it keeps the last three)
    folder = tempfile.mkdtemp(prefix="heron-tests-", dir=tempfile.gettempdir())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", folder)
        patch.setattr(tempfile, "tempdir", folder)
        yield
    shutil.rmtree(folder, ignore_errors=True)


def _reset_heron() -> None:
    heron.tracing.reset_for_tests()  # drop queued spans before the stores they would go to close
    fluent.reset_for_tests()
    heron.set_tracking_uri(None)
    clear_store_cache()


@pytest.fixture(autouse=True)
def _isolated_heron(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees another's tracking URI, active run or experiment; the default store is per test."""
    for name in list(os.environ):
        if name.startswith("HERON_") or name.startswith("MLFLOW_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    _reset_heron()
    yield
    _reset_heron()


@pytest.fixture(params=["sqlite", "postgres"])
def tracking_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store on each backend, set as the tracking URI."""
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path / 'store' / 'heron.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        uri = server.create_database(f"t_{uuid.uuid4().hex[:12]}")
    os.environ["HERON_ARTIFACT_ROOT"] = str(tmp_path / "artifacts")
    heron.set_tracking_uri(uri)
    try:
        yield uri
    finally:
        os.environ.pop("HERON_ARTIFACT_ROOT", None)


@pytest.fixture
def sqlite_uri(tmp_path: Path) -> str:
    uri = f"sqlite:///{tmp_path / 'heron.db'}"
    heron.set_tracking_uri(uri)
    return uri
