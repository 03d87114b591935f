"""The filter language of registry searches: the runs filter language of ``heron.tracking.search``
(same tokenizer, parser and messages) with the registry's attributes.

    search_registered_models / search_prompts:  name, tags.<key>, creation_timestamp,
                                                last_updated_timestamp
    search_model_versions:                      name, version_number, run_id, source_path,
                                                current_stage, tags.<key>, creation_timestamp,
                                                last_updated_timestamp

For example ``name LIKE 'fraud-%' AND tags.team = 'risk'`` or ``run_id IN ('a1', 'b2')``.
"""

from __future__ import annotations

from heron.tracking.search import Grammar

__all__ = ["MODEL_VERSIONS", "PROMPTS", "REGISTERED_MODELS"]

_NAME_ATTRIBUTES = {
    "name": "name",
    "creation_timestamp": "creation_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
    "timestamp": "last_updated_timestamp",  # MLflow's order_by spelling
}
_TIMES = frozenset({"creation_timestamp", "last_updated_timestamp"})

REGISTERED_MODELS = Grammar(
    subject="registered models",
    entities=frozenset({"tag", "attribute"}),
    attributes=_NAME_ATTRIBUTES,
    numeric_attributes=_TIMES,
    order_attributes=frozenset({"name", *_TIMES}),
    order_entities=frozenset({"attribute"}),
)

PROMPTS = Grammar(
    subject="prompts",
    entities=REGISTERED_MODELS.entities,
    attributes=_NAME_ATTRIBUTES,
    numeric_attributes=_TIMES,
    order_attributes=REGISTERED_MODELS.order_attributes,
    order_entities=REGISTERED_MODELS.order_entities,
)

MODEL_VERSIONS = Grammar(
    subject="model versions",
    entities=frozenset({"tag", "attribute"}),
    attributes={
        **_NAME_ATTRIBUTES,
        "version_number": "version_number",
        "version": "version_number",
        "run_id": "run_id",
        "source_path": "source_path",
        "source": "source_path",
        "current_stage": "current_stage",
        "stage": "current_stage",
    },
    numeric_attributes=frozenset({"version_number", *_TIMES}),
    order_attributes=frozenset({"name", "version_number", "run_id", "source_path", "current_stage", *_TIMES}),
    order_entities=frozenset({"attribute"}),
)
