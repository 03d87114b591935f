#!/usr/bin/env bash
# Make sure PostgreSQL server binaries (initdb, pg_ctl) exist for the test-suite (tests/pgserver.py).
# Exits 0 if they are on PATH or in /usr/lib/postgresql/*/bin; otherwise installs Debian's
# `postgresql` package (root only) or says what to run.
set -euo pipefail

have_postgres() {
    command -v initdb >/dev/null 2>&1 && return 0
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && return 0
    done
    return 1
}

if have_postgres; then
    exit 0
fi

install_cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql"

if [[ "$(id -u)" -ne 0 ]]; then
    echo "PostgreSQL server binaries (initdb, pg_ctl) not found; the tests need a real PostgreSQL server." >&2
    echo "Install them as root:  sudo sh -c '$install_cmd'" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "PostgreSQL server binaries (initdb, pg_ctl) not found and apt-get is unavailable;" >&2
    echo "install PostgreSQL (>= 13) with your package manager so that initdb is on PATH." >&2
    exit 1
fi

echo "Installing PostgreSQL server binaries for the test-suite..." >&2
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql

if ! have_postgres; then
    echo "Installed the postgresql package but still cannot find initdb in /usr/lib/postgresql/*/bin." >&2
    exit 1
fi
