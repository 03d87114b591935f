"""Tracing chosen LangChain runs only, with HeronCallbackHandler (no autolog); streaming and batches."""

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

import heron
from heron.langchain import HeronCallbackHandler

chain = (ChatPromptTemplate.from_messages([("user", "{question}")])
         | FakeListChatModel(responses=["Herons eat fish."])
         | StrOutputParser())
handler = HeronCallbackHandler()  # one handler serves any number of runs, threads and tasks

chain.invoke({"question": "not traced"})
print("".join(chain.stream({"question": "What do herons eat?"}, config={"callbacks": [handler]})))
trace = heron.get_trace(heron.get_last_active_trace_id())
print([(s.name, s.span_type) for s in sorted(trace.data.spans, key=lambda s: s.start_time_ns)])
root = next(s for s in trace.data.spans if s.parent_id is None)
print("streamed output, assembled:", root.outputs)
assert root.outputs == "Herons eat fish."

chain.batch([{"question": "one"}, {"question": "two"}], config={"callbacks": [handler]})
traces = heron.search_traces(return_type="list")
print(len(traces), "traces:", [t.info.name for t in traces])
assert len(traces) == 3  # the stream and one per batch input; the first call was not traced
