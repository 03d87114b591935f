"""Experiments, runs, params, metrics, tags and artifacts: stores, the Client and the fluent API.

Like ``heron`` itself, this package imports its parts on first use.
"""

from __future__ import annotations

from heron.lazy import attribute_loader

# ``heron.tracking`` is also MLflow's ``mlflow.tracking`` import path, whose MlflowClient has the registry
# methods: the names resolve (lazily, by name) to the full client. Modules inside tracking/ never
# import the layers above; this facade entry is the one place that names one.
_EXPORTS = {
    "Client": "heron.prompts.client",
    "MlflowClient": "heron.prompts.client",
    "set_tracking_uri": "heron.tracking.uri",
    "get_tracking_uri": "heron.tracking.uri",
}

__all__ = sorted(_EXPORTS)


__getattr__ = attribute_loader("heron.tracking", _EXPORTS)
