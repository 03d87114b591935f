"""OpenAI autolog: every call of the `openai` SDK becomes a span with messages, tokens and cost.

Needs an OpenAI-compatible endpoint: the SDK reads OPENAI_BASE_URL and OPENAI_API_KEY.
"""

import openai

import heron
import heron.openai

heron.openai.autolog()
client = openai.OpenAI()

# One call, one trace.
reply = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "system", "content": "Answer in one sentence."}, {"role": "user", "content": "What is a heron?"}],
    temperature=0.2,
)
print(reply.choices[0].message.content)

trace = heron.get_trace(heron.get_last_active_trace_id())
(span,) = trace.data.spans
print(span.name, span.span_type, span.attributes["gen_ai.response.model"])
print("messages in:", span.inputs)
print("message out:", span.outputs)
print("tokens:", trace.info.token_usage, "cost (USD):", trace.info.cost)
assert span.span_type == "CHAT_MODEL" and trace.info.input_tokens > 0 and trace.info.cost is not None


# Calls made inside a traced function nest under it: one trace, a span per call, tokens summed.
@heron.trace(span_type="CHAIN")
def answer(question: str) -> str:
    client.embeddings.create(model="text-embedding-3-small", input=question)
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                               "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
    first = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": question}], tools=tools)
    call = first.choices[0].message.tool_calls[0]
    print("the model asks for", call.function.name, call.function.arguments)
    final = client.responses.create(model="gpt-4.1", input=f"{question} It is 20C in Paris.")
    return final.output_text


print(answer("What is the weather in Paris?"))
trace = heron.get_trace(heron.get_last_active_trace_id())
print([(s.name, s.span_type) for s in trace.data.spans])
print("trace tokens:", trace.info.total_tokens, "cost (USD):", trace.info.cost)
assert len(trace.data.spans) == 4

heron.openai.autolog(disable=True)  # the SDK's original methods are back
