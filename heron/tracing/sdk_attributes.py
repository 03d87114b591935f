"""Attributes Heron has already made valid, written straight into an OpenTelemetry SDK span.

The SDK checks and copies every attribute value under two locks (about a third of what a traced call
costs on top of raw OpenTelemetry). Heron's own values (span type, the JSON text of inputs and outputs)
are plain ``str``/``bool``/``int``/``float`` already, so on a recording SDK span with no value length
limit they go into the span's attribute dict as the SDK itself would store them. Any other case (another
kind of span, a value length limit, a full attribute dict, an ended span, another value type) goes
through ``span.set_attribute``, with the SDK's own checks and warnings. ``put_values`` also takes the
flat lists ``spans.attribute_value`` makes (one scalar type), stored as the SDK stores them: as tuples.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.trace import Span

__all__ = ["put", "put_all", "put_values", "is_plain"]

_PLAIN = (str, bool, int, float)


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


def put_values(span: Span, attributes: Mapping[str, Any]) -> None:
    """``span.set_attributes(attributes)`` for values that are plain or flat lists of one plain type (as
    ``spans.attribute_value`` returns them), without the SDK's re-validation on a recording SDK span."""
    inner = _inner(span, len(attributes))
    if inner is None:
        span.set_attributes(attributes)
        return
    for name, value in attributes.items():
        kind = type(value)
        if kind is list and value and len({type(v) for v in value}) == 1 and type(value[0]) in _PLAIN:
            value = tuple(value)
        elif kind not in _PLAIN or not name:
            span.set_attribute(name, value)
            continue
        if name in inner:
            del inner[name]
        inner[name] = value


def _inner(span: Span, room: int) -> dict[str, Any] | None:
    """The SDK span's attribute dict when ``room`` values may be stored into it directly, else None."""
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
