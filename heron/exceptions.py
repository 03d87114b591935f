"""MLflow's module name for the error type (``from mlflow.exceptions import MlflowException``)."""

from heron.errors import HeronError, MlflowException

__all__ = ["HeronError", "MlflowException"]
