"""The prompt registry with MLflow 3's API, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

import heron
from heron import MlflowClient
from heron.errors import HeronError
from heron.prompts import PromptVersion


def test_register_and_load_versions(tracking_uri: str) -> None:
    v1 = heron.register_prompt("qa", "Answer: {{ question }}", commit_message="first", tags={"author": "ana"})
    assert (v1.name, v1.version, v1.commit_message, v1.tags) == ("qa", 1, "first", {"author": "ana"})
    assert v1.uri == "prompts:/qa/1" and v1.description == "first"
    v2 = heron.register_prompt(
        "qa",
        [{"role": "system", "content": "Be {{ tone }}."}, {"role": "user", "content": "{{ question }}"}],
        commit_message="chat",
        response_format={"type": "object", "properties": {"answer": {"type": "string"}}},
        model_config={"model_name": "gpt-4o-mini", "temperature": 0.1},
    )
    assert v2.version == 2

    loaded = heron.load_prompt("prompts:/qa/1")
    assert isinstance(loaded, PromptVersion)
    assert loaded.template == "Answer: {{ question }}" and loaded.format(question="why?") == "Answer: why?"
    chat = heron.load_prompt("qa")  # the newest
    assert chat is not None and chat.version == 2 and chat.prompt_type == "chat"
    assert chat.response_format == {"type": "object", "properties": {"answer": {"type": "string"}}}
    assert chat.model_config == {"model_name": "gpt-4o-mini", "temperature": 0.1}
    assert chat.format(tone="brief", question="q")[0] == {"role": "system", "content": "Be brief."}
    assert heron.load_prompt("qa", version=1).version == 1  # type: ignore[union-attr]
    assert heron.load_prompt("qa", version="2").version == 2  # type: ignore[union-attr]
    assert heron.load_prompt("prompts:/qa/latest").version == 2  # type: ignore[union-attr]
    assert heron.load_prompt("prompts:/qa").version == 2  # type: ignore[union-attr]


def test_jinja2_prompts_round_trip(tracking_uri: str) -> None:
    p = heron.register_prompt(
        "rag", "{% for d in docs %}[{{ d }}]{% endfor %} {{ q }}", template_format="jinja2"
    )
    loaded = heron.load_prompt("prompts:/rag/1")
    assert loaded is not None and loaded.template_format == "jinja2" == p.template_format
    assert loaded.format(docs=["a", "b"], q="?") == "[a][b] ?"


def test_aliases(tracking_uri: str) -> None:
    for i in range(3):
        heron.register_prompt("qa", f"v{i + 1} {{{{ q }}}}")
    heron.set_prompt_alias("qa", "production", 1)
    heron.set_prompt_alias("qa", "staging", 3)
    assert heron.load_prompt("prompts:/qa@production").version == 1  # type: ignore[union-attr]
    assert heron.load_prompt("prompts:/qa@staging").aliases == ["staging"]  # type: ignore[union-attr]
    heron.set_prompt_alias("qa", "production", 2)  # moves; this process sees it at once
    assert heron.load_prompt("prompts:/qa@production").version == 2  # type: ignore[union-attr]
    heron.delete_prompt_alias("qa", "staging")
    with pytest.raises(HeronError) as info:
        heron.load_prompt("prompts:/qa@staging")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert info.value.message == "Prompt 'qa' has no alias 'staging' (its aliases are production)."
    # Deleting the version an alias points at removes the alias.
    heron.delete_prompt_version("qa", 2)
    assert heron.load_prompt("prompts:/qa@production", allow_missing=True) is None
    assert heron.prompts.get_prompt("qa").aliases == {}  # type: ignore[union-attr]
    assert heron.register_prompt("qa", "v4").version == 4


def test_search_tags_and_delete(tracking_uri: str) -> None:
    client = MlflowClient()
    heron.register_prompt("qa", "q {{ x }}")
    heron.register_prompt("summarize", "s {{ x }}")
    heron.register_prompt("summarize", "s2 {{ x }}")
    client.set_prompt_tag("summarize", "team", "docs")
    client.set_prompt_version_tag("summarize", 2, "reviewed", "yes")
    assert [p.name for p in heron.search_prompts()] == ["qa", "summarize"]
    found = heron.search_prompts("tags.team = 'docs'")
    assert [(p.name, p.tags, p.latest_version) for p in found] == [("summarize", {"team": "docs"}, 2)]
    assert [p.name for p in heron.search_prompts("name LIKE 'q%'")] == ["qa"]
    assert len(heron.search_prompts(max_results=1)) == 1
    assert heron.load_prompt("summarize").tags == {"reviewed": "yes"}  # type: ignore[union-attr]
    client.delete_prompt_version_tag("summarize", 2, "reviewed")
    assert client.get_prompt_version("summarize", 2).tags == {}
    assert [v.version for v in client.search_prompt_versions("summarize")] == [2, 1]
    client.delete_prompt_tag("summarize", "team")
    assert heron.search_prompts("tags.team = 'docs'") == []

    heron.delete_prompt("summarize")
    assert heron.prompts.get_prompt("summarize") is None
    assert [p.name for p in heron.search_prompts()] == ["qa"]
    with pytest.raises(HeronError, match="Prompt 'summarize' does not exist"):
        client.search_prompt_versions("summarize")


def test_prompt_methods_on_the_client(tracking_uri: str) -> None:
    client = MlflowClient()
    created = client.register_prompt("greeting", "Hello {{ name }}", commit_message="hi")
    client.set_prompt_alias("greeting", "production", created.version)
    loaded = client.load_prompt("prompts:/greeting@production")
    assert loaded is not None and loaded.format(name="Bo") == "Hello Bo"
    assert client.get_prompt("greeting").aliases == {"production": 1}  # type: ignore[union-attr]
    assert client.get_prompt("nope") is None
