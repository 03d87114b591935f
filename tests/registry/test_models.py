"""The model registry with MLflow's MlflowClient API, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

import heron
from heron import MlflowClient
from heron.errors import HeronError
from heron.registry import get_underlying_uri, resolve_model_version


def _code(call: object, *args: object, **kwargs: object) -> tuple[str, str]:
    with pytest.raises(HeronError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    return info.value.error_code, info.value.message


def test_create_get_update_delete_a_registered_model(tracking_uri: str) -> None:
    client = MlflowClient()
    created = client.create_registered_model("fraud-rf", tags={"task": "binary"}, description="first")
    assert (created.name, created.description, created.tags) == ("fraud-rf", "first", {"task": "binary"})
    assert created.latest_versions == [] and created.aliases == {}
    assert _code(client.create_registered_model, "fraud-rf")[0] == "RESOURCE_ALREADY_EXISTS"

    updated = client.update_registered_model("fraud-rf", description="second")
    assert updated.description == "second"
    assert updated.last_updated_timestamp >= created.last_updated_timestamp
    client.set_registered_model_tag("fraud-rf", "owner", "risk")
    client.delete_registered_model_tag("fraud-rf", "task")
    assert client.get_registered_model("fraud-rf").tags == {"owner": "risk"}

    client.delete_registered_model("fraud-rf")
    code, message = _code(client.get_registered_model, "fraud-rf")
    assert code == "RESOURCE_DOES_NOT_EXIST" and "'fraud-rf' does not exist" in message


def test_versions_are_numbered_1_2_3_and_never_reused(tracking_uri: str) -> None:
    client = MlflowClient()
    client.create_registered_model("m")
    versions = [client.create_model_version("m", f"s3://b/m/{i}", description=f"v{i}") for i in range(3)]
    assert [v.version for v in versions] == [1, 2, 3]
    assert [v.status for v in versions] == ["READY"] * 3
    assert client.get_model_version("m", "2").source == "s3://b/m/1"

    client.delete_model_version("m", 3)
    assert client.create_model_version("m", "s3://b/m/again").version == 4  # 3 is not handed out again
    assert _code(client.get_model_version, "m", 3)[1] == "Registered model 'm' has no version 3 (its versions are 1-2, 4)."

    # A registered model deleted and created again starts over at 1.
    client.delete_registered_model("m")
    client.create_registered_model("m")
    assert client.create_model_version("m", "s3://b/new").version == 1


def test_a_version_is_immutable_apart_from_its_metadata(tracking_uri: str) -> None:
    client = MlflowClient()
    client.create_registered_model("m")
    v1 = client.create_model_version("m", "s3://b/1", run_link="http://ci/1")
    updated = client.update_model_version("m", 1, description="retrained on Q4")
    assert updated.description == "retrained on Q4"
    assert (updated.source, updated.run_link, updated.creation_timestamp) == (v1.source, v1.run_link, v1.creation_timestamp)
    assert not hasattr(client, "update_model_version_source")


def test_create_model_version_needs_an_existing_model(tracking_uri: str) -> None:
    code, message = _code(MlflowClient().create_model_version, "missing", "s3://b/x")
    assert code == "RESOURCE_DOES_NOT_EXIST" and "'missing' does not exist" in message
    assert MlflowClient().search_registered_models() == []


def test_register_model_from_a_run_records_source_and_lineage(tracking_uri: str) -> None:
    with heron.start_run() as run:
        pass
    mv = heron.register_model(f"runs:/{run.info.run_id}/model", "churn", tags={"stage": "ci"})
    assert mv.version == 1
    assert mv.run_id == run.info.run_id
    assert mv.source == run.info.artifact_uri.rstrip("/") + "/model"
    assert mv.tags == {"stage": "ci"}
    again = heron.register_model(f"runs:/{run.info.run_id}/model", "churn")
    assert again.version == 2
    # Any other URI is recorded as given, with no run.
    other = heron.register_model("s3://bucket/models/churn", "churn")
    assert (other.source, other.run_id) == ("s3://bucket/models/churn", None)
    assert _code(heron.register_model, "runs:/0123456789abcdef/model", "churn")[0] == "RESOURCE_DOES_NOT_EXIST"
    assert len(MlflowClient().search_model_versions("name = 'churn'")) == 3


def test_aliases_point_at_one_version_and_move(tracking_uri: str) -> None:
    client = MlflowClient()
    client.create_registered_model("fraud-rf")
    for i in range(3):
        client.create_model_version("fraud-rf", f"s3://b/{i}")
    client.set_registered_model_alias("fraud-rf", "champion", 1)
    client.set_registered_model_alias("fraud-rf", "challenger", "2")
    assert client.get_model_version_by_alias("fraud-rf", "champion").version == 1
    assert client.get_registered_model("fraud-rf").aliases == {"challenger": 2, "champion": 1}
    assert client.get_model_version("fraud-rf", 1).aliases == ["champion"]

    client.set_registered_model_alias("fraud-rf", "champion", 3)  # moves
    assert client.get_model_version_by_alias("fraud-rf", "champion").version == 3
    assert client.get_model_version("fraud-rf", 1).aliases == []
    assert client.get_model_version("fraud-rf", 3).aliases == ["champion"]

    client.delete_registered_model_alias("fraud-rf", "challenger")
    code, message = _code(client.get_model_version_by_alias, "fraud-rf", "challenger")
    assert code == "RESOURCE_DOES_NOT_EXIST"
    assert message == "Registered model 'fraud-rf' has no alias 'challenger' (its aliases are champion)."


def test_deleting_an_aliased_version_removes_the_alias(tracking_uri: str) -> None:
    client = MlflowClient()
    client.create_registered_model("m")
    client.create_model_version("m", "s3://b/1")
    client.create_model_version("m", "s3://b/2")
    client.set_registered_model_alias("m", "champion", 2)
    client.set_model_version_tag("m", 2, "k", "v")
    client.delete_model_version("m", 2)
    assert client.get_registered_model("m").aliases == {}
    assert _code(resolve_model_version, "models:/m@champion")[0] == "RESOURCE_DOES_NOT_EXIST"
    # The tag went with the version: a new version does not inherit it.
    assert client.create_model_version("m", "s3://b/3").tags == {}


def test_an_alias_move_is_atomic_for_readers(tracking_uri: str) -> None:
    client = MlflowClient()
    client.create_registered_model("m")
    client.create_model_version("m", "s3://b/1")
    client.create_model_version("m", "s3://b/2")
    client.set_registered_model_alias("m", "champion", 1)
    seen: set[int] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                seen.add(client.get_model_version_by_alias("m", "champion").version)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for r in readers:
        r.start()
    for i in range(30):
        client.set_registered_model_alias("m", "champion", 1 + i % 2)
    stop.set()
    for r in readers:
        r.join()
    assert errors == []
    assert seen <= {1, 2}


def test_stage_transitions_and_latest_versions_per_stage(tracking_uri: str) -> None:
    client = MlflowClient()
    client.create_registered_model("churn")
    for i in range(4):
        client.create_model_version("churn", f"s3://b/{i}")
    client.transition_model_version_stage("churn", 1, "Production")
    client.transition_model_version_stage("churn", 2, "staging")  # case-insensitive
    moved = client.transition_model_version_stage("churn", 3, "Production", archive_existing_versions=True)
    assert moved.current_stage == "Production"
    assert client.get_model_version("churn", 1).current_stage == "Archived"
    assert client.get_model_version("churn", 2).current_stage == "Staging"  # another stage is left alone

    latest = client.get_latest_versions("churn")
    assert [(v.current_stage, v.version) for v in latest] == [
        ("None", 4),
        ("Staging", 2),
        ("Production", 3),
        ("Archived", 1),
    ]
    assert [v.version for v in client.get_latest_versions("churn", stages=["Production"])] == [3]
    assert [v.version for v in client.get_registered_model("churn").latest_versions] == [1, 2, 3, 4]
    assert resolve_model_version("models:/churn/Production").version == 3

    # Without archive_existing_versions two versions may share a stage; the newest is "latest".
    client.transition_model_version_stage("churn", 4, "Production")
    assert [v.version for v in client.get_latest_versions("churn", ["Production"])] == [4]
    assert client.get_model_version("churn", 3).current_stage == "Production"

    code, message = _code(client.transition_model_version_stage, "churn", 1, "Prod")
    assert code == "INVALID_PARAMETER_VALUE" and "None, Staging, Production, Archived" in message
    code, message = _code(client.transition_model_version_stage, "churn", 1, "Archived", True)
    assert code == "INVALID_PARAMETER_VALUE" and "Staging or Production" in message
    assert client.get_model_version("churn", 1).current_stage == "Archived"


def test_tags_on_versions_by_number_or_stage(tracking_uri: str) -> None:
    client = MlflowClient()
    client.create_registered_model("m")
    client.create_model_version("m", "s3://b/1")
    client.create_model_version("m", "s3://b/2")
    client.transition_model_version_stage("m", 2, "Staging")
    client.set_model_version_tag("m", "1", "validated_by", "ci-892")
    client.set_model_version_tag("m", key="approved", value=True, stage="Staging")
    assert client.get_model_version("m", 1).tags == {"validated_by": "ci-892"}
    assert client.get_model_version("m", 2).tags == {"approved": "True"}
    client.delete_model_version_tag("m", 1, "validated_by")
    assert client.get_model_version("m", 1).tags == {}
    assert _code(client.set_model_version_tag, "m", 9, "k", "v")[0] == "RESOURCE_DOES_NOT_EXIST"


def test_rename_carries_versions_tags_and_aliases(tracking_uri: str) -> None:
    client = MlflowClient()
    client.create_registered_model("old", tags={"t": "1"})
    client.create_model_version("old", "s3://b/1", tags={"vt": "x"})
    client.set_registered_model_alias("old", "champion", 1)
    renamed = client.rename_registered_model("old", "new")
    assert renamed.name == "new" and renamed.tags == {"t": "1"} and renamed.aliases == {"champion": 1}
    assert client.get_model_version_by_alias("new", "champion").tags == {"vt": "x"}
    assert client.create_model_version("new", "s3://b/2").version == 2
    assert _code(client.get_registered_model, "old")[0] == "RESOURCE_DOES_NOT_EXIST"
    client.create_registered_model("other")
    assert _code(client.rename_registered_model, "new", "other")[0] == "RESOURCE_ALREADY_EXISTS"
    assert client.get_registered_model("new").name == "new"


def test_models_uris_resolve_to_the_version_and_its_source(tracking_uri: str) -> None:
    client = MlflowClient()
    client.create_registered_model("qa")
    for i in range(3):
        client.create_model_version("qa", f"s3://b/qa/{i + 1}")
    client.set_registered_model_alias("qa", "champion", 2)
    client.transition_model_version_stage("qa", 1, "Production")
    assert resolve_model_version("models:/qa/3").version == 3
    assert resolve_model_version("models:/qa@champion").version == 2
    assert resolve_model_version("models:/qa/latest").version == 3
    assert resolve_model_version("models:/qa/production").version == 1
    assert get_underlying_uri("models:/qa@champion") == "s3://b/qa/2"
    assert get_underlying_uri("/local/path") == "/local/path"
    assert client.get_model_version_download_uri("qa", 1) == "s3://b/qa/1"
    code, message = _code(resolve_model_version, "models:/qa/Staging")
    assert code == "RESOURCE_DOES_NOT_EXIST" and "no version in stage 'Staging'" in message


def test_copy_model_version_across_models(tracking_uri: str) -> None:
    client = MlflowClient()
    client.create_registered_model("fraud-rf-staging")
    with heron.start_run() as run:
        pass
    client.create_model_version(
        "fraud-rf-staging", f"runs:/{run.info.run_id}/model", tags={"k": "v"}, description="candidate"
    )
    client.set_registered_model_alias("fraud-rf-staging", "candidate", 1)
    copied = client.copy_model_version("models:/fraud-rf-staging@candidate", "fraud-rf-prod")
    assert (copied.name, copied.version, copied.source) == ("fraud-rf-prod", 1, "models:/fraud-rf-staging/1")
    assert (copied.run_id, copied.tags, copied.description) == (run.info.run_id, {"k": "v"}, "candidate")
    # Loading follows the copy to the files.
    assert get_underlying_uri("models:/fraud-rf-prod/1") == run.info.artifact_uri.rstrip("/") + "/model"
    assert client.copy_model_version("models:/fraud-rf-staging/1", "fraud-rf-prod").version == 2


def test_models_and_prompts_never_appear_in_each_others_results(tracking_uri: str) -> None:
    client = MlflowClient()
    client.create_registered_model("a-model")
    client.create_model_version("a-model", "s3://b/1")
    heron.register_prompt("a-prompt", "Hello {{ name }}")
    assert [m.name for m in client.search_registered_models()] == ["a-model"]
    assert [v.name for v in client.search_model_versions()] == ["a-model"]
    assert [p.name for p in heron.search_prompts()] == ["a-prompt"]
    assert [m.name for m in heron.search_registered_models()] == ["a-model"]

    code, message = _code(client.get_registered_model, "a-prompt")
    assert code == "RESOURCE_DOES_NOT_EXIST" and "is a prompt, not a model" in message
    assert _code(resolve_model_version, "models:/a-prompt/1")[0] == "RESOURCE_DOES_NOT_EXIST"
    assert _code(heron.load_prompt, "prompts:/a-model/1")[0] == "RESOURCE_DOES_NOT_EXIST"
    # One namespace: a name is a model or a prompt.
    code, message = _code(client.create_registered_model, "a-prompt")
    assert code == "RESOURCE_ALREADY_EXISTS" and "already used by a prompt" in message
    assert _code(heron.register_model, "s3://b/x", "a-prompt")[0] == "RESOURCE_ALREADY_EXISTS"
    assert _code(heron.register_prompt, "a-model", "hi")[0] == "RESOURCE_ALREADY_EXISTS"
    assert _code(client.delete_registered_model, "a-prompt")[0] == "RESOURCE_DOES_NOT_EXIST"
    assert heron.load_prompt("a-prompt").template == "Hello {{ name }}"


def test_the_registry_is_in_the_tracking_store_and_survives_reopening(tracking_uri: str) -> None:
    from heron.tracking.stores import clear_store_cache

    MlflowClient().create_registered_model("kept")
    MlflowClient().create_model_version("kept", "s3://b/1")
    clear_store_cache()
    assert MlflowClient(tracking_uri).get_model_version("kept", 1).source == "s3://b/1"

