"""benchmarks/instructions_openai.py: the script valgrind counts runs every case and mode (the counting
itself needs valgrind and minutes, so it is not run here; this keeps the script from rotting)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import instructions_openai  # noqa: E402


@pytest.mark.parametrize("kind", ["chat", "stream", "stream_no_usage"])
def test_the_counted_calls_run_and_are_stored(tmp_path: Path, kind: str) -> None:
    script, replies = tmp_path / "child.py", tmp_path / "replies.json"
    script.write_text(instructions_openai._CHILD.format(root=str(ROOT), bench=str(ROOT / "benchmarks")))
    instructions_openai._record_replies(replies)
    for mode in ("off", "on", "export"):
        done = subprocess.run([sys.executable, str(script), kind, mode, "3", str(replies)], capture_output=True,
                              text=True, timeout=120, cwd=tmp_path)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        if mode == "export":  # 20 warm-up calls and 3 counted ones, every trace written
            assert done.stdout.split() == ["exported", "23"]


def test_bad_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        instructions_openai.main(["--calls", "5"])
    assert "--calls must be at least 10" in capsys.readouterr().err
