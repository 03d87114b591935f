"""Every ``HERON_*`` environment variable, declared once with its type, default and meaning.

Read a value with ``config.TRACKING_URI.get()``; values are read when asked for, never at import, so
tests and apps can set the environment at any time before use.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from heron.errors import HeronError

T = TypeVar("T")

__all__ = ["Variable", "ALL"]


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true/false, got {raw!r}")


@dataclass(frozen=True)
class Variable(Generic[T]):
    """One environment variable: its name, default, parser and what it is for."""

    name: str
    default: T
    parse: Callable[[str], T]
    doc: str

    def get(self) -> T:
        raw = environ_get(self.name)
        if raw is None or raw == "":
            return self.default
        try:
            return self.parse(raw)
        except ValueError as exc:
            raise HeronError.invalid(f"Environment variable {self.name}={raw!r} is invalid: {exc}") from None

    def is_set(self) -> bool:
        return bool(environ_get(self.name))


_ENVIRON = os.environ
_DATA = getattr(_ENVIRON, "_data", None)  # os._Environ's own dict: encoded keys -> encoded values
_encode_key = getattr(_ENVIRON, "encodekey", None)
_decode_value = getattr(_ENVIRON, "decodevalue", None)
_FAST = isinstance(_DATA, dict) and callable(_encode_key) and callable(_decode_value)
_KEYS: dict[str, object] = {}


def environ_get(name: str) -> str | None:
    """``os.environ.get(name)``, faster for an unset name.

    The standard path raises and catches a KeyError for every unset variable (~2 µs here), and the
    tracing hot path reads unset variables at every trace. This reads ``os.environ``'s own dict with the
    key encoded once; if ``os.environ`` was replaced (tests may swap it for a dict) or is not CPython's
    mapping, it falls back to ``os.environ.get``.
    """
    if _FAST and os.environ is _ENVIRON:
        key = _KEYS.get(name)
        if key is None:
            key = _KEYS[name] = _encode_key(name)  # type: ignore[misc]
        raw = _DATA.get(key)  # type: ignore[union-attr]
        return None if raw is None else str(_decode_value(raw))  # type: ignore[misc]
    return os.environ.get(name)


def _opt_str(raw: str) -> str | None:
    return raw


TRACKING_URI: Variable[str | None] = Variable(
    "HERON_TRACKING_URI",
    None,
    _opt_str,
    "Where runs and traces go: sqlite:///path.db, postgresql://..., a folder (file:PATH), or "
    "http(s)://host:port. Unset: ./heron.db with artifacts in ./heron-artifacts/.",
)
ARTIFACT_ROOT: Variable[str | None] = Variable(
    "HERON_ARTIFACT_ROOT",
    None,
    _opt_str,
    "Default artifact root for new experiments (a folder or s3://bucket/prefix). Unset: the "
    "'heron-artifacts' folder beside the SQLite file, or ./heron-artifacts for other stores.",
)
SQLITE_BUSY_TIMEOUT_MS: Variable[int] = Variable(
    "HERON_SQLITE_BUSY_TIMEOUT_MS",
    60_000,
    int,
    "How long a SQLite writer waits for another writer's lock before failing.",
)
EXPERIMENT_NAME: Variable[str | None] = Variable(
    "HERON_EXPERIMENT_NAME",
    None,
    _opt_str,
    "Experiment that new runs and traces go to by name.",
)
EXPERIMENT_ID: Variable[str | None] = Variable(
    "HERON_EXPERIMENT_ID",
    None,
    _opt_str,
    "Experiment that new runs and traces go to by id.",
)
RUN_ID: Variable[str | None] = Variable(
    "HERON_RUN_ID",
    None,
    _opt_str,
    "A run that start_run() resumes when given no run_id.",
)
S3_ENDPOINT_URL: Variable[str | None] = Variable(
    "HERON_S3_ENDPOINT_URL",
    None,
    _opt_str,
    "S3-compatible endpoint for s3:// artifacts (MinIO, moto...). MLFLOW_S3_ENDPOINT_URL is read too.",
)
PRICES_FILE: Variable[str | None] = Variable(
    "HERON_PRICES_FILE",
    None,
    _opt_str,
    'A JSON price file ({"models": {pattern: {"input_per_million": ..., "output_per_million": ..., '
    '"cached_input_per_million": ...}}}) whose entries override Heron\'s shipped price table.',
)

OTLP_ENDPOINT: Variable[str | None] = Variable(
    "HERON_OTLP_ENDPOINT",
    None,
    _opt_str,
    "Full URL of an OTLP/HTTP traces endpoint (e.g. http://127.0.0.1:4318/v1/traces). Set, traces go there "
    "as OTLP protobuf instead of to the tracking store; OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is read too.",
)
TRACE_QUEUE_SIZE: Variable[int] = Variable(
    "HERON_TRACE_QUEUE_SIZE",
    100_000,
    int,
    "How many finished spans may wait for export; beyond it new spans are dropped and counted "
    "(heron.tracing.stats()), never blocking the traced code.",
)
TRACE_MAX_VALUE_CHARS: Variable[int] = Variable(
    "HERON_TRACE_MAX_VALUE_CHARS",
    100_000,
    int,
    "Longest JSON text kept for one span's inputs or outputs (and for one string inside them); longer "
    "values are truncated with a marker.",
)
TRACE_SAMPLING_RATIO: Variable[float] = Variable(
    "HERON_TRACE_SAMPLING_RATIO",
    1.0,
    float,
    "Share of traces recorded (decided at the root span; child spans follow). heron.tracing.configure "
    "overrides it.",
)
TRACE_EXIT_FLUSH_TIMEOUT_S: Variable[float] = Variable(
    "HERON_TRACE_EXIT_FLUSH_TIMEOUT_S",
    10.0,
    float,
    "How long the interpreter waits at exit for queued spans to be exported.",
)

PROMPT_CACHE_TTL_SECONDS: Variable[float] = Variable(
    "HERON_PROMPT_CACHE_TTL_SECONDS",
    60.0,
    float,
    "How long load_prompt keeps a loaded prompt version in memory before asking the store again, so an "
    "alias moved by another process is seen within this time (writes in the same process are seen at "
    "once). 0 turns the cache off; load_prompt(cache_ttl_seconds=...) overrides it per call.",
)

def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError(f"expected a number of seconds > 0, got {raw!r}")
    return value


TRACKING_TOKEN: Variable[str | None] = Variable(
    "HERON_TRACKING_TOKEN",
    None,
    _opt_str,
    "Bearer token sent as 'Authorization: Bearer <token>' with every request to a Heron server "
    "(http(s):// tracking URIs and mlflow-artifacts:/ artifacts). Unset: no Authorization header.",
)
HTTP_TIMEOUT_S: Variable[float] = Variable(
    "HERON_HTTP_TIMEOUT_S",
    120.0,
    _positive_float,
    "How long one HTTP request to a Heron server may wait for the server to answer (read/write timeout).",
)
HTTP_RETRY_TIMEOUT_S: Variable[float] = Variable(
    "HERON_HTTP_RETRY_TIMEOUT_S",
    60.0,
    _positive_float,
    "How long a call to a Heron server keeps retrying, with exponential backoff, while the server cannot "
    "be reached (e.g. during a restart) before raising TEMPORARILY_UNAVAILABLE. Writes that may have "
    "reached the server are never retried (see docs/server.md).",
)
SERVER_BACKEND_STORE_URI: Variable[str | None] = Variable(
    "HERON_SERVER_BACKEND_STORE_URI",
    None,
    _opt_str,
    "Default --backend-store-uri of `heron server`: sqlite:///FILE or postgresql://... Unset: ./heron.db.",
)
SERVER_ARTIFACTS_DESTINATION: Variable[str | None] = Variable(
    "HERON_SERVER_ARTIFACTS_DESTINATION",
    None,
    _opt_str,
    "Default --artifacts-destination of `heron server`: a folder or s3://bucket/prefix where the server "
    "keeps the artifacts it proxies. Unset: ./heron-artifacts.",
)
SERVER_SERVE_ARTIFACTS: Variable[bool] = Variable(
    "HERON_SERVER_SERVE_ARTIFACTS",
    True,
    _parse_bool,
    "Default of `heron server --serve-artifacts/--no-serve-artifacts`: whether the server proxies artifact "
    "uploads and downloads (new experiments then get mlflow-artifacts:/<id> locations).",
)
SERVER_MAX_BODY_BYTES: Variable[int] = Variable(
    "HERON_SERVER_MAX_BODY_BYTES",
    32 * 1024 * 1024,
    int,
    "Largest request body `heron server` accepts on its JSON API (bigger ones get 413). Artifact uploads "
    "have their own limit, HERON_SERVER_MAX_ARTIFACT_BYTES.",
)
SERVER_MAX_ARTIFACT_BYTES: Variable[int] = Variable(
    "HERON_SERVER_MAX_ARTIFACT_BYTES",
    0,
    int,
    "Largest artifact upload `heron server` accepts through its artifact proxy (bigger ones get 413); "
    "0 means no limit. Uploads are streamed to disk, never held in memory.",
)

SERVER_AUTH: Variable[bool] = Variable(
    "HERON_SERVER_AUTH",
    False,
    _parse_bool,
    "Default of `heron server --auth/--no-auth`: require HTTP basic auth or an API token on every request "
    "and enforce per-experiment and per-name permissions (see docs/server.md#authentication).",
)
SERVER_DEFAULT_PERMISSION: Variable[str] = Variable(
    "HERON_SERVER_DEFAULT_PERMISSION",
    "READ",
    str,
    "Default of `heron server --default-permission`: the role (READ, EDIT, MANAGE or NO_PERMISSIONS) a user "
    "has on an experiment or registered name they were given no permission on. READ, as MLflow.",
)
ADMIN_USERNAME: Variable[str] = Variable(
    "HERON_ADMIN_USERNAME",
    "admin",
    str,
    "Default of `heron server --admin-user`: the admin that `heron server --auth` creates at start-up when "
    "HERON_ADMIN_PASSWORD is set and no user of that name exists.",
)
ADMIN_PASSWORD: Variable[str | None] = Variable(
    "HERON_ADMIN_PASSWORD",
    None,
    _opt_str,
    "Password of the admin that `heron server --auth` creates at start-up (see HERON_ADMIN_USERNAME); an "
    "existing user's password is never changed by it. Unset: the server needs an admin created with "
    "`heron users create NAME --admin`.",
)
TRACKING_USERNAME: Variable[str | None] = Variable(
    "HERON_TRACKING_USERNAME",
    None,
    _opt_str,
    "User name sent with HTTP basic auth (with HERON_TRACKING_PASSWORD) to a Heron server started with "
    "--auth. HERON_TRACKING_TOKEN wins when both are set.",
)
TRACKING_PASSWORD: Variable[str | None] = Variable(
    "HERON_TRACKING_PASSWORD",
    None,
    _opt_str,
    "Password sent with HTTP basic auth together with HERON_TRACKING_USERNAME.",
)

ALL: tuple[Variable[object], ...] = tuple(
    v
    for v in list(globals().values())
    if isinstance(v, Variable)  # type: ignore[misc]
)
