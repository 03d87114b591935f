"""``heron.openai``: tracing for the OpenAI SDK, as ``mlflow.openai`` offers it.

``heron.openai.autolog()`` turns every ``openai`` call into a span; see docs/openai.md. Importing this
module does not import ``openai``: the SDK is patched when ``autolog()`` runs.
"""

from __future__ import annotations

from heron.tracing.autolog.openai import autolog

__all__ = ["autolog"]
