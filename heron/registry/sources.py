"""Where a registered version's files are: turning ``runs:/`` URIs into sources and ``models:/`` URIs
into the source of the version they name."""

from __future__ import annotations

from heron.errors import HeronError
from heron.registry import uris
from heron.registry.records import ModelVersion
from heron.registry.stores import get_registry_store
from heron.tracking.client import Client

__all__ = ["get_underlying_uri", "resolve_model_version", "source_for"]

_MAX_HOPS = 10  # models:/ sources chain through copy_model_version; a cycle is impossible, a bound is cheap


def source_for(model_uri: str, run_id: str | None = None, tracking_uri: str | None = None) -> tuple[str, str | None]:
    """(source, run_id) for registering ``model_uri``.

    ``runs:/<run_id>/<path>`` becomes the run's artifact URI joined with ``path``, and names the run;
    any other URI is kept as given. Raises RESOURCE_DOES_NOT_EXIST for an unknown run.
    """
    if not isinstance(model_uri, str) or not model_uri:
        raise HeronError.invalid(f"Invalid model URI {model_uri!r}: expected runs:/<run_id>/<path> or a location.")
    if not model_uri.startswith("runs:/"):
        return model_uri, run_id
    rest = model_uri[len("runs:/") :].lstrip("/")
    uri_run_id, _, path = rest.partition("/")
    if not uri_run_id:
        raise HeronError.invalid(f"Invalid runs URI {model_uri!r}: expected runs:/<run_id>/<artifact path>.")
    if run_id is not None and run_id != uri_run_id:
        raise HeronError.invalid(
            f"run_id {run_id!r} does not match the run in {model_uri!r}: give one run, or leave run_id out."
        )
    run = Client(tracking_uri).get_run(uri_run_id)
    root = run.info.artifact_uri.rstrip("/")
    return (f"{root}/{path.strip('/')}" if path.strip("/") else root), uri_run_id


def resolve_model_version(model_uri: str, tracking_uri: str | None = None) -> ModelVersion:
    """The model version ``models:/NAME/3``, ``models:/NAME@alias``, ``models:/NAME/latest`` or
    ``models:/NAME/Production`` names. Raises INVALID_PARAMETER_VALUE for a malformed URI and
    RESOURCE_DOES_NOT_EXIST naming what is missing."""
    return get_registry_store(tracking_uri).resolve("model", uris.parse(model_uri, "models"))


def get_underlying_uri(model_uri: str, tracking_uri: str | None = None) -> str:
    """The location of the files behind a ``models:/`` URI (following copies); other URIs are returned
    unchanged. This is what pyfunc loading and serving read from."""
    uri = model_uri
    for _ in range(_MAX_HOPS):
        if not uri.startswith("models:/"):
            return uri
        source = resolve_model_version(uri, tracking_uri).source
        if not source:
            raise HeronError.not_found(f"Model version {uri} has no source location.")
        uri = source
    raise HeronError.invalid(f"Model URI {model_uri!r} leads through more than {_MAX_HOPS} models:/ sources.")
