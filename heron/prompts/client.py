"""The prompt registry methods of ``MlflowClient`` (MLflow 3's names), and ``MlflowClient`` itself: the
tracking client with the model registry and prompt registry methods.

Prompts live in the registry tables with kind 'prompt'; every write drops the prompt's entries from
this process's ``load_prompt`` cache. Thread-safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from heron import config
from heron.errors import RESOURCE_DOES_NOT_EXIST, HeronError
from heron.prompts import links
from heron.prompts import template as templates
from heron.prompts.cache import prompt_cache
from heron.prompts.records import Prompt, PromptVersion
from heron.registry import client as registry_client
from heron.registry import uris, validation
from heron.registry.store import NewVersion
from heron.tracking.entities import PagedList

__all__ = ["MlflowClient", "PromptClientMethods"]


class PromptClientMethods(registry_client.RegistryClientMethods):
    """register_prompt, load_prompt, aliases, tags and deletes for prompts."""

    def register_prompt(
        self,
        name: str,
        template: str | list[dict[str, Any]],
        commit_message: str | None = None,
        tags: dict[str, Any] | None = None,
        response_format: Any = None,
        model_config: Any = None,
        template_format: str | None = None,
    ) -> PromptVersion:
        """Register ``template`` as the next version of prompt ``name`` (created on first use).

        ``template``: a string with ``{{ variable }}`` placeholders, or chat messages
        (``[{"role": "system", "content": "..."}, ...]``). ``template_format="jinja2"`` renders with
        Jinja2 (conditionals, loops; chosen by itself when the text contains ``{% %}``). ``tags`` are
        the version's tags. Raises INVALID_PARAMETER_VALUE for a bad name, template or format (nothing
        is written), RESOURCE_ALREADY_EXISTS if ``name`` is a registered model.
        """
        validation.name(name, "prompt")
        content = templates.content(template, template_format, response_format, model_config)
        new = NewVersion(description=commit_message, tags=registry_client.tag_pairs(tags), prompt=content)
        created = self._registry.create_model_version("prompt", name, new, create_name=True)
        self._forget(name)
        return PromptVersion.from_model_version(created)

    def load_prompt(
        self,
        name_or_uri: str,
        version: int | str | None = None,
        allow_missing: bool = False,
        link_to_model: bool = True,
        model_id: str | None = None,
        cache_ttl_seconds: float | None = None,
    ) -> PromptVersion | None:
        """The prompt version ``prompts:/NAME/2``, ``prompts:/NAME@production``, ``prompts:/NAME``
        (newest) or ``NAME`` with ``version=`` (newest without) names.

        Results are cached in this process for ``cache_ttl_seconds`` (default
        ``HERON_PROMPT_CACHE_TTL_SECONDS``, 60; 0 reads the store every time). Inside a span or an
        active run the version is linked to that trace or run. Raises RESOURCE_DOES_NOT_EXIST naming
        what is missing (None instead with ``allow_missing``), INVALID_PARAMETER_VALUE for a malformed
        reference. Thread-safe.
        """
        key = (self._registry_uri, name_or_uri, version)
        # The hot path: a dict lookup, no environment read (the TTL is read when an entry is stored).
        prompt = prompt_cache.get(key) if cache_ttl_seconds is None or cache_ttl_seconds > 0 else None
        if prompt is None:
            ttl = config.PROMPT_CACHE_TTL_SECONDS.get() if cache_ttl_seconds is None else cache_ttl_seconds
            ref = _ref(name_or_uri, version)
            try:
                prompt = PromptVersion.from_model_version(self._registry.resolve("prompt", ref))
            except HeronError as e:
                if allow_missing and e.error_code == RESOURCE_DOES_NOT_EXIST:
                    return None
                raise
            prompt_cache.put(key, self._registry_uri, prompt, ttl)
        links.link(prompt, self._registry_uri)
        return prompt

    def get_prompt_version(self, name: str, version: int | str) -> PromptVersion:
        """A prompt version, read from the store (uncached)."""
        mv = self._registry.get_model_version("prompt", name, validation.version(version))
        return PromptVersion.from_model_version(mv)

    def get_prompt(self, name: str) -> Prompt | None:
        """The prompt ``name`` (description, tags, aliases, newest version), or None if there is none."""
        try:
            return Prompt.from_registered_model(self._registry.get_registered_model("prompt", name))
        except HeronError as e:
            if e.error_code == RESOURCE_DOES_NOT_EXIST:
                return None
            raise

    def search_prompts(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        order_by: Sequence[str] | None = None,
    ) -> PagedList[Prompt]:
        """One page of prompts matching ``filter_string`` (``name LIKE 'qa%'``, ``tags.team = 'x'``);
        models never appear here."""
        page = self._registry.search_registered_models("prompt", filter_string, max_results, order_by, page_token)
        return PagedList([Prompt.from_registered_model(p) for p in page], page.token)

    def search_prompt_versions(
        self, name: str, max_results: int = 1000, page_token: str | None = None
    ) -> PagedList[PromptVersion]:
        """The versions of prompt ``name``, newest first."""
        validation.name(name, "prompt")
        self._registry.get_registered_model("prompt", name)  # RESOURCE_DOES_NOT_EXIST for an unknown prompt
        flt = "name = '" + name.replace("'", "''") + "'"
        page = self._registry.search_model_versions("prompt", flt, max_results, None, page_token)
        return PagedList([PromptVersion.from_model_version(v) for v in page], page.token)

    def set_prompt_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` (e.g. 'production') at ``version``; a loader in this process sees it at once,
        other processes within their cache TTL."""
        self._registry.set_registered_model_alias("prompt", name, alias, validation.version(version))
        self._forget(name)

    def delete_prompt_alias(self, name: str, alias: str) -> None:
        self._registry.delete_registered_model_alias("prompt", name, alias)
        self._forget(name)

    def delete_prompt_version(self, name: str, version: int | str) -> None:
        """Delete a version and the aliases pointing at it; its number is never reused."""
        self._registry.delete_model_version("prompt", name, validation.version(version))
        self._forget(name)

    def delete_prompt(self, name: str) -> None:
        """Delete a prompt with all its versions, tags and aliases."""
        self._registry.delete_registered_model("prompt", name)
        self._forget(name)

    def set_prompt_tag(self, name: str, key: str, value: Any) -> None:
        self._registry.set_registered_model_tag("prompt", name, key, str(value))
        self._forget(name)

    def delete_prompt_tag(self, name: str, key: str) -> None:
        self._registry.delete_registered_model_tag("prompt", name, key)
        self._forget(name)

    def set_prompt_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        self._registry.set_model_version_tag("prompt", name, validation.version(version), key, str(value))
        self._forget(name)

    def delete_prompt_version_tag(self, name: str, version: int | str, key: str) -> None:
        self._registry.delete_model_version_tag("prompt", name, validation.version(version), key)
        self._forget(name)

    def _forget(self, name: str) -> None:
        prompt_cache.invalidate(self._registry_uri, name)


class MlflowClient(registry_client.MlflowClient, PromptClientMethods):
    """MLflow's ``MlflowClient``: tracking, the model registry and the prompt registry."""


Client = MlflowClient


def _ref(name_or_uri: object, version: int | str | None) -> uris.VersionRef:
    if isinstance(name_or_uri, str) and name_or_uri.startswith("prompts:/"):
        if version is not None:
            raise HeronError.invalid(
                f"load_prompt got both the URI {name_or_uri!r} and version={version!r}: give the version in the "
                "URI (prompts:/NAME/2) or pass a bare name with version=."
            )
        return uris.parse(name_or_uri, "prompts")
    name = validation.name(name_or_uri, "prompt")
    return uris.VersionRef(name) if version is None else uris.VersionRef(name, version=validation.version(version))
