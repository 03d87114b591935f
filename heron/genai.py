"""MLflow 3's ``mlflow.genai`` names for the prompt registry (``mlflow.genai.register_prompt`` …)."""

from heron.prompts.fluent import (
    delete_prompt_alias,
    delete_prompt_version,
    load_prompt,
    register_prompt,
    search_prompts,
    set_prompt_alias,
)

__all__ = [
    "delete_prompt_alias",
    "delete_prompt_version",
    "load_prompt",
    "register_prompt",
    "search_prompts",
    "set_prompt_alias",
]
