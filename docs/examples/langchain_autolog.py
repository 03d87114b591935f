"""LangChain autolog: every step of a LangChain run becomes a span (prompt, chat model, parser, retriever,
tool, lambdas), nested as LangChain nests them. Runs on langchain-core's fake chat model: no API key.
"""

from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda, RunnableParallel
from langchain_core.tools import tool

import heron
import heron.langchain

heron.langchain.autolog()


def show(trace):
    """Print a trace's spans as a tree."""
    spans = sorted(trace.data.spans, key=lambda s: s.start_time_ns)
    depth = {}
    for s in spans:
        depth[s.span_id] = depth.get(s.parent_id, -1) + 1
        print("  " * depth[s.span_id] + f"{s.name} [{s.span_type}]")


# A prompt, a chat model and a parser: one trace, four spans.
prompt = ChatPromptTemplate.from_messages([("system", "Answer in one sentence."), ("user", "{question}")])
model = FakeListChatModel(responses=["A heron is a long-legged wading bird."])
chain = prompt | model | StrOutputParser()
print(chain.invoke({"question": "What is a heron?"}))

trace = heron.get_trace(heron.get_last_active_trace_id())
show(trace)
chat = next(s for s in trace.data.spans if s.span_type == "CHAT_MODEL")
print("messages in:", chat.inputs)  # [{"role": "system", ...}, {"role": "user", ...}]
print("message out:", chat.outputs)  # {"role": "assistant", "content": ...}
assert [s.span_type for s in sorted(trace.data.spans, key=lambda s: s.start_time_ns)] == [
    "CHAIN", "CHAIN", "CHAT_MODEL", "PARSER"]


# A retriever and a tool, inside a function traced with @heron.trace: all in the function's trace.
class FAQ(BaseRetriever):
    def _get_relevant_documents(self, query, *, run_manager):
        docs = [Document(page_content="Refunds take 5 days.", metadata={"source": "faq.md"}),
                Document(page_content="Shipping is free.", metadata={"source": "faq.md"})]
        return [d for d in docs if query.lower() in d.page_content.lower()]


@tool
def order_status(order_id: str) -> str:
    """The status of an order."""
    return f"order {order_id} has shipped"


context = RunnableParallel(docs=FAQ(), question=RunnableLambda(lambda q: q))
answer_chain = context | RunnableLambda(lambda x: f"{len(x['docs'])} document(s) about {x['question']}")


@heron.trace(span_type=heron.SpanType.AGENT)
def support_agent(question: str, order_id: str) -> str:
    found = answer_chain.invoke(question)
    status = order_status.invoke({"order_id": order_id})
    return f"{found}; {status}"


print(support_agent("refunds", "A-42"))
trace = heron.get_trace(heron.get_last_active_trace_id())
show(trace)
retriever = next(s for s in trace.data.spans if s.span_type == "RETRIEVER")
print("documents:", retriever.outputs)  # [{"page_content": ..., "metadata": {...}}]
assert trace.info.name == "support_agent"
assert {s.span_type for s in trace.data.spans} == {"AGENT", "CHAIN", "RETRIEVER", "TOOL"}

heron.langchain.autolog(disable=True)  # LangChain runs are no longer traced
