"""Artifact repositories (local folder and S3 on a real moto server) held to one contract, and the
artifact API on top of them: Client methods, fluent functions and ``heron.artifacts``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import heron
import heron.artifacts
from heron.errors import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST, HeronError
from heron.tracking.artifacts import (
    ArtifactRepository,
    LocalArtifactRepository,
    S3ArtifactRepository,
    get_repository,
)
from heron.tracking.artifacts.paths import file_path, relative_path
from heron.tracking.artifacts.s3 import endpoint_url
from heron.tracking.client import Client
from heron.tracking.entities import FileInfo

# ------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A real S3 API (moto) on 127.0.0.1, one per module, stopped at the end."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket on the moto server, with dummy credentials and the endpoint in the environment."""
    import boto3

    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("HERON_S3_ENDPOINT_URL", moto_endpoint)
    bucket = f"heron-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket=bucket)
    return bucket


def _bucket_keys(bucket: str) -> list[str]:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint_url())
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return sorted(keys)


@dataclass
class Backend:
    """A repository under test and a way to see everything stored outside its root."""

    name: str
    repo: ArtifactRepository
    outside: Callable[[], list[str]]


def _files_under(folder: Path, exclude: Path) -> list[str]:
    return sorted(
        str(p) for p in folder.rglob("*") if (p.is_file() or p.is_symlink()) and exclude not in (p, *p.parents)
    )


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        root = tmp_path / "store" / "1" / "run1" / "artifacts"
        (tmp_path / "store" / "secret.txt").parent.mkdir(parents=True)
        (tmp_path / "store" / "secret.txt").write_text("outside")
        return Backend("local", get_repository(str(root)), lambda: _files_under(tmp_path, root))
    bucket: str = request.getfixturevalue("s3_bucket")
    prefix = "exp/1/run1/artifacts"
    return Backend(
        "s3",
        get_repository(f"s3://{bucket}/{prefix}"),
        lambda: [k for k in _bucket_keys(bucket) if not k.startswith(prefix + "/")],
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A local folder to log: a.txt, sub/b.txt, sub/deeper/c.bin."""
    src = tmp_path / "src"
    (src / "sub" / "deeper").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "sub" / "b.txt").write_text("bravo!")
    (src / "sub" / "deeper" / "c.bin").write_bytes(b"\x00\x01\x02")
    return src


def _error(excinfo: pytest.ExceptionInfo[HeronError]) -> HeronError:
    return excinfo.value


# ------------------------------------------------------------------------------------ path validation


@pytest.mark.parametrize(
    ("given", "expected"),
    [(None, ""), ("", ""), (".", ""), ("./", ""), ("a", "a"), ("a/b/", "a/b"), ("a//b", "a/b"), ("./a/./b", "a/b")],
)
def test_relative_path_normalises(given: str | None, expected: str) -> None:
    assert relative_path(given) == expected


BAD_PATHS = [
    "../x",
    "..",
    "a/../../x",
    "a/..",
    "/etc/passwd",
    "//server/share/x",
    "C:\\x",
    "C:x",
    "c:/x",
    "a\\..\\..\\x",
    "..\\x",
    "a\x00b",
]


@pytest.mark.parametrize("bad", BAD_PATHS)
def test_relative_path_rejects(bad: str) -> None:
    with pytest.raises(HeronError) as excinfo:
        relative_path(bad)
    assert excinfo.value.error_code == INVALID_PARAMETER_VALUE
    assert repr(bad) in excinfo.value.message
    assert "expected a relative path" in excinfo.value.message


@pytest.mark.parametrize("bad", ["", ".", "a/", "a/.", None, 3])
def test_file_path_needs_a_file_name(bad: Any) -> None:
    with pytest.raises(HeronError) as excinfo:
        file_path(bad)
    assert excinfo.value.error_code == INVALID_PARAMETER_VALUE


# --------------------------------------------------------------------------------- get_repository


def test_get_repository_by_scheme(tmp_path: Path) -> None:
    assert isinstance(get_repository(str(tmp_path)), LocalArtifactRepository)
    local = get_repository(tmp_path.as_uri())
    assert isinstance(local, LocalArtifactRepository) and local.root == str(tmp_path)
    assert isinstance(get_repository("relative/dir"), LocalArtifactRepository)
    s3 = get_repository("s3://bucket/some/prefix/")
    assert isinstance(s3, S3ArtifactRepository) and (s3.bucket, s3.prefix) == ("bucket", "some/prefix")


@pytest.mark.parametrize("uri", ["gs://bucket/x", "ftp://host/x", ""])
def test_get_repository_unknown_scheme(uri: str) -> None:
    with pytest.raises(HeronError) as excinfo:
        get_repository(uri)
    assert excinfo.value.error_code == INVALID_PARAMETER_VALUE
    if uri:
        assert "s3://bucket/prefix" in excinfo.value.message and "file:///" in excinfo.value.message


def test_file_uri_with_a_host_is_refused() -> None:
    with pytest.raises(HeronError, match="must be local"):
        get_repository("file://otherhost/x")


def test_importing_artifacts_loads_no_heavy_library() -> None:
    code = (
        "import sys, heron, heron.tracking.artifacts, heron.tracking.artifact_api;"
        "bad = [m for m in ('boto3', 'botocore', 'pandas', 'yaml', 'matplotlib', 'PIL') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_s3_endpoint_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HERON_S3_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    assert endpoint_url() is None
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://aws")
    assert endpoint_url() == "http://aws"
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", "http://mlflow")
    assert endpoint_url() == "http://mlflow"
    monkeypatch.setenv("HERON_S3_ENDPOINT_URL", "http://heron")
    assert endpoint_url() == "http://heron"


# ------------------------------------------------------------------- the contract, local and S3 alike


def test_write_and_read_bytes(backend: Backend) -> None:
    repo = backend.repo
    repo.write_bytes("a/b.txt", b"one")
    assert repo.read_bytes("a/b.txt") == b"one"
    repo.write_bytes("a/b.txt", b"two, longer")  # replaces
    assert repo.read_bytes("a/b.txt") == b"two, longer"
    repo.write_bytes("a//./c.txt", b"normalised")
    assert repo.read_bytes("a/c.txt") == b"normalised"
    assert [f.path for f in repo.list_artifacts("a")] == ["a/b.txt", "a/c.txt"]


def test_read_missing_file(backend: Backend) -> None:
    backend.repo.write_bytes("dir/x.txt", b"x")
    for missing in ("nope.txt", "dir/nope.txt", "dir"):
        with pytest.raises(HeronError) as excinfo:
            backend.repo.read_bytes(missing)
        assert excinfo.value.error_code == RESOURCE_DOES_NOT_EXIST
        assert repr(missing) in excinfo.value.message


def test_log_artifact(backend: Backend, tree: Path) -> None:
    repo = backend.repo
    repo.log_artifact(tree / "a.txt")
    repo.log_artifact(str(tree / "sub" / "b.txt"), "nested/dir")
    assert repo.list_artifacts() == [FileInfo("a.txt", False, 5), FileInfo("nested", True, None)]
    assert repo.list_artifacts("nested/dir") == [FileInfo("nested/dir/b.txt", False, 6)]
    assert repo.read_bytes("nested/dir/b.txt") == b"bravo!"


def test_log_artifact_needs_an_existing_file(backend: Backend, tree: Path) -> None:
    for source in (tree / "missing.txt", tree / "sub"):
        with pytest.raises(HeronError) as excinfo:
            backend.repo.log_artifact(source)
        assert excinfo.value.error_code == INVALID_PARAMETER_VALUE
    assert backend.repo.list_artifacts() == []


def test_log_artifacts_and_list_direct_children(backend: Backend, tree: Path) -> None:
    repo = backend.repo
    (tree / "empty").mkdir()  # an empty folder is not an artifact, on either backend
    repo.log_artifacts(tree)
    repo.log_artifacts(str(tree / "sub"), "copy/")
    assert repo.list_artifacts() == [
        FileInfo("a.txt", False, 5),
        FileInfo("copy", True, None),
        FileInfo("sub", True, None),
    ]
    assert repo.list_artifacts("sub") == [FileInfo("sub/b.txt", False, 6), FileInfo("sub/deeper", True, None)]
    assert repo.list_artifacts("sub/deeper/") == [FileInfo("sub/deeper/c.bin", False, 3)]
    assert repo.list_artifacts("copy/deeper") == [FileInfo("copy/deeper/c.bin", False, 3)]
    assert repo.list_artifacts("a.txt") == []  # a file has no children, as in MLflow
    assert repo.list_artifacts("missing") == []


def test_log_artifacts_needs_a_folder(backend: Backend, tree: Path) -> None:
    with pytest.raises(HeronError, match="not an existing folder"):
        backend.repo.log_artifacts(tree / "a.txt")


def test_download_a_file(backend: Backend, tree: Path, tmp_path: Path) -> None:
    backend.repo.log_artifacts(tree, "data")
    dst = tmp_path / "dst"
    local = backend.repo.download_artifacts("data/sub/b.txt", dst)
    assert local == str(dst / "data" / "sub" / "b.txt")
    assert Path(local).read_text() == "bravo!"
    # dst defaults to a new temporary folder
    other = backend.repo.download_artifacts("data/a.txt")
    assert Path(other).read_text() == "alpha" and Path(other).parts[-2:] == ("data", "a.txt")


def test_download_a_folder_and_the_root(backend: Backend, tree: Path, tmp_path: Path) -> None:
    backend.repo.log_artifacts(tree, "data")
    backend.repo.write_bytes("top.txt", b"top")
    local = backend.repo.download_artifacts("data/sub", tmp_path / "one")
    assert local == str(tmp_path / "one" / "data" / "sub")
    assert _files_under(Path(local), tmp_path / "none") == [
        str(Path(local) / "b.txt"),
        str(Path(local) / "deeper" / "c.bin"),
    ]
    root = backend.repo.download_artifacts("", tmp_path / "all")
    assert root == str(tmp_path / "all")
    assert (tmp_path / "all" / "top.txt").read_text() == "top"
    assert (tmp_path / "all" / "data" / "sub" / "deeper" / "c.bin").read_bytes() == b"\x00\x01\x02"


def test_download_of_an_empty_root_is_an_empty_folder(backend: Backend, tmp_path: Path) -> None:
    assert os.listdir(backend.repo.download_artifacts(dst_path=tmp_path / "d")) == []


def test_download_errors(backend: Backend, tmp_path: Path) -> None:
    backend.repo.write_bytes("x.txt", b"x")
    with pytest.raises(HeronError) as excinfo:
        backend.repo.download_artifacts("missing", tmp_path)
    assert excinfo.value.error_code == RESOURCE_DOES_NOT_EXIST
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(HeronError, match="is a file"):
        backend.repo.download_artifacts("x.txt", a_file)


def test_delete_artifacts(backend: Backend, tree: Path) -> None:
    repo = backend.repo
    before = backend.outside()
    repo.log_artifacts(tree)
    repo.delete_artifacts("sub/deeper/c.bin")
    assert repo.list_artifacts("sub") == [FileInfo("sub/b.txt", False, 6)]
    repo.delete_artifacts("sub")
    assert repo.list_artifacts() == [FileInfo("a.txt", False, 5)]
    repo.delete_artifacts("missing/path")  # a no-op
    repo.delete_artifacts()
    assert repo.list_artifacts() == []
    assert backend.outside() == before  # nothing outside the root was touched


def test_write_where_a_folder_or_a_file_is_in_the_way(backend: Backend) -> None:
    backend.repo.write_bytes("d/x.txt", b"x")
    if backend.name == "local":  # S3 keys can be both; a filesystem cannot
        with pytest.raises(HeronError, match="folder of that name"):
            backend.repo.write_bytes("d", b"y")
        with pytest.raises(HeronError, match="is a file"):
            backend.repo.write_bytes("d/x.txt/y", b"y")


def test_big_file_round_trip(backend: Backend, tmp_path: Path) -> None:
    """Past boto3's 8 MB multipart threshold; downloads are streamed to disk."""
    big = tmp_path / "big.bin"
    data = os.urandom(1024) * (9 * 1024)
    big.write_bytes(data)
    backend.repo.log_artifact(big, "blobs")
    assert backend.repo.list_artifacts("blobs") == [FileInfo("blobs/big.bin", False, len(data))]
    local = backend.repo.download_artifacts("blobs/big.bin", tmp_path / "out")
    assert Path(local).read_bytes() == data


@pytest.mark.parametrize("bad", ["../x", "a/../../x", "/etc/passwd", "C:\\x", "..\\..\\x", "a\x00b"])
def test_traversal_is_refused_everywhere(backend: Backend, bad: str, tree: Path, tmp_path: Path) -> None:
    repo = backend.repo
    before = backend.outside()
    calls: list[Callable[[], object]] = [
        lambda: repo.write_bytes(bad, b"x"),
        lambda: repo.read_bytes(bad),
        lambda: repo.list_artifacts(bad),
        lambda: repo.download_artifacts(bad, tmp_path / "dl"),
        lambda: repo.delete_artifacts(bad),
        lambda: repo.log_artifact(tree / "a.txt", bad),
        lambda: repo.log_artifacts(tree, bad),
    ]
    if not bad.startswith("/"):  # "ok//etc/passwd" is just "ok/etc/passwd", inside the root
        calls.append(lambda: repo.write_bytes(f"ok/{bad}", b"x"))
    for call in calls:
        with pytest.raises(HeronError) as excinfo:
            call()
        assert excinfo.value.error_code == INVALID_PARAMETER_VALUE
        assert "relative path" in excinfo.value.message
    assert backend.outside() == before
    assert repo.list_artifacts() == []


def test_log_artifacts_refuses_a_symlink_out_of_the_folder(backend: Backend, tree: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret-dir"
    secret.mkdir()
    (secret / "key.pem").write_text("private")
    (tree / "sub" / "link").symlink_to(secret)
    with pytest.raises(HeronError) as excinfo:
        backend.repo.log_artifacts(tree)
    assert excinfo.value.error_code == INVALID_PARAMETER_VALUE
    assert "outside" in excinfo.value.message and str(tree / "sub" / "link") in excinfo.value.message
    assert backend.repo.list_artifacts() == []  # refused before anything was copied
    (tree / "sub" / "link").unlink()
    (tree / "sub" / "file-link").symlink_to(secret / "key.pem")
    with pytest.raises(HeronError, match="outside"):
        backend.repo.log_artifacts(tree)
    assert backend.repo.list_artifacts() == []


def test_log_artifacts_follows_links_inside_the_folder(backend: Backend, tree: Path) -> None:
    (tree / "alias.txt").symlink_to(tree / "sub" / "b.txt")
    (tree / "sub-alias").symlink_to(tree / "sub" / "deeper")
    backend.repo.log_artifacts(tree)
    assert backend.repo.read_bytes("alias.txt") == b"bravo!"
    assert backend.repo.read_bytes("sub-alias/c.bin") == b"\x00\x01\x02"


def test_log_artifacts_refuses_a_symlink_loop(backend: Backend, tree: Path) -> None:
    (tree / "sub" / "loop").symlink_to(tree / "sub")
    with pytest.raises(HeronError, match="loop"):
        backend.repo.log_artifacts(tree)


# ------------------------------------------------------------------- symlinks inside a local root


@pytest.fixture
def local_root(tmp_path: Path) -> tuple[LocalArtifactRepository, Path, Path]:
    """A local repository whose root holds ``out`` (a link to a folder outside) and ``out.txt``."""
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (root / "out").symlink_to(outside)
    (root / "out.txt").symlink_to(outside / "secret.txt")
    (root / "kept.txt").write_text("kept")
    repo = get_repository(str(root))
    assert isinstance(repo, LocalArtifactRepository)
    return repo, root, outside


def test_local_root_symlink_out_is_never_written_through(local_root: tuple[LocalArtifactRepository, Path, Path]) -> None:
    repo, _, outside = local_root
    for call in (
        lambda: repo.write_bytes("out/new.txt", b"x"),
        lambda: repo.write_bytes("out/secret.txt", b"x"),
        lambda: repo.write_bytes("out.txt", b"x"),
        lambda: repo.log_artifacts(str(outside), "out"),
    ):
        with pytest.raises(HeronError) as excinfo:
            call()
        assert excinfo.value.error_code == INVALID_PARAMETER_VALUE
        assert "outside the artifact root" in excinfo.value.message
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "secret"


def test_local_root_symlink_out_is_never_read_through(
    local_root: tuple[LocalArtifactRepository, Path, Path], tmp_path: Path
) -> None:
    repo, _, _ = local_root
    for call in (
        lambda: repo.read_bytes("out.txt"),
        lambda: repo.read_bytes("out/secret.txt"),
        lambda: repo.list_artifacts("out"),
        lambda: repo.download_artifacts("out.txt", tmp_path / "a"),
        lambda: repo.download_artifacts("out", tmp_path / "b"),
    ):
        with pytest.raises(HeronError, match="outside the artifact root"):
            call()
    # Listings and folder downloads leave the links out.
    assert repo.list_artifacts() == [FileInfo("kept.txt", False, 4)]
    dst = repo.download_artifacts("", tmp_path / "all")
    assert os.listdir(dst) == ["kept.txt"]


def test_local_root_deleting_a_link_keeps_its_target(local_root: tuple[LocalArtifactRepository, Path, Path]) -> None:
    repo, root, outside = local_root
    with pytest.raises(HeronError, match="outside the artifact root"):
        repo.delete_artifacts("out/secret.txt")  # the parent folder leads out of the root
    repo.delete_artifacts("out")
    repo.delete_artifacts("out.txt")
    assert sorted(os.listdir(root)) == ["kept.txt"]
    assert (outside / "secret.txt").read_text() == "secret"
    repo.delete_artifacts()
    assert not root.exists() and (outside / "secret.txt").exists()


def test_local_root_links_inside_the_root_work(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "real").mkdir(parents=True)
    (root / "real" / "f.txt").write_text("f")
    (root / "alias").symlink_to(root / "real")
    repo = get_repository(str(root))
    assert repo.read_bytes("alias/f.txt") == b"f"
    assert [f.path for f in repo.list_artifacts()] == ["alias", "real"]


def test_local_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    repo = get_repository(str(tmp_path / "root"))
    repo.write_bytes("a.txt", b"1")
    repo.write_bytes("a.txt", b"2")
    assert os.listdir(tmp_path / "root") == ["a.txt"]


def test_s3_keys_that_are_no_valid_path_are_skipped(s3_bucket: str, tmp_path: Path) -> None:
    """Objects written by other tools must not lead a download out of its destination."""
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint_url())
    client.put_object(Bucket=s3_bucket, Key="root/ok.txt", Body=b"ok")
    client.put_object(Bucket=s3_bucket, Key="root/../../escape.txt", Body=b"bad")
    client.put_object(Bucket=s3_bucket, Key="root/dir/", Body=b"")  # a folder marker
    repo = get_repository(f"s3://{s3_bucket}/root")
    assert [f.path for f in repo.list_artifacts()] == ["dir", "ok.txt"]
    dst = tmp_path / "dl" / "inner"
    repo.download_artifacts("", dst)
    assert _files_under(tmp_path, tmp_path / "none") == [str(dst / "ok.txt")]


# ------------------------------------------------------------------------ Client, fluent, heron.artifacts


def test_log_text_and_load_text(sqlite_uri: str) -> None:
    with heron.start_run() as run:
        heron.log_text("héron ✓", "notes/readme.md")
    assert heron.artifacts.load_text(f"runs:/{run.info.run_id}/notes/readme.md") == "héron ✓"
    assert Client().list_artifacts(run.info.run_id, "notes") == [FileInfo("notes/readme.md", False, 10)]


def test_log_without_an_active_run_starts_one(sqlite_uri: str) -> None:
    assert heron.active_run() is None
    heron.log_text("x", "x.txt")
    run = heron.active_run()
    assert run is not None
    heron.end_run()
    assert heron.artifacts.load_text(f"runs:/{run.info.run_id}/x.txt") == "x"


@pytest.mark.parametrize("name", ["config.json", "config.yaml", "config.yml", "config.txt"])
def test_log_dict_round_trip(sqlite_uri: str, name: str) -> None:
    value = {"model": "gpt-4o", "temperature": 0.2, "stop": ["\n"], "nested": {"k": [1, 2]}}
    with heron.start_run() as run:
        heron.log_dict(value, name)
    uri = f"runs:/{run.info.run_id}/{name}"
    text = heron.artifacts.load_text(uri)
    if name.endswith((".yaml", ".yml")):
        assert text.startswith("model: gpt-4o") or "model: gpt-4o" in text  # YAML, block style
        assert "{" not in text
    else:
        assert json.loads(text) == value
    assert heron.artifacts.load_dict(uri) == value


def test_load_dict_of_something_else(sqlite_uri: str) -> None:
    with heron.start_run() as run:
        heron.log_text("not json", "x.json")
        heron.log_text("[1, 2]", "list.json")
    for name in ("x.json", "list.json"):
        with pytest.raises(HeronError) as excinfo:
            heron.artifacts.load_dict(f"runs:/{run.info.run_id}/{name}")
        assert excinfo.value.error_code == "BAD_REQUEST"


def test_log_table_appends_and_load_table(sqlite_uri: str) -> None:
    import pandas as pd

    with heron.start_run() as first:
        heron.log_table({"question": ["q1", "q2"], "score": [0.5, 1.0]}, "eval/table.json")
        heron.log_table(pd.DataFrame({"question": ["q3"], "score": [0.0]}), "eval/table.json")
    with heron.start_run() as second:
        heron.log_table({"question": ["q4"], "score": [0.25]}, "eval/table.json")
    with heron.start_run():
        heron.log_text("no table here", "other.txt")

    stored = json.loads(heron.artifacts.load_text(f"runs:/{first.info.run_id}/eval/table.json"))
    assert stored == {"columns": ["question", "score"], "data": [["q1", 0.5], ["q2", 1.0], ["q3", 0.0]]}
    tags = heron.get_run(first.info.run_id).data.tags
    assert json.loads(tags["mlflow.loggedArtifacts"]) == [{"path": "eval/table.json", "type": "table"}]

    table = heron.load_table("eval/table.json", extra_columns=["run_id"])
    assert sorted(table["question"]) == ["q1", "q2", "q3", "q4"]
    assert dict(zip(table["question"], table["run_id"], strict=True)) == {
        "q1": first.info.run_id,
        "q2": first.info.run_id,
        "q3": first.info.run_id,
        "q4": second.info.run_id,
    }
    only = heron.load_table("eval/table.json", run_ids=[second.info.run_id])
    assert only.to_dict(orient="list") == {"question": ["q4"], "score": [0.25]}
    with pytest.raises(HeronError) as excinfo:
        heron.load_table("missing.json")
    assert excinfo.value.error_code == RESOURCE_DOES_NOT_EXIST


def test_log_table_rejects_bad_input(sqlite_uri: str) -> None:
    with heron.start_run():
        with pytest.raises(HeronError, match=".json"):
            heron.log_table({"a": [1]}, "table.csv")
        with pytest.raises(HeronError, match="DataFrame or a dict"):
            heron.log_table([1, 2], "table.json")  # type: ignore[arg-type]


def test_log_figure_matplotlib_png(sqlite_uri: str, tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [1, 0, 1])
    with heron.start_run() as run:
        heron.log_figure(fig, "plots/loss.png")
        heron.log_figure(fig, "plots/loss.svg", save_kwargs={"transparent": True})
    plt.close(fig)
    local = heron.artifacts.download_artifacts(f"runs:/{run.info.run_id}/plots/loss.png", dst_path=tmp_path)
    assert local == str(tmp_path / "plots" / "loss.png")
    assert Path(local).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in heron.artifacts.load_text(f"runs:/{run.info.run_id}/plots/loss.svg")
    with pytest.raises(TypeError, match="Unsupported figure"):
        heron.log_figure(object(), "x.png", run_id=run.info.run_id)


def test_log_image_numpy_and_pil(sqlite_uri: str) -> None:
    import numpy as np

    gradient = np.linspace(0, 1, 16 * 8 * 3).reshape(16, 8, 3)
    with heron.start_run() as run:
        heron.log_image(gradient, "images/float.png")
        heron.log_image((gradient * 255).astype(np.uint8)[:, :, :1], "images/gray.png")
        loaded = heron.artifacts.load_image(f"runs:/{run.info.run_id}/images/float.png")
        heron.log_image(loaded, "images/copy.png")
        with pytest.raises(ValueError, match="out of range"):
            heron.log_image(gradient * 2, "images/bad.png")
        with pytest.raises(ValueError, match="shape"):
            heron.log_image(np.zeros((2, 2, 2)), "images/bad.png")
    assert loaded.size == (8, 16) and loaded.mode == "RGB"
    gray = heron.artifacts.load_image(f"runs:/{run.info.run_id}/images/gray.png")
    assert gray.size == (8, 16) and gray.mode == "L"
    names = [f.path for f in heron.artifacts.list_artifacts(run_id=run.info.run_id, artifact_path="images")]
    assert names == ["images/copy.png", "images/float.png", "images/gray.png"]


def test_log_artifacts_and_download_a_folder(sqlite_uri: str, tree: Path, tmp_path: Path) -> None:
    with heron.start_run() as run:
        heron.log_artifacts(str(tree), "inputs")
        heron.log_artifact(str(tree / "a.txt"))
        heron.log_artifact(str(tree / "sub"), "as-folder")  # a folder through log_artifact, as MLflow allows
    run_id = run.info.run_id
    client = Client()
    assert [f.path for f in client.list_artifacts(run_id)] == ["a.txt", "as-folder", "inputs"]
    assert [f.path for f in client.list_artifacts(run_id, "as-folder")] == ["as-folder/sub"]

    local = heron.artifacts.download_artifacts(run_id=run_id, artifact_path="inputs", dst_path=tmp_path / "d1")
    assert local == str(tmp_path / "d1" / "inputs")
    assert (Path(local) / "sub" / "deeper" / "c.bin").read_bytes() == b"\x00\x01\x02"
    whole = heron.artifacts.download_artifacts(f"runs:/{run_id}", dst_path=tmp_path / "d2")
    assert (Path(whole) / "as-folder" / "sub" / "b.txt").read_text() == "bravo!"
    via_client = client.download_artifacts(run_id, "inputs/sub", str(tmp_path / "d3"))
    assert sorted(os.listdir(via_client)) == ["b.txt", "deeper"]

    # runs:/ listings are relative to the URI; run_id listings to the run's root (as in MLflow)
    assert heron.artifacts.list_artifacts(f"runs:/{run_id}/inputs/sub") == [
        FileInfo("b.txt", False, 6),
        FileInfo("deeper", True, None),
    ]
    assert [f.path for f in heron.artifacts.list_artifacts(run_id=run_id, artifact_path="inputs")] == [
        "inputs/a.txt",
        "inputs/sub",
    ]


def test_plain_uris_in_heron_artifacts(sqlite_uri: str, tmp_path: Path) -> None:
    with heron.start_run() as run:
        heron.log_dict({"a": 1}, "d/conf.json")
        root = heron.get_artifact_uri()
        assert heron.get_artifact_uri("d/conf.json") == root + "/d/conf.json"
    assert root == heron.get_run(run.info.run_id).info.artifact_uri
    assert heron.artifacts.load_dict(root + "/d/conf.json") == {"a": 1}
    assert heron.artifacts.load_dict(Path(root, "d", "conf.json").as_uri()) == {"a": 1}
    assert heron.artifacts.list_artifacts(root) == [FileInfo("d", True, None)]
    local = heron.artifacts.download_artifacts(root + "/d", dst_path=tmp_path / "x")
    assert local == str(tmp_path / "x" / "d") and os.listdir(local) == ["conf.json"]


def test_heron_artifacts_argument_errors(sqlite_uri: str) -> None:
    with pytest.raises(HeronError, match="either artifact_uri"):
        heron.artifacts.download_artifacts("runs:/abc/x", run_id="abc")
    with pytest.raises(HeronError, match="Pass artifact_uri"):
        heron.artifacts.download_artifacts()
    with pytest.raises(HeronError, match="names no run"):
        heron.artifacts.load_text("runs:/")
    with heron.start_run() as run:
        pass
    with pytest.raises(HeronError) as excinfo:
        heron.artifacts.load_text(f"runs:/{run.info.run_id}/../../etc/passwd")
    assert excinfo.value.error_code == INVALID_PARAMETER_VALUE
    with pytest.raises(HeronError) as excinfo:
        heron.get_artifact_uri("../x")
    assert excinfo.value.error_code == INVALID_PARAMETER_VALUE


def test_runs_with_s3_artifacts(sqlite_uri: str, s3_bucket: str, tmp_path: Path, tree: Path) -> None:
    """A whole run on S3: the experiment's artifact location decides the repository."""
    experiment_id = heron.create_experiment("on-s3", artifact_location=f"s3://{s3_bucket}/team")
    with heron.start_run(experiment_id=experiment_id) as run:
        heron.log_dict({"k": "v"}, "conf.yaml")
        heron.log_table({"a": [1]}, "t.json")
        heron.log_table({"a": [2]}, "t.json")
        heron.log_artifacts(str(tree), "src")
    run_id = run.info.run_id
    assert run.info.artifact_uri.startswith(f"s3://{s3_bucket}/team/")
    assert heron.artifacts.load_dict(f"runs:/{run_id}/conf.yaml") == {"k": "v"}
    assert Client().load_table(experiment_id, "t.json")["a"].tolist() == [1, 2]
    local = heron.artifacts.download_artifacts(f"runs:/{run_id}/src", dst_path=tmp_path / "d")
    assert (Path(local) / "sub" / "deeper" / "c.bin").read_bytes() == b"\x00\x01\x02"
    assert all(k.startswith(f"team/{run_id}/artifacts/") for k in _bucket_keys(s3_bucket))
    # plain s3:// URIs
    assert heron.artifacts.load_text(f"{run.info.artifact_uri}/src/a.txt") == "alpha"
    assert heron.artifacts.list_artifacts(f"{run.info.artifact_uri}/src/sub") == [
        FileInfo("b.txt", False, 6),
        FileInfo("deeper", True, None),
    ]
    plain = heron.artifacts.download_artifacts(f"{run.info.artifact_uri}/src/sub/", dst_path=tmp_path / "p")
    assert plain == str(tmp_path / "p" / "sub") and sorted(os.listdir(plain)) == ["b.txt", "deeper"]
