"""The throwaway PostgreSQL server the store tests run on."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg
import pytest

from tests.pgserver import HOST, start_postgres


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


def test_server_hands_out_separate_databases_and_stops(tmp_path: Path) -> None:
    server = start_postgres(tmp_path)
    try:
        first = server.create_database("heron_first")
        second = server.create_database("heron_second")
        assert first == f"postgresql://heron@127.0.0.1:{server.port}/heron_first"
        for uri, name in [(first, "heron_first"), (second, "heron_second")]:
            with psycopg.connect(uri) as conn:
                assert conn.execute("select 1, current_database(), current_user").fetchone() == (
                    1,
                    name,
                    "heron",
                )
        with psycopg.connect(first, autocommit=True) as conn:
            conn.execute("create table t (x int)")
        with psycopg.connect(second) as conn:
            # databases are independent: the table made in the first does not exist in the second
            assert conn.execute("select to_regclass('public.t')").fetchone() == (None,)
    finally:
        server.stop()

    assert not _accepts_connections(server.port)
    assert not server.root.exists()
    assert (tmp_path / "postgres.log").exists()
    server.stop()  # idempotent
    with pytest.raises(RuntimeError, match="stopped"):
        server.create_database("too_late")
