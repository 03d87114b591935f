"""A throwaway PostgreSQL server on 127.0.0.1 for the test-suite.

`start_postgres()` runs `initdb` into a fresh temporary directory and starts the server with
durability switched off (tests never need to survive a crash); `PostgresServer.create_database()`
hands out empty databases; `stop()` kills the server and deletes the directory.

PostgreSQL refuses to run as root, so under root the binaries run as the `postgres` OS user and
the data directory is created under the system temp dir, which that user can reach (pytest's base
temp dir under /tmp/pytest-of-root is 0700).
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["HOST", "SUPERUSER", "PostgresServer", "find_postgres_bin", "start_postgres"]

SUPERUSER = "heron"
HOST = "127.0.0.1"
_RUN_AS_WHEN_ROOT = "postgres"
# The system temp dir as it was at import: tests point tempfile at their own (long, root-only) directory.
_SYSTEM_TMP = tempfile.gettempdir()
_START_ATTEMPTS = 3
_LOG_TAIL_CHARS = 4000


def find_postgres_bin() -> Path:
    """The directory holding `initdb` and `pg_ctl`: from PATH, else the newest /usr/lib/postgresql/*/bin.

    Raises RuntimeError when neither has them; `make test` installs them.
    """
    on_path = shutil.which("initdb")
    if on_path:
        bin_dir = Path(on_path).resolve().parent
        if (bin_dir / "pg_ctl").exists():
            return bin_dir
    candidates = [Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")]
    candidates = [p for p in candidates if (p / "initdb").exists() and (p / "pg_ctl").exists()]
    if candidates:
        return max(candidates, key=lambda p: _version_key(p.parent.name))
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or in "
        "/usr/lib/postgresql/*/bin; the test-suite needs a real PostgreSQL server. "
        "Run `make test`, which installs them (scripts/ensure-postgres.sh)."
    )


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """A running PostgreSQL server owned by this process. `stop()` is idempotent and thread-safe."""

    bin_dir: Path
    root: Path  # temporary directory holding data/ and sock/; removed by stop()
    port: int
    run_as: str | None  # OS user the server runs as, None for the current user
    log_copy: Path | None = None  # where stop() keeps a copy of the server log
    _stopped: bool = field(default=False, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "postgres.log"

    def uri(self, dbname: str = "postgres") -> str:
        """A libpq-style URI for `dbname` on this server (no password: trust auth)."""
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """Create an empty database `name` and return its URI. Blocks; safe to call from any thread.

        Raises RuntimeError if the server is stopped, psycopg.Error if PostgreSQL refuses.
        """
        import psycopg
        from psycopg import sql

        if self._stopped:
            raise RuntimeError(f"PostgreSQL server on port {self.port} is stopped; cannot create {name!r}.")
        with psycopg.connect(self.uri(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.uri(name)

    def stop(self) -> None:
        """Kill the server (`pg_ctl -m immediate stop`) and delete its directory. Safe to call twice."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        atexit.unregister(self.stop)
        try:
            if (self.data_dir / "postmaster.pid").exists():
                _run(
                    [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"],
                    run_as=self.run_as,
                    cwd=self.root,
                    check=False,
                )
            if self.log_copy is not None and self.log_file.exists():
                try:
                    shutil.copyfile(self.log_file, self.log_copy)
                except OSError:
                    pass  # only a debugging aid
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _run(
    args: list[str], *, run_as: str | None, cwd: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    if run_as is not None:
        entry = pwd.getpwnam(run_as)
        env.update(HOME=entry.pw_dir, USER=run_as, LOGNAME=run_as)
        result = subprocess.run(
            args,
            cwd=cwd,
            env=env,
            user=entry.pw_uid,
            group=entry.pw_gid,
            extra_groups=[],
            capture_output=True,
            text=True,
            timeout=120,
        )
    else:
        result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed with exit code {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result


def _log_tail(path: Path) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return text[-_LOG_TAIL_CHARS:]


def start_postgres(base_dir: Path | None = None) -> PostgresServer:
    """Initialise and start a PostgreSQL server on a free port of 127.0.0.1; blocks until it accepts connections.

    The server runs as the current user, or as the `postgres` OS user when the current user is root.
    `base_dir` (e.g. a pytest temp dir) receives a copy of the server log when the server stops.
    Raises RuntimeError if the binaries are missing or the server does not start.
    The server is stopped at interpreter exit if the caller never calls `stop()`.
    """
    bin_dir = find_postgres_bin()
    run_as: str | None = None
    owner: tuple[int, int] | None = None
    if os.geteuid() == 0:
        run_as = _RUN_AS_WHEN_ROOT
        try:
            entry = pwd.getpwnam(run_as)
        except KeyError:
            raise RuntimeError(
                f"Running as root, PostgreSQL needs an unprivileged OS user {run_as!r} to run as, "
                "but none exists; create it (e.g. `useradd --system postgres`) or run the tests as non-root."
            ) from None
        owner = (entry.pw_uid, entry.pw_gid)
    # A short path under the system temp dir: reachable by `run_as` and short enough for a Unix socket path.
    root = Path(tempfile.mkdtemp(prefix="heron-pg-", dir=_SYSTEM_TMP))
    if owner is not None:
        os.chown(root, *owner)
    server = PostgresServer(
        bin_dir=bin_dir,
        root=root,
        port=0,
        run_as=run_as,
        log_copy=(base_dir / "postgres.log") if base_dir is not None else None,
    )
    atexit.register(server.stop)
    try:
        server.socket_dir.mkdir(mode=0o700)
        if owner is not None:
            os.chown(server.socket_dir, *owner)
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(server.data_dir),
                "-A",
                "trust",
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            run_as=run_as,
            cwd=root,
        )
        _start(server)
    except BaseException:
        server.stop()
        raise
    return server


def _start(server: PostgresServer) -> None:
    """`pg_ctl start` on a free port, retrying with another port if a parallel process took it first."""
    failure = ""
    for _ in range(_START_ATTEMPTS):
        server.port = _free_port()
        options = (
            f"-h {HOST} -p {server.port} -k {server.socket_dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        result = _run(
            [
                str(server.bin_dir / "pg_ctl"),
                "-D",
                str(server.data_dir),
                "-l",
                str(server.log_file),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            ],
            run_as=server.run_as,
            cwd=server.root,
            check=False,
        )
        if result.returncode == 0:
            return
        log = _log_tail(server.log_file)
        failure = (
            f"pg_ctl start exited with {result.returncode}:\n{result.stdout}{result.stderr}\n"
            f"--- server log ({server.log_file}) ---\n{log}"
        )
        if "could not bind" not in log and "already in use" not in log:
            break
    raise RuntimeError(f"PostgreSQL did not start on {HOST}:{server.port}. {failure}")
