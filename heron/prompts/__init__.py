"""The prompt registry: versioned prompt templates (text or chat, ``{{ variable }}`` or Jinja2) with
tags and movable aliases, ``prompts:/`` URIs, a TTL cache for ``load_prompt`` and links from loaded
versions to traces and runs. Built on ``heron.registry``'s machinery.

Like ``heron`` itself, this package imports its parts on first use.
"""

from __future__ import annotations

from heron.lazy import attribute_loader

_EXPORTS = {
    "MlflowClient": "heron.prompts.client",
    "Prompt": "heron.prompts.records",
    "PromptVersion": "heron.prompts.records",
    "delete_prompt": "heron.prompts.fluent",
    "delete_prompt_alias": "heron.prompts.fluent",
    "delete_prompt_tag": "heron.prompts.fluent",
    "delete_prompt_version": "heron.prompts.fluent",
    "delete_prompt_version_tag": "heron.prompts.fluent",
    "get_prompt": "heron.prompts.fluent",
    "load_prompt": "heron.prompts.fluent",
    "prompt_cache": "heron.prompts.cache",
    "register_prompt": "heron.prompts.fluent",
    "search_prompts": "heron.prompts.fluent",
    "set_prompt_alias": "heron.prompts.fluent",
    "set_prompt_tag": "heron.prompts.fluent",
    "set_prompt_version_tag": "heron.prompts.fluent",
}

__all__ = sorted(_EXPORTS)


__getattr__ = attribute_loader("heron.prompts", _EXPORTS)
