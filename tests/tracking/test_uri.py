from __future__ import annotations

from pathlib import Path

import pytest

import heron
from heron.errors import HeronError
from heron.tracking.uri import resolve


def test_default_is_heron_db_in_the_working_directory(tmp_path: Path) -> None:
    location = resolve(None)
    assert location.db_url == f"sqlite+pysqlite:///{tmp_path / 'heron.db'}"
    assert location.artifact_root == str(tmp_path / "heron-artifacts")
    with heron.start_run() as run:
        heron.log_metric("m", 1)
    assert (tmp_path / "heron.db").exists()
    assert run.info.artifact_uri.startswith(str(tmp_path / "heron-artifacts"))


@pytest.mark.parametrize("form", ["file:{p}", "{p}", "file://{p}"])
def test_a_folder_holds_database_and_artifacts(tmp_path: Path, form: str) -> None:
    folder = tmp_path / "mlruns"
    heron.set_tracking_uri(form.format(p=folder))
    with heron.start_run() as run:
        heron.log_text("hello", "note.txt")
    assert (folder / "heron.db").exists()
    assert Path(run.info.artifact_uri, "note.txt").read_text() == "hello"
    assert run.info.artifact_uri.startswith(str(folder / "heron-artifacts"))


def test_relative_folder_like_the_guides(tmp_path: Path) -> None:
    heron.set_tracking_uri("file:./mlruns")
    heron.create_experiment("x")
    assert (tmp_path / "mlruns" / "heron.db").exists()


def test_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_TRACKING_URI", f"sqlite:///{tmp_path / 'env.db'}")
    heron.create_experiment("from-env")
    assert (tmp_path / "env.db").exists()
    assert heron.get_tracking_uri() == f"sqlite:///{tmp_path / 'env.db'}"


def test_http_uris_name_a_server() -> None:
    location = resolve("http://127.0.0.1:5000")
    assert location.kind == "rest"


def test_postgres_uris_use_psycopg3() -> None:
    assert resolve("postgresql://u:p@h:5432/db").db_url == "postgresql+psycopg://u:p@h:5432/db"
    assert resolve("postgres://u@h/db").db_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("uri", "message"),
    [("sqlite://", "names no database file"), ("sqlite:///:memory:", "in-memory"), ("ftp://host/x", "scheme 'ftp'")],
)
def test_bad_uris(uri: str, message: str) -> None:
    with pytest.raises(HeronError, match=message) as info:
        resolve(uri)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
