"""LangChain's ChatOpenAI with both autologs on: the OpenAI call nests under the chat model's span and its
tokens are counted once. Needs langchain-openai and an OpenAI-compatible endpoint (OPENAI_BASE_URL,
OPENAI_API_KEY).
"""

import asyncio

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI

import heron

heron.autolog()  # every installed integration: here openai and langchain

chain = (ChatPromptTemplate.from_messages([("user", "{question}")])
         | ChatOpenAI(model="gpt-4o-mini", temperature=0.2)
         | StrOutputParser())
print(chain.invoke({"question": "What is a heron?"}))

trace = heron.get_trace(heron.get_last_active_trace_id())
spans = {s.span_id: s for s in trace.data.spans}
openai_span = next(s for s in spans.values() if s.name == "chat gpt-4o-mini")
print(f"{openai_span.name} is a child of {spans[openai_span.parent_id].name}")  # ChatOpenAI
print("tokens:", trace.info.token_usage, "cost (USD):", trace.info.cost)
assert spans[openai_span.parent_id].name == "ChatOpenAI"
assert trace.info.input_tokens > 0 and trace.info.cost is not None


# Streaming and async work the same way; the streamed answer is assembled on the spans.
async def main():
    return "".join([chunk async for chunk in chain.astream({"question": "And a crane?"})])


print(asyncio.run(main()))
trace = heron.get_trace(heron.get_last_active_trace_id())
chat = next(s for s in trace.data.spans if s.name == "ChatOpenAI")
print("streamed answer on the span:", chat.outputs["content"])
print("tokens:", trace.info.token_usage)

heron.autolog(disable=True)
