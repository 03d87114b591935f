"""Checks on names and values before anything is written, with MLflow's limits.

Every check raises HeronError(INVALID_PARAMETER_VALUE) with a message naming the field, what it got and
what it expected.
"""

from __future__ import annotations

import numbers
import posixpath
import re
from collections.abc import Sequence

from heron.errors import HeronError
from heron.tracking.entities import Metric, Param, RunTag

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_TAG_VALUE_LENGTH = 5000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_RUN_NAME_LENGTH = 250
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_RESULTS = 50_000
MAX_USER_ID_LENGTH = 256
MAX_ARTIFACT_LOCATION_LENGTH = 1000

_KEY_RE = re.compile(r"^[/\w.\- ]+$")
_RUN_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")


_known_good_keys: set[str] = set()  # keys repeat; checking each once keeps log_batch cheap


def key(kind: str, name: object) -> str:
    """A metric, param or tag key: letters, digits, ``_ - . /`` and spaces, at most 250 characters."""
    if name.__class__ is str and name in _known_good_keys:
        return name  # type: ignore[return-value]
    if not isinstance(name, str) or name == "":
        raise HeronError.invalid(f"{kind} name must be a non-empty string, got {name!r}.")
    if len(name) > MAX_KEY_LENGTH:
        raise HeronError.invalid(
            f"{kind} name '{name[:40]}...' is {len(name)} characters long: at most {MAX_KEY_LENGTH} are allowed."
        )
    if not _KEY_RE.match(name):
        raise HeronError.invalid(
            f"Invalid {kind.lower()} name: {name!r}. Names may only contain alphanumerics, underscores (_), "
            "dashes (-), periods (.), spaces ( ), and slashes (/)."
        )
    # Keys become file names in some places: they must not mean another name as a path.
    if name.startswith("/") or ".." in name.split("/") or posixpath.normpath(name) != name:
        raise HeronError.invalid(
            f"Invalid {kind.lower()} name: {name!r}. Names must not start with '/' or contain "
            "'..', './' or '//' (they may be used as relative paths)."
        )
    if len(_known_good_keys) < 100_000:
        _known_good_keys.add(name)
    return name


def run_id(value: object) -> str:
    if not isinstance(value, str) or not _RUN_ID_RE.match(value):
        raise HeronError.invalid(
            f"Invalid run ID: {value!r}. Expected a string of letters, digits, '_' or '-'."
        )
    return value


def experiment_id(value: object) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or int(text) >= 2**31:
        raise HeronError.invalid(
            f"Invalid experiment ID: {value!r}. Expected a string of digits such as '0' (below 2**31)."
        )
    return text


def text_value(field: str, value: str) -> str:
    """Any stored text: PostgreSQL cannot hold a NUL character, so none is accepted anywhere."""
    if "\x00" in value:
        raise HeronError.invalid(f"{field} contains a NUL character (\\x00), which cannot be stored.")
    return value


def experiment_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise HeronError.invalid(f"Invalid experiment name: {name!r}. Expected a non-empty string.")
    text_value("Experiment name", name)
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise HeronError.invalid(
            f"Experiment name is {len(name)} characters long: at most {MAX_EXPERIMENT_NAME_LENGTH} are allowed."
        )
    return name


def run_name(name: object) -> str:
    if not isinstance(name, str):
        raise HeronError.invalid(f"Invalid run name: {name!r}. Expected a string.")
    text_value("Run name", name)
    if len(name) > MAX_RUN_NAME_LENGTH:
        raise HeronError.invalid(
            f"Run name is {len(name)} characters long: at most {MAX_RUN_NAME_LENGTH} are allowed."
        )
    return name


