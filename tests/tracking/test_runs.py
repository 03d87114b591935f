from __future__ import annotations

import asyncio
import math
import os
import threading
import time

import pytest

import heron
from heron.entities import LifecycleStage, Metric, Param, RunStatus, RunTag
from heron.errors import HeronError


def test_start_run_context_manager_finishes(tracking_uri: str) -> None:
    with heron.start_run(run_name="baseline") as run:
        assert heron.active_run() is not None
        assert heron.active_run().info.run_id == run.info.run_id  # type: ignore[union-attr]
        heron.log_param("lr", 0.01)
    assert heron.active_run() is None
    stored = heron.get_run(run.info.run_id)
    assert stored.info.status == RunStatus.FINISHED
    assert stored.info.end_time is not None and stored.info.end_time >= stored.info.start_time
    assert stored.info.run_name == "baseline"
    assert stored.data.tags["mlflow.runName"] == "baseline"
    assert stored.data.params == {"lr": "0.01"}


def test_run_fails_when_block_raises(tracking_uri: str) -> None:
    with pytest.raises(ZeroDivisionError):
        with heron.start_run() as run:
            1 / 0  # noqa: B018
    assert heron.get_run(run.info.run_id).info.status == RunStatus.FAILED
    assert heron.active_run() is None


def test_run_gets_a_generated_name_and_system_tags(tracking_uri: str) -> None:
    with heron.start_run() as run:
        pass
    tags = heron.get_run(run.info.run_id).data.tags
    assert run.info.run_name and tags["mlflow.runName"] == run.info.run_name
    assert tags["mlflow.user"]
    assert tags["mlflow.source.type"] == "LOCAL"
    assert "mlflow.source.name" in tags


def test_second_run_without_nested_raises(tracking_uri: str) -> None:
    with heron.start_run() as outer:
        with pytest.raises(HeronError, match="already active") as info:
            heron.start_run()
        assert outer.info.run_id in info.value.message
        assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_nested_runs_link_parent(tracking_uri: str) -> None:
    with heron.start_run(run_name="sweep") as parent:
        for lr in (0.1, 0.01):
            with heron.start_run(run_name=f"lr={lr}", nested=True) as child:
                heron.log_param("lr", lr)
                assert heron.active_run().info.run_id == child.info.run_id  # type: ignore[union-attr]
        assert heron.active_run().info.run_id == parent.info.run_id  # type: ignore[union-attr]
    children = heron.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'", output_format="list"
    )
    assert sorted(r.info.run_name for r in children) == ["lr=0.01", "lr=0.1"]  # type: ignore[union-attr]
    parent_run = heron.get_parent_run(children[0].info.run_id)  # type: ignore[union-attr]
    assert parent_run is not None and parent_run.info.run_id == parent.info.run_id


def test_end_run_with_status_and_last_active_run(tracking_uri: str) -> None:
    run = heron.start_run()
    heron.log_metric("loss", 0.5)
    heron.end_run(RunStatus.KILLED)
    last = heron.last_active_run()
    assert last is not None and last.info.run_id == run.info.run_id
    assert last.info.status == RunStatus.KILLED
    assert last.data.metrics == {"loss": 0.5}
    heron.end_run()  # no active run: nothing happens


def test_resume_run_by_id(tracking_uri: str) -> None:
    with heron.start_run() as first:
        heron.log_metric("m", 1, step=0)
    with heron.start_run(run_id=first.info.run_id) as again:
        assert again.info.status == RunStatus.RUNNING
        heron.log_metric("m", 2, step=1)
    run = heron.get_run(first.info.run_id)
    assert run.info.status == RunStatus.FINISHED
    assert [m.value for m in heron.Client().get_metric_history(run.info.run_id, "m")] == [1, 2]
    with pytest.raises(HeronError) as info:
        heron.start_run(run_id="0" * 32)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_log_without_active_run_starts_one(tracking_uri: str) -> None:
    heron.log_metric("x", 1.0)
    run = heron.active_run()
    assert run is not None
    heron.end_run()
    assert heron.get_run(run.info.run_id).data.metrics == {"x": 1.0}


