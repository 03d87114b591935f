"""Attributes Heron has already made valid, written straight into an OpenTelemetry SDK span.

The SDK checks and copies every attribute value under two locks (about a third of what a traced call
costs on top of raw OpenTelemetry). Heron's own values (span type, the JSON text of inputs and outputs)
are plain ``str``/``bool``/``int``/``float`` already, so on a recording SDK span with no value length
limit they go into the span's attribute dict as the SDK itself would store them. Any other case (another
kind of span, a value length limit, a full attribute dict, an ended span, another value type) goes
through ``span.set_attribute``, with the SDK's own checks and warnings. ``put_attributes`` also takes
any value and converts it as ``spans.attribute_value`` does; flat lists of one scalar type are stored as
the SDK stores them: as tuples. A recording light span (``lightspan.py``) with room left is written
the same way, into its plain attribute dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.trace import Span

from heron.tracing.lightspan import LightSpan

__all__ = ["put", "put_all", "put_attributes", "store_attributes", "is_plain"]

_PLAIN = (str, bool, int, float)
_INT64 = 2**63


def is_plain(value: Any) -> bool:
    """Whether the SDK would store ``value`` as it is (lists become tuples, so they are not plain)."""
    return type(value) in _PLAIN


def put(span: Span, key: str, value: Any) -> None:
    """``span.set_attribute(key, value)`` for a plain value, without the SDK's re-validation when
    ``span`` is a recording SDK span."""
    inner = _inner(span, 1)
    if inner is None or type(value) not in _PLAIN or not key:
        span.set_attribute(key, value)
        return
    if key in inner:
        del inner[key]  # the SDK moves a replaced key to the end
    inner[key] = value


def put_all(span: Span, attributes: Mapping[str, Any], key: str | None = None, value: Any = None) -> None:
    """``put`` for each of ``attributes`` (which must all be plain, with non-empty keys: check with
    ``is_plain``), then for ``key`` and ``value`` when ``key`` is given."""
    inner = _inner(span, len(attributes) + 1)
    if inner is None or (key is not None and (type(value) not in _PLAIN or not key)):
        span.set_attributes(attributes)
        if key is not None:
            span.set_attribute(key, value)
        return
    for name, item in attributes.items():
        if name in inner:
            del inner[name]
        inner[name] = item
    if key is not None:
        if key in inner:
            del inner[key]
        inner[key] = value


def put_attributes(span: Span, attributes: Mapping[str, Any], first: tuple[str, Any] | None = None) -> None:
    """``span.set_attributes`` of any values, each converted as ``spans.attribute_value`` converts it
    (None skipped, integers beyond 64 bits and other objects as text, flat lists kept), in one pass:
    what ``LiveSpan.set_attributes`` and the autologs write. ``first``: one plain (key, value) put
    before them (the span type)."""
    inner = _inner(span, len(attributes) + 1)
    if inner is None:
        converted: dict[str, Any] = {} if first is None else {first[0]: first[1]}
        for key, value in attributes.items():
            value = _converted(value)
            if value is not None:
                converted[str(key)] = value
        span.set_attributes(converted)
        return
    if first is not None:
        put(span, first[0], first[1])
    if not store_attributes(inner, attributes):
        for key, value in attributes.items():  # an empty key: the SDK's own warning for it
            if not key:
                span.set_attribute(key, _converted(value))


def store_attributes(inner: dict[str, Any], attributes: Mapping[str, Any], replace: bool = True) -> bool:
    """Convert and store ``attributes`` into the attribute dict ``inner`` as ``put_attributes`` does
    (``replace=False``: keys already there are kept). False when an empty key was skipped."""
    clean = True
    for key, value in attributes.items():
        kind = type(value)
        if kind is int:
            if not -_INT64 <= value < _INT64:
                value = str(value)
        elif kind is not str and kind is not float and kind is not bool:
            if value is None:
                continue
            if (kind is list or kind is tuple) and value and _one_plain_type(value):
                value = tuple(value)  # a flat list of one plain type: stored as the SDK stores it
            else:
                value = _converted(value)
                if value is None:
                    continue
                if type(value) is list:
                    value = tuple(value)
        if type(key) is not str:
            key = str(key)
        if not key:
            clean = False
            continue
        if key in inner:
            if not replace:
                continue
            del inner[key]
        inner[key] = value
    return clean


def _one_plain_type(values: list[Any] | tuple[Any, ...]) -> bool:
    first = type(values[0])
    if first is int:  # integers beyond 64 bits are text: left to attribute_value
        return all(type(v) is int and -_INT64 <= v < _INT64 for v in values)
    return first in _PLAIN and all(type(v) is first for v in values)


def _converted(value: Any) -> Any:
    from heron.tracing.spans import attribute_value  # spans imports this module

    return attribute_value(value)


def _inner(span: Span, room: int) -> dict[str, Any] | None:
    """The SDK span's attribute dict when ``room`` values may be stored into it directly, else None."""
    if type(span) is LightSpan:
        return span.attribute_dict(room)
    if not isinstance(span, SdkSpan):
        return None
    attributes = getattr(span, "_attributes", None)
    if type(attributes) is not BoundedAttributes or attributes.max_value_len is not None \
            or getattr(span, "_end_time", 0) is not None or getattr(attributes, "_immutable", True):
        return None
    inner = getattr(attributes, "_dict", None)
    if type(inner) is not dict or (attributes.maxlen is not None and len(inner) + room > attributes.maxlen):
        return None
    return inner
