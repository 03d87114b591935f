"""Processes creating versions of one name at the same moment get distinct consecutive numbers, on SQLite
and PostgreSQL (issue 4: 8 processes x 20 versions -> 160 distinct versions, no error)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import heron
from heron import MlflowClient

REPO = Path(__file__).resolve().parents[2]

_WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    import heron
    uri, go, worker, count, how = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    client = heron.MlflowClient(uri)
    client.search_registered_models()  # open the store before the start line
    while not os.path.exists(go):
        time.sleep(0.001)
    versions = []
    for i in range(count):
        if how == "create":
            versions.append(client.create_model_version("race", f"s3://b/{worker}/{i}").version)
        else:
            heron.set_tracking_uri(uri)
            versions.append(heron.register_model(f"s3://b/{worker}/{i}", "fresh").version)
    print(json.dumps(versions))
    """
)


def _race(uri: str, tmp_path: Path, how: str, workers: int, count: int) -> list[list[int]]:
    go = tmp_path / f"go-{how}"
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, uri, str(go), str(w), str(count), how],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    return results


def test_eight_processes_create_versions_of_one_name(tracking_uri: str, tmp_path: Path) -> None:
    MlflowClient().create_registered_model("race")
    results = _race(tracking_uri, tmp_path, "create", workers=8, count=20)
    every = [v for r in results for v in r]
    assert sorted(every) == list(range(1, 161))  # 160 distinct, consecutive
    for r in results:
        assert r == sorted(r)  # each process sees its own versions in order
    stored = MlflowClient().search_model_versions("name = 'race'")
    assert sorted(v.version for v in stored) == list(range(1, 161))
    assert len({v.source for v in stored}) == 160


def test_processes_registering_a_new_name_at_once_agree_on_it(tracking_uri: str, tmp_path: Path) -> None:
    results = _race(tracking_uri, tmp_path, "register", workers=4, count=5)
    assert sorted(v for r in results for v in r) == list(range(1, 21))
    assert [m.name for m in heron.search_registered_models()] == ["fresh"]
