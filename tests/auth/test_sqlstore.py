"""The auth store on SQLite and PostgreSQL: secrets are stored only as hashes, writes validate first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

import heron
from heron.auth import EXPERIMENT, REGISTERED_MODEL, Role, SqlAuthStore
from heron.auth.secrets import hash_password, verify_password
from heron.errors import HeronError
from heron.tracking.store.schema import api_tokens, users
from heron.tracking.stores import get_sql_store


@pytest.fixture
def store(tracking_uri: str) -> SqlAuthStore:
    return SqlAuthStore(get_sql_store(tracking_uri).db)


def test_passwords_are_salted_scrypt_hashes() -> None:
    one, two = hash_password("correct horse"), hash_password("correct horse")
    assert one != two and one.startswith("scrypt$") and "correct horse" not in one
    assert verify_password("correct horse", one) and not verify_password("correct hors", one)
    assert not verify_password("x", "not-a-hash") and not verify_password("x", "scrypt$1$2$3$!!$!!")


def test_users_and_tokens_keep_only_hashes(store: SqlAuthStore) -> None:
    store.create_user("ann", "ann-password", is_admin=True)
    token, secret = store.create_token("ann", "ci")
    with store.db.read() as conn:
        stored = conn.execute(sa.select(users.c.password_hash)).scalar_one()
        token_hash = conn.execute(sa.select(api_tokens.c.token_hash)).scalar_one()
    assert "ann-password" not in stored and secret not in token_hash and len(token_hash) == 64
    assert store.check_password("ann", "ann-password") is not None
    assert store.check_password("ann", "wrong-password") is None and store.check_password("bob", "x") is None
    found = store.check_token(secret)
    assert found is not None and found.username == "ann" and found.is_admin
    assert store.list_tokens("ann")[0].last_used_time is not None
    store.revoke_token("ann", "ci")
    assert store.check_token(secret) is None and store.list_tokens()[0].revoked
    with pytest.raises(HeronError, match="no active token"):
        store.revoke_token("ann", "ci")
    assert token.name == "ci"


def test_bad_input_writes_nothing(store: SqlAuthStore) -> None:
    for username, password, word in [("", "long-enough", "username"), ("a b", "long-enough", "username"),
                                     ("x" * 257, "long-enough", "username"), ("ann", "short", "password")]:
        with pytest.raises(HeronError, match=word):
            store.create_user(username, password)
    assert store.list_users() == []
    store.create_user("ann", "ann-password")
    with pytest.raises(HeronError, match="already exists"):
        store.create_user("ann", "other-password")
    for kind, key, permission, word in [(EXPERIMENT, "0", "WRITE", "permission"), (EXPERIMENT, "abc", "READ", "experiment_id"),
                                        (EXPERIMENT, "999", "READ", "does not exist"), ("team", "0", "READ", "kind")]:
        with pytest.raises(HeronError, match=word):
            store.create_permission(kind, key, "ann", permission)
    assert store.roles_of(EXPERIMENT, store.get_user("ann").id) == {}


def test_permissions_and_cascade(store: SqlAuthStore) -> None:
    ann = store.create_user("ann", "ann-password")
    experiment_id = heron.create_experiment("perm")
    store.create_permission(EXPERIMENT, experiment_id, "ann", "edit")
    store.create_permission(REGISTERED_MODEL, "qa", "ann", "READ")
    assert store.role_of(EXPERIMENT, experiment_id, ann.id) == Role.EDIT
    store.update_permission(EXPERIMENT, experiment_id, "ann", "MANAGE")
    assert store.get_permission(EXPERIMENT, experiment_id, "ann") == Role.MANAGE
    assert store.roles_of(REGISTERED_MODEL, ann.id) == {"qa": Role.READ}
    store.delete_permission(REGISTERED_MODEL, "qa", "ann")
    with pytest.raises(HeronError, match="no permission"):
        store.get_permission(REGISTERED_MODEL, "qa", "ann")
    store.create_token("ann", "ci")
    store.delete_user("ann")
    assert store.list_tokens() == [] and store.roles_of(EXPERIMENT, ann.id) == {}


def _heron(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "heron.cli", *args], capture_output=True, text=True, input=stdin,
                          timeout=120)


def test_cli_users_tokens_permissions(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    made = _heron("users", "create", "root", "--admin", "--backend-store-uri", uri, stdin="root-password\nroot-password\n")
    assert made.returncode == 0 and "Created admin root" in made.stdout, made.stderr
    assert _heron("users", "create", "ann", "--password", "ann-password", "--backend-store-uri", uri).returncode == 0
    bad = _heron("users", "create", "bob", "--password", "short", "--backend-store-uri", uri)
    assert bad.returncode == 1 and "password" in bad.stderr
    listed = _heron("users", "list", "--backend-store-uri", uri).stdout.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [["ann", "user"], ["root", "admin"]]
    created = _heron("tokens", "create", "ann", "--name", "ci", "--backend-store-uri", uri)
    secret = created.stdout.strip()
    assert secret.startswith("heron_") and "shown once" in created.stderr
    tokens = _heron("tokens", "list", "--backend-store-uri", uri).stdout
    assert "ann\tci" in tokens and secret not in tokens and "active" in tokens
    assert _heron("tokens", "revoke", "ann", "--name", "ci", "--backend-store-uri", uri).returncode == 0
    assert "revoked" in _heron("tokens", "list", "ann", "--backend-store-uri", uri).stdout
    granted = _heron("permissions", "grant", "ann", "EDIT", "--experiment-id", "0", "--backend-store-uri", uri)
    assert granted.returncode == 0, granted.stderr
    assert _heron("permissions", "grant", "ann", "manage", "-x", "0", "--backend-store-uri", uri).returncode == 0
    assert _heron("permissions", "list", "ann", "--backend-store-uri", uri).stdout == "experiment\t0\tMANAGE\n"
    assert _heron("permissions", "revoke", "ann", "-x", "0", "--backend-store-uri", uri).returncode == 0
    both = _heron("permissions", "grant", "ann", "READ", "-x", "0", "-n", "qa", "--backend-store-uri", uri)
    assert both.returncode != 0 and "exactly one" in both.stderr
    assert _heron("users", "delete", "ann", "--backend-store-uri", uri).returncode == 0
    gone = _heron("users", "delete", "ann", "--backend-store-uri", uri)
    assert gone.returncode == 1 and "does not exist" in gone.stderr
