"""heron.config: environment variables are read when asked for, including after os.environ changes."""

from __future__ import annotations

import os

import pytest

from heron import config


def test_environ_get_follows_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HERON_TEST_VARIABLE", raising=False)
    assert config.environ_get("HERON_TEST_VARIABLE") is None
    monkeypatch.setenv("HERON_TEST_VARIABLE", "dé☃")
    assert config.environ_get("HERON_TEST_VARIABLE") == "dé☃"
    monkeypatch.setenv("HERON_TEST_VARIABLE", "")
    assert config.environ_get("HERON_TEST_VARIABLE") == ""
    monkeypatch.delenv("HERON_TEST_VARIABLE")
    assert config.environ_get("HERON_TEST_VARIABLE") is None


def test_environ_get_follows_a_replaced_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_TEST_VARIABLE", "real")
    monkeypatch.setattr(os, "environ", {"HERON_TEST_VARIABLE": "replaced"})
    assert config.environ_get("HERON_TEST_VARIABLE") == "replaced"
    assert config.EXPERIMENT_ID.get() is None


def test_variables_read_the_environment_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_EXPERIMENT_ID", "7")
    assert config.EXPERIMENT_ID.get() == "7"
    monkeypatch.delenv("HERON_EXPERIMENT_ID")
    assert config.EXPERIMENT_ID.get() is None
    monkeypatch.setenv("HERON_SQLITE_BUSY_TIMEOUT_MS", "soon")
    with pytest.raises(config.HeronError, match="HERON_SQLITE_BUSY_TIMEOUT_MS='soon' is invalid"):
        config.SQLITE_BUSY_TIMEOUT_MS.get()
