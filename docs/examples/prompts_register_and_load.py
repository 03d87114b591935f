"""Register prompt versions (text and chat), move an alias, load and format them (MLflow 3's API)."""

import heron as mlflow

initial_template = """\
Summarize content you are provided with in {{ num_sentences }} sentences.
Sentences: {{ sentences }}
"""
prompt = mlflow.register_prompt(
    name="summarization-prompt",
    template=initial_template,
    commit_message="Initial commit",
    tags={"author": "author@example.com", "task": "summarization"},
)
print(f"Created prompt '{prompt.name}' (version {prompt.version})")

# A chat prompt becomes version 2 of the same name.
chat = mlflow.register_prompt(
    name="summarization-prompt",
    template=[
        {"role": "system", "content": "Summarize content you are provided with in {{ num_sentences }} sentences."},
        {"role": "user", "content": "Sentences: {{ sentences }}"},
    ],
    commit_message="Use a system message",
    model_config={"model_name": "gpt-4o-mini", "temperature": 0.1},
)
assert chat.version == 2 and chat.variables == {"num_sentences", "sentences"}

mlflow.set_prompt_alias("summarization-prompt", alias="production", version=1)
prompt = mlflow.load_prompt("prompts:/summarization-prompt@production")
text = prompt.format(num_sentences=1, sentences="Heron stores prompts. They have versions.")
print(text)
assert text.startswith("Summarize content you are provided with in 1 sentences.")

# Promote version 2 (and roll back the same way).
mlflow.set_prompt_alias("summarization-prompt", alias="production", version=2)
messages = mlflow.load_prompt("prompts:/summarization-prompt@production").format(num_sentences=2, sentences="...")
assert messages[0] == {"role": "system", "content": "Summarize content you are provided with in 2 sentences."}

# A missing variable is an error that names it.
try:
    prompt.format(num_sentences=1)
except mlflow.MlflowException as err:
    print(err)  # ... needs the variable 'sentences', which was not given: call format(sentences=...) ...

assert mlflow.load_prompt("summarization-prompt", version=1).commit_message == "Initial commit"
assert mlflow.load_prompt("prompts:/summarization-prompt/1").tags["task"] == "summarization"  # version tags