def metric(m: Metric) -> Metric:
    """Validate and normalise a metric: float value (NaN and ±inf allowed), int step and timestamp."""
    key("Metric", m.key)
    if m.value.__class__ is float and m.step.__class__ is int and m.timestamp.__class__ is int:
        return m  # the common case, without the slower ABC checks below
    value = m.value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise HeronError.invalid(
            f"Metric '{m.key}' has value {value!r} of type {type(value).__name__}: expected a number "
            "(int or float; NaN and ±inf are allowed)."
        )
    step = m.step
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise HeronError.invalid(f"Metric '{m.key}' has step {step!r}: expected an integer.")
    timestamp = m.timestamp
    if isinstance(timestamp, bool) or not isinstance(timestamp, numbers.Integral):
        raise HeronError.invalid(
            f"Metric '{m.key}' has timestamp {timestamp!r}: expected an integer (milliseconds since the epoch)."
        )
    return Metric(m.key, float(value), int(timestamp), int(step), m.run_id)


def param(p: Param) -> Param:
    key("Param", p.key)
    value = text_value(f"Param '{p.key}' value", str(p.value))
    if len(value) > MAX_PARAM_VALUE_LENGTH:
        raise HeronError.invalid(
            f"Param '{p.key}' value is {len(value)} characters long: at most {MAX_PARAM_VALUE_LENGTH} are "
            "allowed (log long values as an artifact with log_text or log_dict)."
        )
    return Param(p.key, value)


def tag(t: RunTag, max_value_length: int = MAX_TAG_VALUE_LENGTH) -> RunTag:
    key("Tag", t.key)
    value = text_value(f"Tag '{t.key}' value", str(t.value))
    if len(value) > max_value_length:
        raise HeronError.invalid(
            f"Tag '{t.key}' value is {len(value)} characters long: at most {max_value_length} are allowed."
        )
    return RunTag(t.key, value)


def batch(
    metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> tuple[list[Metric], list[Param], list[RunTag]]:
    """Validate a whole log_batch before anything is written."""
    if len(metrics) > MAX_METRICS_PER_BATCH:
        raise HeronError.invalid(
            f"A batch logged {len(metrics)} metrics: at most {MAX_METRICS_PER_BATCH} are allowed per batch."
        )
    if len(params) > MAX_PARAMS_TAGS_PER_BATCH:
        raise HeronError.invalid(
            f"A batch logged {len(params)} params: at most {MAX_PARAMS_TAGS_PER_BATCH} are allowed per batch."
        )
    if len(tags) > MAX_PARAMS_TAGS_PER_BATCH:
        raise HeronError.invalid(
            f"A batch logged {len(tags)} tags: at most {MAX_PARAMS_TAGS_PER_BATCH} are allowed per batch."
        )
    total = len(metrics) + len(params) + len(tags)
    if total > MAX_ENTITIES_PER_BATCH:
        raise HeronError.invalid(
            f"A batch logged {total} metrics, params and tags: at most {MAX_ENTITIES_PER_BATCH} are allowed."
        )
    good_params: dict[str, Param] = {}
    for p in params:
        p = param(p)
        seen = good_params.get(p.key)
        if seen is not None and seen.value != p.value:
            raise HeronError.invalid(
                f"Param '{p.key}' appears twice in the batch with different values: {seen.value!r} and {p.value!r}."
            )
        good_params[p.key] = p
    return [metric(m) for m in metrics], list(good_params.values()), [tag(t) for t in tags]


def user_id(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_USER_ID_LENGTH:
        raise HeronError.invalid(
            f"Invalid user id {value!r}: expected a string of at most {MAX_USER_ID_LENGTH} characters."
        )
    return text_value("User id", value)


def artifact_location(value: str | None) -> str | None:
    if value is not None and len(value) > MAX_ARTIFACT_LOCATION_LENGTH:
        raise HeronError.invalid(
            f"Artifact location is {len(value)} characters long: at most {MAX_ARTIFACT_LOCATION_LENGTH} are allowed."
        )
    return value if value is None else text_value("Artifact location", value)


def max_results(value: object, limit: int = MAX_RESULTS) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > limit:
        raise HeronError.invalid(f"max_results must be an integer from 1 to {limit}, got {value!r}.")
    return value
