"""The model registry: registered models with numbered, immutable versions, tags, movable aliases and
(deprecated) stages, and ``models:/`` URIs. The same machinery holds prompts (``heron.prompts``).

Like ``heron`` itself, this package imports its parts on first use.
"""

from __future__ import annotations

from heron.lazy import attribute_loader

_EXPORTS = {
    "MlflowClient": "heron.registry.client",
    "ModelVersion": "heron.registry.records",
    "RegisteredModel": "heron.registry.records",
    "Stage": "heron.registry.records",
    "get_registry_store": "heron.registry.stores",
    "get_underlying_uri": "heron.registry.sources",
    "register_model": "heron.registry.fluent",
    "resolve_model_version": "heron.registry.sources",
    "search_model_versions": "heron.registry.fluent",
    "search_registered_models": "heron.registry.fluent",
}

__all__ = sorted(_EXPORTS)


__getattr__ = attribute_loader("heron.registry", _EXPORTS)