def test_delete_and_restore_run(tracking_uri: str) -> None:
    with heron.start_run() as run:
        pass
    heron.delete_run(run.info.run_id)
    assert heron.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.DELETED
    assert heron.search_runs(output_format="list") == []
    with pytest.raises(HeronError, match="active"):
        heron.Client().log_metric(run.info.run_id, "x", 1)
    heron.Client().restore_run(run.info.run_id)
    assert [r.info.run_id for r in heron.search_runs(output_format="list")] == [run.info.run_id]  # type: ignore[union-attr]


def test_params_are_immutable(tracking_uri: str) -> None:
    with heron.start_run() as run:
        heron.log_param("depth", 3)
        heron.log_param("depth", "3")  # same value again is fine
        with pytest.raises(HeronError) as info:
            heron.log_param("depth", 4)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "depth" in info.value.message and "'3'" in info.value.message and "'4'" in info.value.message
    assert heron.get_run(run.info.run_id).data.params == {"depth": "3"}


def test_metrics_history_steps_timestamps_and_special_values(tracking_uri: str) -> None:
    with heron.start_run() as run:
        for step, value in enumerate([0.9, 0.7, float("nan"), float("inf"), float("-inf"), 0.1]):
            heron.log_metric("loss", value, step=step, timestamp=1_000 + step)
        heron.log_metrics({"acc": 0.5, "f1": 0.25}, step=3)
    client = heron.Client()
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2, 3, 4, 5]
    assert [m.timestamp for m in history] == [1000, 1001, 1002, 1003, 1004, 1005]
    values = [m.value for m in history]
    assert values[:2] == [0.9, 0.7] and math.isnan(values[2])
    assert values[3] == math.inf and values[4] == -math.inf and values[5] == 0.1
    data = heron.get_run(run.info.run_id).data
    assert data.metrics == {"loss": 0.1, "acc": 0.5, "f1": 0.25}


def test_latest_metric_is_highest_step_not_last_logged(tracking_uri: str) -> None:
    with heron.start_run() as run:
        heron.log_metric("m", 5.0, step=10)
        heron.log_metric("m", 1.0, step=2)
    assert heron.get_run(run.info.run_id).data.metrics["m"] == 5.0


def test_nan_latest_metric(tracking_uri: str) -> None:
    with heron.start_run() as run:
        heron.log_metric("m", float("nan"))
    assert math.isnan(heron.get_run(run.info.run_id).data.metrics["m"])


def test_tags_set_overwrite_delete(tracking_uri: str) -> None:
    with heron.start_run() as run:
        heron.set_tag("team", "a")
        heron.set_tags({"team": "b", "env": "ci"})
        heron.delete_tag("env")
        with pytest.raises(HeronError) as info:
            heron.delete_tag("env")
        assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
        heron.set_tag("mlflow.runName", "renamed")
    stored = heron.get_run(run.info.run_id)
    assert stored.data.tags["team"] == "b" and "env" not in stored.data.tags
    assert stored.info.run_name == "renamed"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("", "non-empty"),
        ("bad!name", "alphanumerics"),
        ("../escape", "'..'"),
        ("/abs", "start with '/'"),
        ("a" * 251, "at most 250"),
    ],
)
def test_bad_keys_are_refused_and_nothing_written(tracking_uri: str, key: str, expected: str) -> None:
    with heron.start_run() as run:
        for call in (
            lambda: heron.log_metric(key, 1.0),
            lambda: heron.log_param(key, 1),
            lambda: heron.set_tag(key, 1),
        ):
            with pytest.raises(HeronError) as info:
                call()
            assert info.value.error_code == "INVALID_PARAMETER_VALUE"
            assert expected in info.value.message
    data = heron.get_run(run.info.run_id).data
    assert data.metrics == {} and data.params == {}
    assert not any(k == key for k in data.tags)


