"""Formatting prompt versions: {{ variable }} templates, chat templates and sandboxed Jinja2 (no store)."""

from __future__ import annotations

from typing import Any

import pytest

from heron.errors import HeronError
from heron.prompts import template as templates
from heron.prompts.records import PromptVersion


def _prompt(template: Any, template_format: str | None = None) -> PromptVersion:
    content = templates.content(template, template_format)
    return PromptVersion("qa", 2, templates.template_of(content), template_format=content.template_format)


def test_double_brace_text() -> None:
    p = _prompt("Answer {{question}} in {{ n }} words, {{ question }}!")
    assert p.variables == {"question", "n"}
    assert p.format(question="why", n=3) == "Answer why in 3 words, why!"
    assert p.is_text_prompt and p.prompt_type == "text"
    # One pass: a value that looks like a placeholder stays as it is; extra values are ignored.
    assert p.format(question="{{ n }}", n=1, unused=0) == "Answer {{ n }} in 1 words, {{ n }}!"
    assert p.to_single_brace_format() == "Answer {question} in {n} words, {question}!"


def test_a_missing_variable_is_named() -> None:
    p = _prompt("Answer {{ question }} for {{ user.name }}")
    with pytest.raises(HeronError) as info:
        p.format(question="why")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert info.value.message == (
        "Prompt 'qa' version 2 needs the variable 'user.name', which was not given: call format(user.name=...) "
        "(or format(allow_partial=True, ...) to fill in only some)."
    )
    with pytest.raises(HeronError, match=r"needs the variables 'question', 'user.name', which were not given"):
        p.format()


def test_allow_partial_returns_a_prompt_with_the_rest_to_fill() -> None:
    p = _prompt("{{ greeting }}, {{ name }}")
    partial = p.format(allow_partial=True, greeting="Hello")
    assert isinstance(partial, PromptVersion)
    assert partial.template == "Hello, {{ name }}" and partial.variables == {"name"}
    assert partial.format(name="Ana") == "Hello, Ana"
    assert p.template == "{{ greeting }}, {{ name }}"  # the original is unchanged


def test_chat_templates() -> None:
    p = _prompt([
        {"role": "system", "content": "You are a {{ style }} assistant."},
        {"role": "user", "content": "{{ question }}"},
    ])
    assert p.prompt_type == "chat" and not p.is_text_prompt
    assert p.variables == {"style", "question"}
    assert p.format(style="terse", question="2+2?") == [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "2+2?"},
    ]
    with pytest.raises(HeronError, match="needs the variable 'question'"):
        p.format(style="terse")
    assert p.to_single_brace_format()[0]["content"] == "You are a {style} assistant."  # type: ignore[index]


def test_jinja2_conditionals_and_loops() -> None:
    text = (
        "{% if docs %}Use these documents:\n{% for d in docs %}- {{ d.title }}\n{% endfor %}"
        "{% else %}No documents.\n{% endif %}Question: {{ question }}"
    )
    p = _prompt(text, "jinja2")
    assert p.template_format == "jinja2"
    assert p.variables == {"docs", "question"}
    out = p.format(docs=[{"title": "A"}, {"title": "B"}], question="q?")
    assert out == "Use these documents:\n- A\n- B\nQuestion: q?"
    assert p.format(docs=[], question="q?") == "No documents.\nQuestion: q?"
    # Like MLflow, {% %} selects Jinja2 when no format is given; plain {{ }} stays double_brace.
    assert _prompt("{% for x in xs %}{{ x }}{% endfor %}").template_format == "jinja2"
    assert _prompt("{{ x }}").template_format == "double_brace"


def test_jinja2_missing_variable_and_sandbox() -> None:
    p = _prompt("{% if vip %}Dear {{ name }}{% endif %}", "jinja2")
    with pytest.raises(HeronError) as info:
        p.format(vip=True)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert info.value.message == "Prompt 'qa' version 2 needs the variable 'name', which was not given: call format(name=...)."
    assert p.format(vip=False) == ""  # a variable on a branch not taken is not needed
    with pytest.raises(HeronError, match="allow_partial is only for"):
        p.format(allow_partial=True, vip=True)
    unsafe = _prompt("{{ obj.__class__.__mro__ }}", "jinja2")
    with pytest.raises(HeronError, match="sandbox refused it"):
        unsafe.format(obj="x")


def test_jinja2_chat_template() -> None:
    p = _prompt([{"role": "user", "content": "{% for q in qs %}{{ loop.index }}. {{ q }}\n{% endfor %}"}], "jinja2")
    assert p.format(qs=["a", "b"]) == [{"role": "user", "content": "1. a\n2. b\n"}]


def test_response_format_and_model_config_are_kept_as_json() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Answer(pydantic.BaseModel):  # type: ignore[name-defined,misc]
        summary: str

    content = templates.content("Hi", response_format=Answer, model_config={"model_name": "gpt-4o-mini", "temperature": 0.2})
    assert '"summary"' in (content.response_format or "")
    assert content.model_config == '{"model_name": "gpt-4o-mini", "temperature": 0.2}'
