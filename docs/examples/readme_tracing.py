"""README's tracing example, as written there (the test runs it against a local fake OpenAI server)."""

import openai

import heron

heron.openai.autolog()  # every OpenAI call becomes a trace: tokens, cost, latency
client = openai.OpenAI()


@heron.trace(span_type="CHAIN")
def answer(question: str) -> str:
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
    return reply.choices[0].message.content


answer("How do I reset my password?")
heron.flush_traces()
print(heron.search_traces(filter_string="trace.cost > 0", return_type="list")[0].info.cost)