@pytest.mark.parametrize("value", ["0.5", None, [1], True])
def test_metric_value_must_be_a_number(tracking_uri: str, value: object) -> None:
    with heron.start_run():
        with pytest.raises(HeronError) as info:
            heron.log_metric("m", value)  # type: ignore[arg-type]
    assert "expected a number" in info.value.message and "'m'" in info.value.message


def test_value_length_limits(tracking_uri: str) -> None:
    with heron.start_run():
        heron.log_param("ok", "x" * 6000)
        with pytest.raises(HeronError, match="at most 6000"):
            heron.log_param("long", "x" * 6001)
        heron.set_tag("ok", "y" * 8000)
        with pytest.raises(HeronError, match="at most 8000"):
            heron.set_tag("long", "y" * 8001)


def test_log_batch_is_all_or_nothing(tracking_uri: str) -> None:
    client = heron.Client()
    run = client.create_run("0")
    rid = run.info.run_id
    now = int(time.time() * 1000)
    client.log_batch(
        rid, metrics=[Metric("a", 1.0, now, 0)], params=[Param("p", "1")], tags=[RunTag("t", "x")]
    )
    # A bad metric at the end: nothing of the batch lands.
    with pytest.raises(HeronError, match="expected a number"):
        client.log_batch(
            rid,
            metrics=[Metric("a", 2.0, now, 1), Metric("b", "oops", now, 0)],  # type: ignore[arg-type]
            params=[Param("q", "2")],
            tags=[RunTag("t", "y")],
        )
    # A conflicting param (checked against the store) also writes nothing.
    with pytest.raises(HeronError, match="Changing param values"):
        client.log_batch(rid, metrics=[Metric("a", 3.0, now, 2)], params=[Param("r", "1"), Param("p", "2")])
    with pytest.raises(HeronError, match="appears twice"):
        client.log_batch(rid, params=[Param("s", "1"), Param("s", "2")])
    with pytest.raises(HeronError, match="1001 metrics: at most 1000"):
        client.log_batch(rid, metrics=[Metric("m", 1.0, now, i) for i in range(1001)])
    data = client.get_run(rid).data
    assert data.metrics == {"a": 1.0}
    assert data.params == {"p": "1"}
    assert data.tags["t"] == "x"
    assert [m.value for m in client.get_metric_history(rid, "a")] == [1.0]


def test_log_batch_same_key_several_steps(tracking_uri: str) -> None:
    client = heron.Client()
    rid = client.create_run("0").info.run_id
    client.log_batch(rid, metrics=[Metric("loss", 1.0 / (s + 1), 1000 + s, s) for s in range(50)])
    assert len(client.get_metric_history(rid, "loss")) == 50
    assert client.get_run(rid).data.metrics["loss"] == pytest.approx(1 / 50)


def test_threads_each_log_into_their_own_run(tracking_uri: str) -> None:
    """The active run is per thread: 8 threads using the fluent API at once never mix values."""
    heron.set_experiment("threads")
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            with heron.start_run(run_name=f"t{i}") as run:
                results[i] = run.info.run_id
                heron.log_param("worker", i)
                for step in range(25):
                    heron.log_metric("value", i * 1000 + step, step=step)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    client = heron.Client()
    for i, run_id in results.items():
        run = client.get_run(run_id)
        assert run.data.params == {"worker": str(i)}
        history = client.get_metric_history(run_id, "value")
        assert [m.value for m in history] == [i * 1000 + s for s in range(25)]
        assert run.info.status == RunStatus.FINISHED
    assert len(results) == 8


