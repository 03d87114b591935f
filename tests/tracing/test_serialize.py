"""Bounded, safe JSON for span inputs and outputs: anything goes in, valid JSON of bounded size comes out."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import math
import uuid
from typing import Any

import numpy as np
import pandas as pd
import pydantic
from hypothesis import given, settings
from hypothesis import strategies as st

from heron.tracing.jsontext import dumps, stdlib_dumps
from heron.tracing.serialize import MAX_DEPTH, MAX_ITEMS, bounded, plain_json, to_json, truncate_text


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    label: str


class Message(pydantic.BaseModel):
    role: str
    content: str


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


class BadDump(pydantic.BaseModel):
    x: int = 1

    def model_dump(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("broken")


def roundtrip(value: Any, max_chars: int = 100_000) -> Any:
    text = to_json(value, max_chars)
    assert isinstance(text, str)
    return json.loads(text)  # always valid JSON


def test_plain_values_are_unchanged() -> None:
    value = {"a": [1, 2.5, "x", None, True], "b": {"c": "d"}}
    assert roundtrip(value) == value
    assert to_json({"x": 1}) == '{"x":1}'
    assert roundtrip("héllo ✓") == "héllo ✓"


def test_rich_python_values() -> None:
    when = datetime.datetime(2026, 1, 2, 3, 4, 5)
    ident = uuid.UUID(int=1)
    found = roundtrip({
        "point": Point(1, "p"),
        "msg": Message(role="user", content="hi"),
        "color": Color.RED,
        "when": when,
        "id": ident,
        "tags": {"b", "a"},
        "tuple": (1, 2),
        "bytes": b"raw bytes",
        "binary": bytes(range(250, 256)),
        "error": ValueError("bad"),
        3: "int key",
        (1, 2): "tuple key",
    })
    assert found["point"] == {"x": 1, "label": "p"}
    assert found["msg"] == {"role": "user", "content": "hi"}
    assert found["color"] == "red"
    assert found["when"] == when.isoformat()
    assert found["id"] == str(ident)
    assert found["tags"] == ["a", "b"]
    assert found["tuple"] == [1, 2]
    assert found["bytes"] == "raw bytes"
    assert isinstance(found["binary"], str)
    assert found["error"] == "ValueError: bad"
    assert found["3"] == "int key"
    assert found["(1, 2)"] == "tuple key"


def test_objects_fall_back_to_repr_and_never_raise() -> None:
    class Thing:
        def __repr__(self) -> str:
            return "Thing()"

    assert roundtrip(Thing()) == "Thing()"
    assert roundtrip(BadRepr()) == "<BadRepr object>"
    assert roundtrip(BadDump()) == "<BadDump object>"
    assert roundtrip(iter([1, 2])) == "<list_iterator object>"  # never consumes an iterator
    assert roundtrip(lambda: 1).startswith("<function")


def test_non_finite_floats_become_strings() -> None:
    assert roundtrip([math.nan, math.inf, -math.inf]) == ["nan", "inf", "-inf"]


def test_numpy_and_pandas() -> None:
    assert roundtrip(np.arange(3)) == [0, 1, 2]
    assert roundtrip(np.float32(1.5)) == 1.5
    assert roundtrip(np.int64(7)) == 7
    big = roundtrip(np.zeros((2000, 3)))
    assert big["shape"] == [2000, 3]
    assert big["dtype"] == "float64"
    assert len(big["head"]) == MAX_ITEMS
    frame = roundtrip(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
    assert frame == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    assert roundtrip(pd.Series([1, 2])) == [1, 2]


def test_huge_strings_and_collections_are_bounded() -> None:
    text = to_json("x" * 10_000_000, max_chars=1_000)
    assert len(text) < 1_100
    assert json.loads(text).endswith("...[truncated, 10000000 chars in total]")
    many = roundtrip(list(range(5000)))
    assert len(many) == MAX_ITEMS + 1
    assert many[-1] == f"...[{5000 - MAX_ITEMS} more items]"
    wide = roundtrip({f"k{i}": i for i in range(5000)})
    assert len(wide) == MAX_ITEMS + 1


def test_total_size_is_bounded_even_when_each_part_is_small() -> None:
    text = to_json(["y" * 900] * 100, max_chars=5_000)
    assert len(text) < 5_100
    assert isinstance(json.loads(text), str)  # the JSON text, truncated, kept as a string


def test_cycles_and_deep_nesting_stop() -> None:
    loop: list[Any] = []
    loop.append(loop)
    found = roundtrip(loop)
    depth = 0
    while isinstance(found, list):
        found = found[0]
        depth += 1
    assert depth == MAX_DEPTH
    assert "nested deeper" in found


def test_fast_and_standard_json_agree() -> None:
    value = {"a": [1, 2.5, "é ✓", None, True], "b": {"c": "d\n\"q\""}, "n": -(2**63)}
    assert dumps(value) == stdlib_dumps(value)
    assert json.loads(dumps(value)) == value


_json_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
)
_json_values = st.recursive(
    _json_leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6), st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers(0, 9)), inner, max_size=6),
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(_json_values, st.sampled_from([8, 30, 100_000]))
def test_the_fast_path_writes_what_the_bounded_copy_would(value: Any, max_chars: int) -> None:
    """Plain values skip the bounded copy; the text must be the same as with it (non-string keys,
    non-finite floats, huge integers and long strings take the slow path)."""
    assert to_json(value, max_chars) == _slow_to_json(value, max_chars)


def test_deep_and_long_plain_values_still_take_the_bounded_path() -> None:
    deep: Any = "leaf"
    for _ in range(MAX_DEPTH + 3):
        deep = [deep]
    assert to_json(deep) == _slow_to_json(deep, 100_000)
    assert "nested deeper" in to_json(deep)
    long_list = list(range(MAX_ITEMS + 5))
    assert to_json(long_list) == _slow_to_json(long_list, 100_000)
    assert "more items" in to_json(long_list)


def _slow_to_json(value: Any, max_chars: int) -> str:
    """What to_json wrote before its fast path: always through the bounded copy."""
    text = dumps(bounded(value, max_chars))
    if len(text) > max_chars + 100:
        text = dumps(bounded(value, max(max_chars // 8, 100)))
        if len(text) > max_chars + 100:
            text = dumps(truncate_text(text, max_chars))
    return text


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    return True


@settings(max_examples=400, deadline=None)
@given(_json_values, st.sampled_from([8, 30, 100_000]))
def test_plain_json_writes_what_to_json_writes(value: Any, max_chars: int) -> None:
    """plain_json (autolog's messages) tries the encoder first; what it writes is to_json's text, except
    that a non-finite float is null there."""
    text = plain_json(value, max_chars)
    if _finite(value):
        assert text == to_json(value, max_chars)
    else:
        assert len(text) <= max_chars + 100 and isinstance(json.loads(text), object)


def test_plain_json_converts_what_the_encoder_would_write_its_own_way() -> None:
    """Values orjson encodes by its own rules (dataclasses, dates, str subclasses) and values it cannot
    encode (pydantic models, bytes, numpy) get to_json's conversion, so both paths store the same text."""

    class Tag(str):
        pass

    values: list[Any] = [
        [{"role": "user", "content": "hi"}],
        [Message(role="user", content="hi")],
        {"when": datetime.datetime(2026, 1, 2, 3, 4, 5), "day": datetime.date(2026, 1, 2)},
        [Point(1, "a"), Color.RED, uuid.UUID(int=7), b"\x00bytes", Tag("t"), np.arange(3), {1: "int key"}],
        {"big": 2**70, "deep": [[[[["x"]]]]]},
    ]
    for value in values:
        assert plain_json(value) == to_json(value), value
    long_text = [{"role": "user", "content": "x" * 500}]
    assert plain_json(long_text, 100) == to_json(long_text, 100)  # too long: cut as to_json cuts
    assert plain_json([float("nan")]) == "[null]"
