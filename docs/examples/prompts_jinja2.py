"""Jinja2 prompt templates: conditionals and loops, rendered in a sandbox."""

import heron as mlflow

template = """\
{% if documents %}Answer using only these documents:
{% for doc in documents %}[{{ loop.index }}] {{ doc.title }}: {{ doc.text }}
{% endfor %}{% else %}Say that you have no documents.
{% endif %}Question: {{ question }}"""

prompt = mlflow.register_prompt("rag-answer", template, template_format="jinja2", commit_message="RAG prompt")
print(prompt.template_format, sorted(prompt.variables))  # jinja2 ['documents', 'question']

text = prompt.format(
    documents=[{"title": "Aliases", "text": "An alias points at one version."}],
    question="What is an alias?",
)
print(text)
assert "[1] Aliases: An alias points at one version." in text
assert prompt.format(documents=[], question="?").startswith("Say that you have no documents.")

try:
    prompt.format(documents=[])  # 'question' is missing
except mlflow.MlflowException as err:
    assert "needs the variable 'question'" in str(err)