def test_asyncio_tasks_have_their_own_active_run(tracking_uri: str) -> None:
    async def task(i: int) -> str:
        with heron.start_run() as run:
            await asyncio.sleep(0.01)
            heron.log_metric("task", i)
            await asyncio.sleep(0.01)
            active = heron.active_run()
            assert active is not None and active.info.run_id == run.info.run_id
            return run.info.run_id

    async def main() -> list[str]:
        return await asyncio.gather(*(task(i) for i in range(10)))

    ids = asyncio.run(main())
    assert len(set(ids)) == 10
    for i, run_id in enumerate(ids):
        assert heron.get_run(run_id).data.metrics == {"task": float(i)}


def test_git_commit_tag_in_a_repo(tmp_path: os.PathLike[str]) -> None:
    from pathlib import Path

    from heron.tracking.system_tags import git_commit

    repo = Path(tmp_path) / "repo"
    (repo / ".git" / "refs" / "heads").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (repo / ".git" / "refs" / "heads" / "main").write_text("a" * 40 + "\n")
    (repo / "src").mkdir()
    assert git_commit(repo / "src") == "a" * 40
    (repo / ".git" / "refs" / "heads" / "main").unlink()
    (repo / ".git" / "packed-refs").write_text("# pack-refs\n" + "b" * 40 + " refs/heads/main\n")
    assert git_commit(repo / "src") == "b" * 40
    assert git_commit(Path(tmp_path) / "elsewhere") is None


def test_nul_characters_are_refused_on_every_backend(tracking_uri: str) -> None:
    with heron.start_run() as run:
        with pytest.raises(HeronError, match="NUL character"):
            heron.log_param("p", "a\x00b")
        with pytest.raises(HeronError, match="NUL character"):
            heron.set_tag("t", "a\x00b")
    with pytest.raises(HeronError, match="NUL character"):
        heron.create_experiment("bad\x00name")
    assert heron.get_run(run.info.run_id).data.params == {}


def test_huge_numbers_in_filters_and_ids(tracking_uri: str) -> None:
    with heron.start_run():
        heron.log_metric("m", 1.0)
    assert heron.search_runs(filter_string="attributes.start_time > 99999999999999999999999", output_format="list") == []
    with pytest.raises(HeronError) as info:
        heron.get_experiment("99999999999")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_the_same_value_logged_twice_stays_twice_in_the_history(tracking_uri: str) -> None:
    client = heron.Client()
    rid = client.create_run("0").info.run_id
    client.log_metric(rid, "loss", 0.5, timestamp=1000, step=1)
    client.log_metric(rid, "loss", 0.5, timestamp=1000, step=1)
    client.log_batch(rid, metrics=[Metric("loss", 0.5, 1000, 1), Metric("loss", 0.25, 1000, 1)])
    client.log_metric(rid, "loss", float("nan"), timestamp=1000, step=1)
    client.log_metric(rid, "loss", 0.75, timestamp=999, step=2)
    history = client.get_metric_history(rid, "loss")
    # Ordered by step, then timestamp, then value as stored (NaN is stored as 0, as in MLflow).
    assert [(m.step, m.timestamp) for m in history] == [(1, 1000)] * 5 + [(2, 999)]
    assert math.isnan(history[0].value)
    assert [m.value for m in history][1:] == [0.25, 0.5, 0.5, 0.5, 0.75]
    assert client.get_run(rid).data.metrics == {"loss": 0.75}


def test_a_large_batch_with_repeated_values_keeps_every_copy(tracking_uri: str) -> None:
    """Batches past 100 metrics are written in multi-row statements on SQLite; repeats still count."""
    client = heron.Client()
    rid = client.create_run("0").info.run_id
    metrics = [Metric("loss", float(i // 2 % 7), 1000, i // 2) for i in range(250)]  # each value twice
    metrics += [Metric("loss", 0.0, 1000, 0)] * 3
    client.log_batch(rid, metrics=metrics)
    history = client.get_metric_history(rid, "loss")
    assert len(history) == 253
    assert [(m.step, m.value) for m in history] == sorted((m.step, m.value) for m in metrics)
    assert client.get_run(rid).data.metrics == {"loss": float(124 % 7)}
