"""The registry store interface: names with numbered versions, tags and aliases, for one kind.

Every method takes the kind ('model' or 'prompt'): a name of the other kind does not exist for it, so
models and prompts never show up in each other's results. Implementation: ``sqlstore.SqlRegistryStore``
(SQLite and PostgreSQL) and ``rest.RestRegistryStore`` (a Heron server).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from heron.registry.records import Kind, ModelVersion, PromptContent, RegisteredModel
from heron.registry.uris import VersionRef
from heron.tracking.entities import PagedList

__all__ = ["NewVersion", "RegistryStore"]


@dataclass(frozen=True)
class NewVersion:
    """What a new version is made of; its number is given by the store."""

    source: str | None = None
    run_id: str | None = None
    run_link: str | None = None
    description: str | None = None
    user_id: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    prompt: PromptContent | None = None


class RegistryStore(Protocol):
    def create_registered_model(
        self, kind: Kind, name: str, tags: Sequence[tuple[str, str]], description: str | None
    ) -> RegisteredModel: ...
    def get_registered_model(self, kind: Kind, name: str) -> RegisteredModel: ...
    def rename_registered_model(self, kind: Kind, name: str, new_name: str) -> RegisteredModel: ...
    def update_registered_model(self, kind: Kind, name: str, description: str | None) -> RegisteredModel: ...
    def delete_registered_model(self, kind: Kind, name: str) -> None: ...
    def search_registered_models(
        self,
        kind: Kind,
        filter_string: str | None,
        max_results: int,
        order_by: Sequence[str] | None,
        page_token: str | None,
    ) -> PagedList[RegisteredModel]: ...
    def set_registered_model_tag(self, kind: Kind, name: str, key: str, value: str) -> None: ...
    def delete_registered_model_tag(self, kind: Kind, name: str, key: str) -> None: ...

    def create_model_version(
        self, kind: Kind, name: str, new: NewVersion, create_name: bool = False
    ) -> ModelVersion: ...
    def get_model_version(self, kind: Kind, name: str, version: int) -> ModelVersion: ...
    def resolve(self, kind: Kind, ref: VersionRef) -> ModelVersion: ...
    def update_model_version(self, kind: Kind, name: str, version: int, description: str | None) -> ModelVersion: ...
    def delete_model_version(self, kind: Kind, name: str, version: int) -> None: ...
    def transition_model_version_stage(
        self, kind: Kind, name: str, version: int, stage: str, archive_existing_versions: bool
    ) -> ModelVersion: ...
    def get_latest_versions(self, kind: Kind, name: str, stages: Sequence[str] | None) -> list[ModelVersion]: ...
    def search_model_versions(
        self,
        kind: Kind,
        filter_string: str | None,
        max_results: int,
        order_by: Sequence[str] | None,
        page_token: str | None,
    ) -> PagedList[ModelVersion]: ...
    def set_model_version_tag(self, kind: Kind, name: str, version: int, key: str, value: str) -> None: ...
    def delete_model_version_tag(self, kind: Kind, name: str, version: int, key: str) -> None: ...

    def set_registered_model_alias(self, kind: Kind, name: str, alias: str, version: int) -> None: ...
    def delete_registered_model_alias(self, kind: Kind, name: str, alias: str) -> None: ...
