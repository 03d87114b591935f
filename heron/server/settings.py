"""How a Heron server is set up: one frozen :class:`Settings`, from ``heron server`` flags or the environment.

Light on purpose (no FastAPI): the ``heron`` command imports it to build its options.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlsplit

from heron import config
from heron.errors import HeronError
from heron.tracking.uri import DEFAULT_ARTIFACTS, DEFAULT_DB

__all__ = ["Settings", "is_loopback"]

# The roles of heron.auth.Role, by name (this module stays light: no import of the auth store).
_ROLES = ("NO_PERMISSIONS", "READ", "EDIT", "MANAGE")

PROXY_ROOT = "mlflow-artifacts:"
"""Artifact root of experiments created while the server proxies artifacts (MLflow's scheme)."""


@dataclass(frozen=True)
class Settings:
    """Everything ``create_app`` needs.

    ``backend_store_uri`` is a SQL tracking URI (``sqlite:///FILE``, ``postgresql://...``, a folder);
    ``artifacts_destination`` a folder or ``s3://bucket/prefix``. With ``serve_artifacts`` the server
    proxies artifact uploads and downloads and new experiments get ``mlflow-artifacts:/<id>`` locations;
    without it they get ``<artifacts_destination>/<id>`` and clients write there themselves.
    ``max_body_bytes`` bounds JSON request bodies and ``max_artifact_bytes`` artifact uploads (0: no
    bound); bigger ones get 413.
    """

    backend_store_uri: str = "sqlite:///" + DEFAULT_DB
    artifacts_destination: str = DEFAULT_ARTIFACTS
    serve_artifacts: bool = True
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    max_body_bytes: int = 32 * 1024 * 1024
    max_artifact_bytes: int = 0
    auth: bool = False
    default_permission: str = "READ"
    admin_username: str = "admin"
    access_log: bool = True
    graceful_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise HeronError.invalid(f"Port {self.port} is out of range: expected 0-65535.")
        if self.workers < 1:
            raise HeronError.invalid(f"workers must be at least 1, got {self.workers}.")
        if self.max_body_bytes < 1024:
            raise HeronError.invalid(f"max_body_bytes must be at least 1024, got {self.max_body_bytes}.")
        if self.max_artifact_bytes < 0:
            raise HeronError.invalid(f"max_artifact_bytes must be 0 (no limit) or more, got {self.max_artifact_bytes}.")
        if self.default_permission.upper() not in _ROLES:
            raise HeronError.invalid(
                f"default_permission must be one of {', '.join(_ROLES)}, got {self.default_permission!r}."
            )

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Settings from the ``HERON_SERVER_*`` variables of :mod:`heron.config`, then ``overrides``."""
        values: dict[str, Any] = {
            "backend_store_uri": config.SERVER_BACKEND_STORE_URI.get() or cls.backend_store_uri,
            "artifacts_destination": config.SERVER_ARTIFACTS_DESTINATION.get() or cls.artifacts_destination,
            "serve_artifacts": config.SERVER_SERVE_ARTIFACTS.get(),
            "max_body_bytes": config.SERVER_MAX_BODY_BYTES.get(),
            "max_artifact_bytes": config.SERVER_MAX_ARTIFACT_BYTES.get(),
            "auth": config.SERVER_AUTH.get(),
            "default_permission": config.SERVER_DEFAULT_PERMISSION.get(),
            "admin_username": config.ADMIN_USERNAME.get(),
        }
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"Unknown server settings: {', '.join(sorted(unknown))}")
        values.update(overrides)
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The environment that makes :meth:`from_env` rebuild these settings (for worker processes)."""
        return {
            config.SERVER_BACKEND_STORE_URI.name: self.backend_store_uri,
            config.SERVER_ARTIFACTS_DESTINATION.name: self.artifacts_destination,
            config.SERVER_SERVE_ARTIFACTS.name: "true" if self.serve_artifacts else "false",
            config.SERVER_MAX_BODY_BYTES.name: str(self.max_body_bytes),
            config.SERVER_MAX_ARTIFACT_BYTES.name: str(self.max_artifact_bytes),
            config.SERVER_AUTH.name: "true" if self.auth else "false",
            config.SERVER_DEFAULT_PERMISSION.name: self.default_permission,
            config.ADMIN_USERNAME.name: self.admin_username,
        }

    def resolved(self) -> Settings:
        """These settings with relative paths made absolute (against the current directory)."""
        store = self.backend_store_uri
        if store.startswith("sqlite:///") and not store.startswith("sqlite:////"):
            path = store[len("sqlite:///") :]
            if path and path != ":memory:":
                store = "sqlite:///" + os.path.abspath(path)
        destination = self.artifacts_destination
        if _is_local(destination):
            destination = os.path.abspath(destination.removeprefix("file://") if destination.startswith("file:///") else destination)
        return replace(self, backend_store_uri=store, artifacts_destination=destination)

    @property
    def default_artifact_root(self) -> str:
        """Where new experiments keep artifacts: the proxy, or the destination itself."""
        return PROXY_ROOT if self.serve_artifacts else self.artifacts_destination


def _is_local(uri: str) -> bool:
    scheme = urlsplit(uri).scheme.lower()
    return scheme in ("", "file") or (len(scheme) == 1 and os.name == "nt")


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` exposes the server only to this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
