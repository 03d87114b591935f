"""Every example in docs/examples runs, as a user would run it, against a fresh store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "docs" / "examples").glob("*.py"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(example: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_", "OPENAI_"))}
    env["HERON_TRACKING_URI"] = f"sqlite:///{tmp_path / 'heron.db'}"
    if "openai" in example.read_text() or example.name.startswith(("openai_", "langchain_")):
        fake = request.getfixturevalue("fake_openai")
        env["OPENAI_BASE_URL"] = fake.base_url
        env["OPENAI_API_KEY"] = "test-key"
    result = subprocess.run(
        [sys.executable, str(example)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{example.name} failed:\n{result.stdout}\n{result.stderr}"
