"""@heron.trace on functions, methods, coroutines, generators and async generators, into a real store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

import heron
from heron.tracing import Trace


def _last_trace() -> Trace:
    trace_id = heron.get_last_active_trace_id()
    assert trace_id is not None
    found = heron.get_trace(trace_id)
    assert found is not None
    return found


def test_sync_function_records_inputs_outputs_and_keeps_the_result(sqlite_uri: str) -> None:
    @heron.trace
    def add(x: int, y: int = 10, *, scale: int = 1) -> dict[str, int]:
        return {"sum": (x + y) * scale}

    assert add(1, scale=2) == {"sum": 22}
    trace = _last_trace()
    (span,) = trace.data.spans
    assert span.name == "add"
    assert span.span_type == "UNKNOWN"
    assert span.inputs == {"x": 1, "y": 10, "scale": 2}
    assert span.outputs == {"sum": 22}
    assert span.status.status_code == "OK"
    assert span.parent_id is None
    assert trace.info.status == "OK"
    assert trace.info.name == "add"
    assert trace.info.request_preview == '{"x":1,"y":10,"scale":2}'
    assert trace.info.response_preview == '{"sum":22}'
    assert trace.info.execution_time_ms is not None and trace.info.execution_time_ms >= 0


def test_decorator_arguments_name_type_and_attributes(sqlite_uri: str) -> None:
    @heron.trace(name="retrieve", span_type=heron.SpanType.RETRIEVER, attributes={"k": 3, "index": {"a": 1}})
    def fetch(query: str) -> list[str]:
        return [query]

    fetch("refund")
    (span,) = _last_trace().data.spans
    assert (span.name, span.span_type) == ("retrieve", "RETRIEVER")
    assert span.attributes["k"] == 3
    assert span.attributes["index"] == '{"a":1}'  # non-OTel values are stored as JSON text


def test_methods_leave_self_out_of_inputs(sqlite_uri: str) -> None:
    class Bot:
        @heron.trace
        def answer(self, question: str) -> str:
            return question.upper()

        @classmethod
        @heron.trace
        def make(cls, name: str) -> str:
            return name

    assert Bot().answer("hi") == "HI"
    assert _last_trace().data.spans[0].inputs == {"question": "hi"}
    assert Bot.make("x") == "x"
    assert _last_trace().data.spans[0].inputs == {"name": "x"}


def test_varargs_and_kwargs_are_bound(sqlite_uri: str) -> None:
    @heron.trace
    def f(a: int, *rest: int, flag: bool = False, **extra: str) -> int:
        return a + sum(rest)

    assert f(1, 2, 3, other="x") == 6
    assert _last_trace().data.spans[0].inputs == {"a": 1, "rest": [2, 3], "flag": False, "extra": {"other": "x"}}


def test_exception_is_reraised_unchanged_and_recorded(sqlite_uri: str) -> None:
    error = ValueError("bad input")

    @heron.trace
    def fail(x: int) -> None:
        raise error

    with pytest.raises(ValueError) as caught:
        fail(1)
    assert caught.value is error
    trace = _last_trace()
    (span,) = trace.data.spans
    assert span.status.status_code == "ERROR"
    assert "ValueError: bad input" in span.status.description
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "ValueError"
    assert event.attributes["exception.message"] == "bad input"
    assert "Traceback" in event.attributes["exception.stacktrace"]
    assert trace.info.status == "ERROR"


def test_nested_calls_make_one_trace_tree(sqlite_uri: str) -> None:
    @heron.trace
    def leaf(x: int) -> int:
        return x * 2

    @heron.trace(span_type="CHAIN")
    def root(x: int) -> int:
        return leaf(x) + leaf(x + 1)

    assert root(1) == 6
    trace = _last_trace()
    by_name = {}
    for span in trace.data.spans:
        by_name.setdefault(span.name, []).append(span)
    (top,) = by_name["root"]
    assert [s.parent_id for s in by_name["leaf"]] == [top.span_id, top.span_id]
    assert {s.trace_id for s in trace.data.spans} == {trace.info.trace_id}
    assert trace.info.span_count == 3


def test_async_function(sqlite_uri: str) -> None:
    @heron.trace
    async def child(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    @heron.trace
    async def parent(x: int) -> int:
        return await child(x) * 10

    assert asyncio.run(parent(1)) == 20
    trace = _last_trace()
    spans = {s.name: s for s in trace.data.spans}
    assert spans["child"].parent_id == spans["parent"].span_id
    assert spans["parent"].outputs == 20


def test_async_exception(sqlite_uri: str) -> None:
    @heron.trace
    async def boom() -> None:
        raise KeyError("k")

    with pytest.raises(KeyError):
        asyncio.run(boom())
    assert _last_trace().data.spans[0].status.status_code == "ERROR"


def test_generator_outputs_are_assembled_and_children_nest(sqlite_uri: str) -> None:
    @heron.trace
    def token(i: int) -> str:
        return f"t{i} "

    @heron.trace
    def stream(n: int) -> Iterator[str]:
        for i in range(n):
            yield token(i)

    assert list(stream(3)) == ["t0 ", "t1 ", "t2 "]
    trace = _last_trace()
    spans = {s.name: s for s in trace.data.spans}
    assert spans["stream"].outputs == "t0 t1 t2 "
    assert spans["stream"].inputs == {"n": 3}
    assert {s.parent_id for s in trace.data.spans if s.name == "token"} == {spans["stream"].span_id}


def test_generator_non_string_items_and_reducer(sqlite_uri: str) -> None:
    @heron.trace
    def numbers() -> Iterator[int]:
        yield from (1, 2, 3)

    @heron.trace(output_reducer=sum)
    def summed() -> Iterator[int]:
        yield from (1, 2, 3)

    assert list(numbers()) == [1, 2, 3]
    assert _last_trace().data.spans[0].outputs == [1, 2, 3]
    assert list(summed()) == [1, 2, 3]
    assert _last_trace().data.spans[0].outputs == 6


def test_generator_return_value_send_and_early_close(sqlite_uri: str) -> None:
    @heron.trace
    def echo() -> Iterator[str]:
        received = yield "ready"
        while received is not None:
            received = yield f"got {received}"

    gen = echo()
    assert next(gen) == "ready"
    assert gen.send("a") == "got a"
    gen.close()  # the consumer stops early: the span ends OK with what was yielded
    trace = _last_trace()
    assert trace.data.spans[0].status.status_code == "OK"
    assert trace.data.spans[0].outputs == "readygot a"

    @heron.trace
    def with_return() -> Iterator[int]:
        yield 1
        return 7

    def consume() -> object:
        return (yield from with_return())

    outer = consume()
    assert next(outer) == 1
    with pytest.raises(StopIteration) as stop:
        next(outer)
    assert stop.value.value == 7


def test_generator_error_midway(sqlite_uri: str) -> None:
    @heron.trace
    def broken() -> Iterator[int]:
        yield 1
        raise RuntimeError("stream broke")

    with pytest.raises(RuntimeError, match="stream broke"):
        list(broken())
    span = _last_trace().data.spans[0]
    assert span.status.status_code == "ERROR"
    assert span.outputs == [1]


def test_consumer_code_between_items_is_not_nested_under_the_generator(sqlite_uri: str) -> None:
    @heron.trace
    def items() -> Iterator[int]:
        yield from range(2)

    @heron.trace
    def consumer_step(i: int) -> int:
        return i

    @heron.trace
    def pipeline() -> list[int]:
        return [consumer_step(i) for i in items()]

    pipeline()
    spans = {s.name: s for s in _last_trace().data.spans}
    assert spans["consumer_step"].parent_id == spans["pipeline"].span_id
    assert spans["items"].parent_id == spans["pipeline"].span_id


def test_async_generator(sqlite_uri: str) -> None:
    @heron.trace
    async def child(i: int) -> int:
        return i

    @heron.trace
    async def agen(n: int) -> AsyncIterator[str]:
        for i in range(n):
            yield str(await child(i))

    async def main() -> list[str]:
        return [x async for x in agen(3)]

    assert asyncio.run(main()) == ["0", "1", "2"]
    trace = _last_trace()
    spans = [s for s in trace.data.spans if s.name == "agen"]
    assert spans[0].outputs == "012"
    assert {s.parent_id for s in trace.data.spans if s.name == "child"} == {spans[0].span_id}


def test_async_generator_early_break(sqlite_uri: str) -> None:
    @heron.trace
    async def agen() -> AsyncIterator[int]:
        for i in range(100):
            yield i

    async def main() -> list[int]:
        got = []
        gen = agen()
        async for x in gen:
            got.append(x)
            if x == 2:
                break
        await gen.aclose()  # type: ignore[attr-defined]
        return got

    assert asyncio.run(main()) == [0, 1, 2]
    span = _last_trace().data.spans[0]
    assert span.status.status_code == "OK"
    assert span.outputs == [0, 1, 2]


def test_wrapped_function_keeps_its_metadata() -> None:
    @heron.trace
    def documented(x: int) -> int:
        """Docs."""
        return x

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Docs."
