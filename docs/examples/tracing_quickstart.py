"""Tracing an app: @heron.trace, start_span, token usage and cost, reading the trace back."""

import asyncio

import heron

heron.set_experiment("support-bot")


@heron.trace(span_type=heron.SpanType.RETRIEVER)
def retrieve(question: str, k: int = 2) -> list[str]:
    return ["Refunds are accepted within 30 days.", "Shipping takes 5 days."][:k]


@heron.trace(span_type=heron.SpanType.CHAIN)
def answer(question: str) -> str:
    docs = retrieve(question)
    with heron.start_span("chat gpt-4o-mini", span_type=heron.SpanType.CHAT_MODEL) as llm:
        llm.set_inputs({"messages": [{"role": "user", "content": question}], "context": docs})
        # An integration (heron.openai.autolog) sets these; here we set them by hand.
        llm.set_attributes({
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": 1200,
            "gen_ai.usage.output_tokens": 80,
        })
        reply = "You can get a refund within 30 days."
        llm.set_outputs(reply)
    heron.update_current_trace(tags={"channel": "web"}, session_id="session-42", user_id="alice")
    return reply


@heron.trace
async def answer_async(question: str) -> str:
    await asyncio.sleep(0)
    return answer(question)


@heron.trace
def stream_words(text: str):
    yield from text.split()


print(answer("Can I get a refund?"))
trace = heron.get_trace(heron.get_last_active_trace_id())
print(trace.info.name, trace.info.status, trace.info.token_usage, f"${trace.info.cost:.6f}")
for span in trace.data.spans:
    print(f"  {span.name:20s} {span.span_type:10s} parent={span.parent_id}")
assert trace.info.total_tokens == 1280
assert trace.info.cost is not None and not trace.info.unpriced
assert trace.info.session_id == "session-42"

print(asyncio.run(answer_async("And shipping?")))
print(list(stream_words("streamed outputs are joined")))
streamed = heron.get_trace(heron.get_last_active_trace_id())
assert streamed.data.spans[0].outputs == "streamedoutputsarejoined"
