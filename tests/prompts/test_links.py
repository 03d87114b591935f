"""load_prompt links the loaded version to the active trace and run; search_traces and search_runs
find them by it (issue 4, "Links")."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import heron
from heron.prompts.links import prompt_tag


@pytest.fixture
def fresh_tracing(tracking_uri: str) -> Iterator[str]:
    import heron.tracing

    heron.tracing.reset_for_tests()
    yield tracking_uri
    heron.tracing.reset_for_tests()


def test_load_prompt_inside_a_span_tags_the_trace(fresh_tracing: str) -> None:
    heron.register_prompt("qa", "v1 {{ q }}")
    heron.register_prompt("qa", "v2 {{ q }}")
    heron.register_prompt("style", "be brief")
    heron.set_prompt_alias("qa", "production", 2)

    with heron.start_span("answer"):
        with heron.start_span("build-prompt"):
            heron.load_prompt("prompts:/qa@production")
            heron.load_prompt("prompts:/qa@production")  # linked once
        heron.load_prompt("style")
    with heron.start_span("other"):
        heron.load_prompt("prompts:/qa/1")
    with heron.start_span("no-prompt"):
        pass

    used_v2 = heron.search_traces(filter_string="tags.`heron.prompt.qa` = '2'", return_type="list")
    assert [t.info.tags[prompt_tag("qa")] for t in used_v2] == ["2"]
    assert used_v2[0].info.tags[prompt_tag("style")] == "1"
    any_qa = heron.search_traces(filter_string="tags.`heron.prompt.qa` IS NOT NULL", return_type="list")
    assert sorted(t.info.tags[prompt_tag("qa")] for t in any_qa) == ["1", "2"]
    assert len(heron.search_traces(return_type="list")) == 3


def test_load_prompt_inside_a_run_links_the_run(tracking_uri: str) -> None:
    heron.register_prompt("qa", "v1 {{ q }}")
    heron.register_prompt("summarize", "s {{ text }}")
    with heron.start_run() as run:
        heron.load_prompt("qa")
        heron.load_prompt("qa")
        heron.load_prompt("prompts:/summarize/1")
    tags = heron.get_run(run.info.run_id).data.tags
    assert json.loads(tags["mlflow.linkedPrompts"]) == [
        {"name": "qa", "version": "1"},
        {"name": "summarize", "version": "1"},
    ]
    assert tags[prompt_tag("qa")] == "1"
    found = heron.search_runs(filter_string="tags.`heron.prompt.qa` = '1'", output_format="list")
    assert [r.info.run_id for r in found] == [run.info.run_id]


def test_outside_spans_and_runs_nothing_is_linked(tracking_uri: str) -> None:
    heron.register_prompt("qa", "v1")
    assert heron.load_prompt("qa").version == 1  # type: ignore[union-attr]
    assert heron.active_run() is None
