"""Traces against a Heron server: trace an app with an http:// tracking URI, then read, search, assess
and delete its traces with the same functions as on a local store.

This script starts a Heron server itself (in a background thread) on a free port of 127.0.0.1 and stops
it at the end; in real use you run `heron server ...` once and set HERON_TRACKING_URI=http://HOST:PORT.
The OpenAI client reads OPENAI_BASE_URL and OPENAI_API_KEY from the environment.
"""

import tempfile

import openai

import heron
import heron.openai
from heron.server import BackgroundServer, Settings

workdir = tempfile.mkdtemp(prefix="heron-traces-demo-")
server = BackgroundServer(
    Settings(backend_store_uri=f"sqlite:///{workdir}/team.db", artifacts_destination=f"{workdir}/artifacts")
).start()  # heron server on 127.0.0.1 and a free port, in a thread of this script
url = server.url
try:
    heron.set_tracking_uri(url)  # spans go to the server over OTLP; reads use its trace routes
    heron.set_experiment("support-bot")
    heron.openai.autolog()
    client = openai.OpenAI()

    @heron.trace
    def answer(question: str) -> str:
        heron.update_current_trace(session_id="chat-42", tags={"channel": "web"})
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
        return reply.choices[0].message.content or ""

    answer("When can I get a refund?")

    # Reads wait for the spans queued so far, so the trace is there as soon as answer() has returned.
    traces = heron.search_traces(filter_string="trace.session_id = 'chat-42'", return_type="list")
    info = traces[0].info
    print(info.name, info.total_tokens, "tokens", f"${info.cost:.6f}", dict(info.tags))
    assert info.total_tokens > 0 and info.cost is not None and info.cost > 0

    frame = heron.search_traces(filter_string="span.type = 'CHAT_MODEL'")  # a pandas DataFrame
    print(frame[["trace_id", "name", "total_tokens", "cost"]])

    heron.log_feedback(info.trace_id, name="helpful", value=True, source={"source_type": "HUMAN", "source_id": "alice"})
    trace = heron.get_trace(info.trace_id)
    assert trace is not None
    print([a.name for a in trace.info.assessments], [s.name for s in trace.data.spans])

    experiment_id = heron.get_experiment_by_name("support-bot").experiment_id
    assert heron.delete_traces(experiment_id, trace_ids=[info.trace_id]) == 1
    assert heron.get_trace(info.trace_id) is None
finally:
    heron.openai.autolog(disable=True)
    server.stop()  # graceful: in-flight requests finish first
