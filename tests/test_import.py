"""`import heron` is cheap and does nothing (STYLE.md): no heavy modules, no threads, fast."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import heron

REPO = Path(__file__).resolve().parents[1]
HEAVY = (
    "pandas",
    "sqlalchemy",
    "fastapi",
    "openai",
    "langchain",
    "langchain_core",
    "numpy",
    "alembic",
    "opentelemetry",
    "boto3",
    "starlette",
    "pydantic",
    "yaml",
    "click",
)


def _probe(code: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def test_import_heron_loads_no_heavy_module_and_starts_no_thread() -> None:
    result = _probe(
        "import sys, threading, json, os\n"
        "before = set(sys.modules)\n"
        "import heron\n"
        "loaded = sorted(set(sys.modules) - before)\n"
        "print(json.dumps({'loaded': loaded, 'threads': threading.active_count(),"
        " 'cwd_files': sorted(os.listdir('.'))}))"
    )
    loaded = result["loaded"]
    assert isinstance(loaded, list)
    heavy = [m for m in loaded if m.split(".")[0] in HEAVY]
    assert heavy == []
    assert result["threads"] == 1
    assert "heron.db" not in result["cwd_files"]  # type: ignore[operator]


def test_public_surface_is_pinned() -> None:
    assert heron.__all__ == sorted(heron.__all__)
    for name in heron.__all__:
        assert getattr(heron, name) is not None, name
    # MLflow's entry points exist under the same names.
    for name in (
        "start_run",
        "log_metric",
        "log_param",
        "search_runs",
        "MlflowClient",
        "set_experiment",
        "log_artifact",
        "log_dict",
        "end_run",
        "active_run",
        "last_active_run",
    ):
        assert name in heron.__all__


def test_a_strictly_typed_app_can_use_every_public_name(tmp_path: Path) -> None:
    """heron ships py.typed: an app checked with ``mypy --strict`` (no implicit re-exports) may use every
    name in ``heron.__all__``, lazy as they are at run time."""
    app = tmp_path / "typed_app.py"
    app.write_text("import heron\n\n" + "".join(f"print(heron.{name})\n" for name in heron.__all__))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", str(app)],
        capture_output=True, text=True, cwd=REPO, timeout=600,  # pyproject's settings (strict) and cache
    )
    errors = [line for line in result.stdout.splitlines() if line.startswith(str(app))]
    assert not errors, "\n".join(errors)
    assert result.returncode == 0, result.stdout + result.stderr
