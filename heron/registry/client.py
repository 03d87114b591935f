"""The model registry methods of ``MlflowClient``, with MLflow's names, arguments and semantics.

``RegistryClientMethods`` is mixed into the tracking ``Client``; ``MlflowClient`` here is the
combination (the prompt registry adds its methods one layer up, in ``heron.prompts.client``).
Thread-safe: one client may be shared by threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from heron.errors import HeronError
from heron.registry import sources, uris, validation
from heron.registry.records import ModelVersion, RegisteredModel, Stage
from heron.registry.store import NewVersion, RegistryStore
from heron.registry.stores import get_registry_store
from heron.tracking.client import Client
from heron.tracking.entities import PagedList

__all__ = ["MlflowClient", "RegistryClientMethods"]


def tag_pairs(tags: dict[str, Any] | None) -> tuple[tuple[str, str], ...]:
    """Tags as the store takes them; values become strings, as in MLflow."""
    if tags is None:
        return ()
    if not isinstance(tags, dict):
        raise HeronError.invalid(f"tags must be a dict of key -> value, got {type(tags).__name__}.")
    return tuple((k, str(v)) for k, v in tags.items())


class RegistryClientMethods:
    """Registered models, versions, tags, aliases and stages. Needs ``_registry_uri`` (set by Client)."""

    _registry_uri: str

    @property
    def _registry(self) -> RegistryStore:
        return get_registry_store(self._registry_uri)

    # ----------------------------------------------------------------------------------------- names

    def create_registered_model(
        self,
        name: str,
        tags: dict[str, Any] | None = None,
        description: str | None = None,
        deployment_job_id: str | None = None,
    ) -> RegisteredModel:
        """Create an empty registered model; raises RESOURCE_ALREADY_EXISTS if the name is taken (by a
        model or a prompt)."""
        return self._registry.create_registered_model("model", name, tag_pairs(tags), description)

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model with its tags, aliases and newest version per stage; RESOURCE_DOES_NOT_EXIST if none."""
        return self._registry.get_registered_model("model", name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a model; its versions, tags and aliases follow it."""
        return self._registry.rename_registered_model("model", name, new_name)

    def update_registered_model(
        self, name: str, description: str | None = None, deployment_job_id: str | None = None
    ) -> RegisteredModel:
        return self._registry.update_registered_model("model", name, description)

    def delete_registered_model(self, name: str) -> None:
        """Delete a model with all its versions, tags and aliases."""
        self._registry.delete_registered_model("model", name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """One page of models matching ``filter_string`` (``name LIKE 'fraud%' AND tags.team = 'risk'``);
        ``.token`` gives the next page. Prompts never appear here."""
        return self._registry.search_registered_models("model", filter_string, max_results, order_by, page_token)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self._registry.set_registered_model_tag("model", name, key, str(value))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._registry.delete_registered_model_tag("model", name, key)

    # -------------------------------------------------------------------------------------- versions

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: dict[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        await_creation_for: int = 300,
        local_model_path: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        """Add the next version (1, 2, 3 …) of an existing model; READY at once.

        A ``runs:/<run_id>/<path>`` source is stored as the run's artifact location and names the run.
        Raises RESOURCE_DOES_NOT_EXIST if the model does not exist.
        """
        resolved, run = sources.source_for(source, run_id, self._registry_uri)
        new = NewVersion(
            source=resolved, run_id=run, run_link=run_link, description=description, tags=tag_pairs(tags)
        )
        return self._registry.create_model_version("model", name, new)

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return self._registry.get_model_version("model", name, validation.version(version))

    def update_model_version(self, name: str, version: int | str, description: str | None = None) -> ModelVersion:
        return self._registry.update_model_version("model", name, validation.version(version), description)

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Delete a version, its tags and the aliases that point at it. Its number is never reused."""
        self._registry.delete_model_version("model", name, validation.version(version))

    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (every stage when None)."""
        return self._registry.get_latest_versions("model", name, stages)

    def transition_model_version_stage(
        self, name: str, version: int | str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to None, Staging, Production or Archived (case-insensitive). With
        ``archive_existing_versions`` the versions already in that stage move to Archived atomically."""
        return self._registry.transition_model_version_stage(
            "model", name, validation.version(version), stage, archive_existing_versions
        )

    def get_model_version_stages(self, name: str, version: int | str) -> list[str]:
        return list(Stage.ALL)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """One page of model versions matching ``filter_string`` (``name = 'm' AND run_id = '…'``,
        ``tags.k = 'v'``, ``version_number > 2`` …), newest first within a name by default."""
        return self._registry.search_model_versions("model", filter_string, max_results, order_by, page_token)

    def copy_model_version(self, src_model_uri: str, dst_name: str) -> ModelVersion:
        """Copy the version ``src_model_uri`` names to the next version of ``dst_name`` (created if
        missing), keeping its run, description and tags; its source is ``models:/SRC/VERSION``."""
        src = sources.resolve_model_version(src_model_uri, self._registry_uri)
        new = NewVersion(
            source=f"models:/{src.name}/{src.version}",
            run_id=src.run_id,
            run_link=src.run_link,
            description=src.description,
            tags=tuple(src.tags.items()),
        )
        return self._registry.create_model_version("model", dst_name, new, create_name=True)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """Where the version's files are (the source, following ``models:/`` copies)."""
        return sources.get_underlying_uri(
            f"models:/{validation.name(name)}/{validation.version(version)}", self._registry_uri
        )

    # ------------------------------------------------------------------------------------------ tags

    def set_model_version_tag(
        self,
        name: str,
        version: int | str | None = None,
        key: str | None = None,
        value: Any = None,
        stage: str | None = None,
    ) -> None:
        """Tag a version, given by number or (as MLflow allows) as the newest version in ``stage``."""
        if key is None:
            raise HeronError.invalid("set_model_version_tag needs a key.")
        self._registry.set_model_version_tag("model", name, self._version_or_stage(name, version, stage), key, str(value))

    def delete_model_version_tag(
        self, name: str, version: int | str | None = None, key: str | None = None, stage: str | None = None
    ) -> None:
        if key is None:
            raise HeronError.invalid("delete_model_version_tag needs a key.")
        self._registry.delete_model_version_tag("model", name, self._version_or_stage(name, version, stage), key)

    def _version_or_stage(self, name: str, version: int | str | None, stage: str | None) -> int:
        if (version is None) == (stage is None):
            raise HeronError.invalid("Give exactly one of version or stage, e.g. version=3.")
        if version is not None:
            return validation.version(version)
        ref = uris.VersionRef(validation.name(name), stage=validation.stage(stage))
        return self._registry.resolve("model", ref).version

    # --------------------------------------------------------------------------------------- aliases

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` at ``version``, moving it atomically if it pointed elsewhere. Aliases: letters,
        digits, '_' and '-'; not 'latest' and not like a version number."""
        self._registry.set_registered_model_alias("model", name, alias, validation.version(version))

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._registry.delete_registered_model_alias("model", name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points at; RESOURCE_DOES_NOT_EXIST naming the model's aliases if none."""
        ref = uris.VersionRef(validation.name(name), alias=validation.alias(alias))
        return self._registry.resolve("model", ref)


class MlflowClient(Client, RegistryClientMethods):
    """The tracking ``Client`` with the model registry methods (MLflow's ``MlflowClient``)."""
