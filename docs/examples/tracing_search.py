"""Finding traces: filters on trace fields, tags, spans and full text; pages; deleting old traces."""

import heron

heron.set_experiment("search-demo")


@heron.trace
def handle(question: str, team: str) -> str:
    heron.update_current_trace(tags={"team": team})
    with heron.start_span("llm", span_type="LLM") as llm:
        llm.set_attributes({"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": len(question),
                            "gen_ai.usage.output_tokens": 10})
    if "crash" in question:
        raise RuntimeError("upstream timeout")
    return f"answer to {question}"


for question, team in [("refund for order 1", "support"), ("invoice copy", "billing"),
                       ("refund again", "support"), ("crash please", "support")]:
    try:
        handle(question, team)
    except RuntimeError:
        pass

# A DataFrame by default (MLflow's columns), or a list of Trace.
df = heron.search_traces(filter_string="trace.text ILIKE '%refund%'")
print(df[["trace_id", "state", "request", "total_tokens", "cost"]])
assert len(df) == 2

failed = heron.search_traces(filter_string="trace.status = 'ERROR' AND tags.team = 'support'", return_type="list")
assert [t.info.status for t in failed] == ["ERROR"]

llm_heavy = heron.search_traces(
    filter_string="span.type = 'LLM' AND (trace.input_tokens > 15 OR tags.team = 'billing')",
    order_by=["trace.input_tokens DESC"],
    return_type="list",
)
print([t.info.request_preview for t in llm_heavy])

# Pages: pass the token back.
page = heron.search_traces(max_results=3, return_type="list")
rest = heron.search_traces(max_results=3, page_token=page.token, return_type="list")
assert len(page) + len(rest) == 4

experiment_id = heron.get_experiment_by_name("search-demo").experiment_id
print("deleted", heron.delete_traces(experiment_id, older_than=0))
