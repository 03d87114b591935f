"""Which prompt version produced this answer? load_prompt inside a span tags the trace, inside a run the
run; search_traces and search_runs filter on it. Alias lookups are cached for hot paths."""

import heron as mlflow

mlflow.register_prompt("qa", "Answer briefly: {{ question }}")
mlflow.register_prompt("qa", "Answer in one sentence, citing a source: {{ question }}")
mlflow.set_prompt_alias("qa", "production", 1)


@mlflow.trace
def answer(question: str) -> str:
    # Called per request: after the first call the alias is served from memory for
    # HERON_PROMPT_CACHE_TTL_SECONDS (60 s by default); set_prompt_alias here is seen at once.
    prompt = mlflow.load_prompt("prompts:/qa@production")
    return prompt.format(question=question).upper()  # stands in for the LLM call


with mlflow.start_run() as run:
    answer("What is a registry?")
    mlflow.set_prompt_alias("qa", "production", 2)  # promote version 2
    answer("What is an alias?")

traces = mlflow.search_traces(filter_string="tags.`heron.prompt.qa` = '2'", return_type="list")
print([t.info.tags["heron.prompt.qa"] for t in traces])
assert len(traces) == 1
print(mlflow.get_run(run.info.run_id).data.tags["mlflow.linkedPrompts"])
assert mlflow.search_runs(filter_string="tags.`heron.prompt.qa` = '2'", output_format="list")[0].info.run_id == run.info.run_id
