from __future__ import annotations

import pytest

import heron
from heron.entities import LifecycleStage, ViewType
from heron.errors import HeronError


def test_default_experiment_exists(tracking_uri: str) -> None:
    default = heron.get_experiment("0")
    assert default.name == "Default"
    assert default.lifecycle_stage == LifecycleStage.ACTIVE
    assert heron.get_experiment_by_name("Default") == default


def test_create_get_by_id_and_name(tracking_uri: str) -> None:
    eid = heron.create_experiment("fraud", tags={"team": "risk"})
    exp = heron.get_experiment(eid)
    assert exp.name == "fraud"
    assert exp.tags == {"team": "risk"}
    assert exp.artifact_location.endswith(f"/{eid}")
    assert heron.get_experiment_by_name("fraud") == exp
    assert heron.get_experiment_by_name("nope") is None


def test_create_with_existing_name_raises(tracking_uri: str) -> None:
    heron.create_experiment("dup")
    with pytest.raises(HeronError) as info:
        heron.create_experiment("dup")
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert "dup" in info.value.message


def test_get_missing_experiment(tracking_uri: str) -> None:
    with pytest.raises(HeronError) as info:
        heron.get_experiment("12345")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert info.value.get_http_status_code() == 404


@pytest.mark.parametrize("bad", ["", "   ", None, "x" * 501])
def test_bad_experiment_names(tracking_uri: str, bad: object) -> None:
    with pytest.raises(HeronError) as info:
        heron.create_experiment(bad)  # type: ignore[arg-type]
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert [e.name for e in heron.search_experiments()] == ["Default"]


def test_set_experiment_creates_on_first_use_and_runs_go_there(tracking_uri: str) -> None:
    exp = heron.set_experiment("churn")
    assert heron.set_experiment("churn").experiment_id == exp.experiment_id
    with heron.start_run() as run:
        pass
    assert run.info.experiment_id == exp.experiment_id
    assert heron.set_experiment(experiment_id=exp.experiment_id).name == "churn"


def test_set_experiment_needs_exactly_one_argument(tracking_uri: str) -> None:
    with pytest.raises(HeronError, match="exactly one"):
        heron.set_experiment()
    with pytest.raises(HeronError, match="exactly one"):
        heron.set_experiment("a", "1")


def test_rename_delete_restore(tracking_uri: str) -> None:
    client = heron.Client()
    eid = client.create_experiment("old")
    run = client.create_run(eid)
    client.rename_experiment(eid, "new")
    assert client.get_experiment(eid).name == "new"
    other = client.create_experiment("other")
    with pytest.raises(HeronError) as info:
        client.rename_experiment(other, "new")
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"

    client.delete_experiment(eid)
    assert client.get_experiment(eid).lifecycle_stage == LifecycleStage.DELETED
    assert client.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.DELETED
    assert "new" not in [e.name for e in client.search_experiments()]
    assert "new" in [e.name for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)]
    with pytest.raises(HeronError, match="deleted state"):
        client.create_experiment("new")
    with pytest.raises(HeronError, match="deleted"):
        heron.set_experiment("new")

    client.restore_experiment(eid)
    assert client.get_experiment(eid).lifecycle_stage == LifecycleStage.ACTIVE
    assert client.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.ACTIVE


def test_default_experiment_cannot_be_deleted(tracking_uri: str) -> None:
    with pytest.raises(HeronError, match="Default"):
        heron.delete_experiment("0")


def test_experiment_tags(tracking_uri: str) -> None:
    heron.set_experiment("tagged")
    heron.set_experiment_tag("owner", "ana")
    heron.set_experiment_tags({"stage": "dev", "n": 3})
    exp = heron.get_experiment_by_name("tagged")
    assert exp is not None
    assert exp.tags == {"owner": "ana", "stage": "dev", "n": "3"}
    client = heron.Client()
    client.delete_experiment_tag(exp.experiment_id, "stage")
    assert client.get_experiment(exp.experiment_id).tags == {"owner": "ana", "n": "3"}
    with pytest.raises(HeronError) as info:
        client.delete_experiment_tag(exp.experiment_id, "stage")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_search_experiments_pages(tracking_uri: str) -> None:
    client = heron.Client()
    for i in range(7):
        client.create_experiment(f"exp-{i}")
    seen: list[str] = []
    token = None
    while True:
        page = client.search_experiments(max_results=3, page_token=token)
        seen.extend(e.name for e in page)
        token = page.token
        if not token:
            break
    assert sorted(seen) == sorted([f"exp-{i}" for i in range(7)] + ["Default"])
    assert [e.name for e in heron.search_experiments(filter_string="name LIKE 'exp-%'")] != []
