#!/usr/bin/env bash
# `make bench`: benchmarks Heron and MLflow side by side and writes docs/benchmarks.md.
# MLflow lives in its own venv (benchmarks/.mlflow-venv, gitignored) so it never leaks into Heron's.
# Extra arguments go to benchmarks/report.py (e.g. --quick for a smoke run, written elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."

HERON_PY=.venv/bin/python
MLFLOW_VENV=benchmarks/.mlflow-venv
REQ=benchmarks/requirements-mlflow.txt

if [ ! -x "$MLFLOW_VENV/bin/python" ]; then
  # Same base interpreter as Heron's venv, so both sides run on the same Python.
  base_python=$("$HERON_PY" -c 'import sys; print(sys._base_executable)')
  echo "bench: creating $MLFLOW_VENV with $("$base_python" --version)" >&2
  "$base_python" -m venv "$MLFLOW_VENV"
  "$MLFLOW_VENV/bin/python" -m pip install --quiet --upgrade pip
fi
# Install (or bring up to date) the pinned MLflow when the requirements changed since the last install.
if ! cmp -s "$REQ" "$MLFLOW_VENV/.installed"; then
  echo "bench: installing $(grep -v '^#' "$REQ" | xargs) into $MLFLOW_VENV" >&2
  "$MLFLOW_VENV/bin/python" -m pip install --quiet -r "$REQ"
  cp "$REQ" "$MLFLOW_VENV/.installed"
fi

exec "$HERON_PY" benchmarks/report.py "$@"
