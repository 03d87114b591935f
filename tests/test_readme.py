"""Every Python block in README.md stands, line for line, in an example that tests/test_docs_examples.py runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lines(code: str) -> list[str]:
    return [line.split("  #")[0].rstrip() for line in code.splitlines() if line.strip()]


def test_readme_python_blocks_are_run_as_examples() -> None:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert blocks
    examples = {p.name: _lines(p.read_text()) for p in (ROOT / "docs" / "examples").glob("*.py")}
    for block in blocks:
        wanted = _lines(block)
        homes = [name for name, lines in examples.items() if all(line in lines for line in wanted)]
        assert homes, f"README block not found in any docs/examples file:\n{block}"
