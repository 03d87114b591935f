"""Safe, size-bounded JSON for span inputs and outputs: anything goes in, nothing raises.

``to_json(value)`` walks ``value`` once, turning what JSON cannot hold into something it can (pydantic
models, dataclasses, numpy arrays and scalars, bytes, sets, dates, other objects by their ``repr``) and
cutting what is too big (long strings, long lists, deep nesting) with a visible marker. It costs about a
microsecond for the small arguments of a typical call and never copies a big string more than once.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import math
import uuid
from collections.abc import Mapping
from typing import Any

from heron.tracing.jsontext import dumps, plain_dumps

__all__ = ["to_json", "plain_json", "bounded", "truncate_text", "MAX_ITEMS", "MAX_DEPTH"]

MAX_ITEMS = 1_000  # items kept from one list, dict or array
MAX_DEPTH = 20  # nesting kept; deeper values (and reference cycles) become a marker
_DEFAULT_MAX_CHARS = 100_000
_REPR_CHARS = 1_000
_MARKER_SLACK = 100  # room for one truncation marker and quotes
_INT64, _UINT64 = 2**63, 2**64  # integers JSON readers (and orjson) take as numbers

_dumps = dumps


def to_json(value: Any, max_chars: int = _DEFAULT_MAX_CHARS) -> str:
    """``value`` as JSON text of at most about ``max_chars`` characters. Never raises.

    Each string is cut to ``max_chars``; when the whole is still longer, strings are cut to an eighth of
    it, and if that is not enough the result is a JSON string holding the first ``max_chars`` characters
    of the JSON text and a ``...[truncated …]`` marker, so the result is always valid JSON. Thread-safe.
    """
    kind = type(value)
    try:
        if (kind is str and len(value) <= max_chars) or ((kind is dict or kind is list) and _plain(value, max_chars)):
            text = _dumps(value)  # bounded() would return an equal copy: skip making it
        else:
            text = _dumps(bounded(value, max_chars))
    except Exception as exc:  # noqa: BLE001 - a value JSON still refuses (should not happen): say what
        text = _dumps(f"<unserializable {type(value).__name__}: {type(exc).__name__}>")
    if len(text) > max_chars + _MARKER_SLACK:
        # Too big as a whole: cut every string shorter to keep the structure, else keep the text's head.
        try:
            text = _dumps(bounded(value, max(max_chars // 8, 100)))
        except Exception:  # noqa: BLE001
            pass
        if len(text) > max_chars + _MARKER_SLACK:
            text = _dumps(truncate_text(text, max_chars))
    return text


def plain_json(value: Any, max_chars: int = _DEFAULT_MAX_CHARS) -> str:
    """``to_json`` for values that are nearly always plain JSON data already (chat messages, and what
    autolog builds from an SDK's response): the encoder first, ``to_json``'s walk only when the encoder
    refuses a value (see ``jsontext.plain_dumps``) or the text is longer than ``max_chars``. Never raises.

    Two differences from ``to_json``, both within the same size bound: a NaN or infinite float is
    written as null (orjson's rule), and a list longer than MAX_ITEMS or nesting deeper than MAX_DEPTH
    is kept whole when the whole text fits in ``max_chars``.
    """
    try:
        text = plain_dumps(value)
    except (TypeError, ValueError, RecursionError):  # orjson's JSONEncodeError is a TypeError
        return to_json(value, max_chars)
    return text if len(text) <= max_chars else to_json(value, max_chars)


def _plain(value: dict[Any, Any] | list[Any] | tuple[Any, ...], max_chars: int, depth: int = 0) -> bool:
    """Whether ``bounded`` would return ``value`` unchanged (up to tuples becoming lists, which JSON does
    not tell apart): containers of at most MAX_ITEMS within MAX_DEPTH, string keys, strings of at most
    ``max_chars``, JSON-safe numbers, bools and None. Checking makes no copy: the arguments and results
    of most calls (messages, small dicts) pass and go to the encoder as they are."""
    if depth >= MAX_DEPTH or len(value) > MAX_ITEMS:
        return False
    if type(value) is dict:
        for key in value:
            if type(key) is not str:
                return False
        items: Any = value.values()
    else:
        items = value
    for item in items:
        kind = type(item)
        if kind is str:
            if len(item) > max_chars:
                return False
        elif kind is int:
            if not -_INT64 <= item < _UINT64:
                return False
        elif kind is float:
            if not math.isfinite(item):
                return False
        elif kind is dict or kind is list or kind is tuple:
            if not _plain(item, max_chars, depth + 1):
                return False
        elif item is not None and kind is not bool:
            return False
    return True


def truncate_text(text: str, max_chars: int) -> str:
    """``text`` cut to ``max_chars`` characters plus a marker saying how long it was."""
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]}...[truncated, {len(text)} chars in total]"


def bounded(value: Any, max_chars: int = _DEFAULT_MAX_CHARS, depth: int = 0) -> Any:
    """A JSON-ready copy of ``value`` (dicts, lists, str, int, float, bool, None), size-bounded."""
    kind = type(value)
    if kind is str:
        return value if len(value) <= max_chars else truncate_text(value, max_chars)
    if kind is int:
        return value if -_INT64 <= value < _UINT64 else str(value)
    if value is None or kind is bool:
        return value
    if kind is float:
        return value if math.isfinite(value) else str(value)
    if depth >= MAX_DEPTH:
        return f"<{kind.__name__} nested deeper than {MAX_DEPTH}>"
    if kind is dict:
        return _bounded_mapping(value, max_chars, depth)
    if kind is list or kind is tuple:
        return _bounded_sequence(value, len(value), max_chars, depth)
    try:
        return _convert(value, max_chars, depth)
    except Exception:  # noqa: BLE001 - a user's model_dump/__repr__ may raise; tracing must not
        return f"<{kind.__name__} object>"


def _bounded_mapping(value: Mapping[Any, Any], max_chars: int, depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, (key, item) in enumerate(value.items()):
        if i >= MAX_ITEMS:
            out["..."] = f"[{len(value) - MAX_ITEMS} more items]"
            break
        if type(key) is not str:
            key = _key(key)
        out[key] = bounded(item, max_chars, depth + 1)
    return out


def _bounded_sequence(items: Any, size: int, max_chars: int, depth: int) -> list[Any]:
    out: list[Any] = []
    for i, item in enumerate(items):
        if i >= MAX_ITEMS:
            out.append(f"...[{size - MAX_ITEMS} more items]")
            break
        out.append(bounded(item, max_chars, depth + 1))
    return out


def _key(key: Any) -> str:
    if isinstance(key, str | int | float | bool) or key is None:
        return str(key)
    return _repr(key, _REPR_CHARS)


def _convert(value: Any, max_chars: int, depth: int) -> Any:
    """Values JSON cannot take as they are."""
    if isinstance(value, str):  # str subclasses (StrEnum ...)
        return bounded(str(value), max_chars, depth)
    if isinstance(value, bool | int):
        return bounded(int(value), max_chars, depth)
    if isinstance(value, float):
        return bounded(float(value), max_chars, depth)
    if isinstance(value, enum.Enum):
        return bounded(value.value, max_chars, depth + 1)
    if isinstance(value, Mapping):
        return _bounded_mapping(value, max_chars, depth)
    if isinstance(value, list | tuple):
        return _bounded_sequence(value, len(value), max_chars, depth)
    if isinstance(value, bytes | bytearray | memoryview):
        return _bytes(bytes(value[:max_chars]), len(value))
    if isinstance(value, set | frozenset):
        return _bounded_sequence(_sorted(value), len(value), max_chars, depth)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, BaseException):
        return truncate_text(f"{type(value).__name__}: {value}", min(max_chars, _REPR_CHARS))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _bounded_mapping({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, max_chars, depth)
    module = type(value).__module__
    if module.startswith("numpy"):
        return _numpy(value, max_chars, depth)
    if module.startswith("pandas"):
        return _pandas(value, max_chars, depth)
    model_dump = getattr(value, "model_dump", None)  # pydantic v2 (LangChain messages, OpenAI responses)
    if callable(model_dump) and not isinstance(value, type):
        return bounded(model_dump(), max_chars, depth + 1)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, type):
        return bounded(to_dict(), max_chars, depth + 1)
    if hasattr(value, "__next__") or hasattr(value, "__anext__"):
        return f"<{type(value).__name__} object>"  # never consume a user's iterator
    return _repr(value, min(max_chars, _REPR_CHARS))


def _numpy(value: Any, max_chars: int, depth: int) -> Any:
    size = getattr(value, "size", None)
    shape = getattr(value, "shape", None)
    if shape == () or size is None:  # a numpy scalar
        item = value.item() if hasattr(value, "item") else value
        return bounded(item, max_chars, depth + 1) if type(item).__module__ == "builtins" else _repr(item, 100)
    if size <= MAX_ITEMS:
        return bounded(value.tolist(), max_chars, depth)
    head = value.reshape(-1)[:MAX_ITEMS].tolist()
    return {"dtype": str(value.dtype), "shape": list(shape or ()), "head": bounded(head, max_chars, depth + 1),
            "truncated": f"{size - MAX_ITEMS} more items"}


def _pandas(value: Any, max_chars: int, depth: int) -> Any:
    if hasattr(value, "columns"):  # DataFrame
        rows = value.head(MAX_ITEMS).to_dict(orient="records")
        out: Any = bounded(rows, max_chars, depth)
        if len(value) > MAX_ITEMS:
            out.append(f"...[{len(value) - MAX_ITEMS} more rows]")
        return out
    if hasattr(value, "to_list"):  # Series, Index
        return _bounded_sequence(value.head(MAX_ITEMS + 1).to_list() if hasattr(value, "head") else value.to_list(),
                                 len(value), max_chars, depth)
    return _repr(value, min(max_chars, _REPR_CHARS))


def _bytes(data: bytes, size: int) -> str:
    text = data.decode("utf-8", errors="replace")
    return text if size == len(data) else f"{text}...[truncated, {size} bytes in total]"


def _sorted(values: Any) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return list(values)


def _repr(value: Any, max_chars: int) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001
        text = f"<{type(value).__name__} object>"
    return truncate_text(text, max_chars)
