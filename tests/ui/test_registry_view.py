"""The registry pages' view models: the side-by-side line diff and the template cut into variables."""

from __future__ import annotations

from heron.prompts.records import PromptVersion
from heron.ui.registry_view import (
    DiffRow,
    Segment,
    diff_rows,
    model_url,
    segments,
    template_lines,
    template_parts,
)


def test_diff_rows_pair_changes_and_mark_additions_and_removals() -> None:
    old = ["a", "b", "c", "d"]
    new = ["a", "B", "c", "d", "e"]
    assert diff_rows(old, new) == [
        DiffRow("equal", 1, "a", 1, "a"),
        DiffRow("changed", 2, "b", 2, "B"),
        DiffRow("equal", 3, "c", 3, "c"),
        DiffRow("equal", 4, "d", 4, "d"),
        DiffRow("added", None, "", 5, "e"),
    ]
    assert diff_rows(["x", "y"], ["y"]) == [DiffRow("removed", 1, "x", None, ""), DiffRow("equal", 2, "y", 1, "y")]
    # a replaced block of unequal length: pairs first, then the rest on one side
    assert [r.kind for r in diff_rows(["p", "q", "r"], ["s"])] == ["changed", "removed", "removed"]
    assert diff_rows([], []) == []


def test_segments_mark_variables_in_each_format() -> None:
    assert segments("Hi {{ name }}, {{x}}!", "double_brace") == [
        Segment("Hi ", False), Segment("{{ name }}", True), Segment(", ", False), Segment("{{x}}", True),
        Segment("!", False),
    ]
    assert segments("{% if a %}{{ a | upper }}{% endif %}", "jinja2") == [
        Segment("{% if a %}", True), Segment("{{ a | upper }}", True), Segment("{% endif %}", True),
    ]
    assert segments("{{ not a var }}", "double_brace") == [Segment("{{ not a var }}", False)]


def test_chat_templates_become_parts_and_diff_lines() -> None:
    chat = PromptVersion("p", 1, [{"role": "system", "content": "Be {{ tone }}."},
                                  {"role": "<b>odd</b>", "content": "two\nlines"}])
    parts = template_parts(chat)
    assert [p.role for p in parts] == ["system", "<b>odd</b>"]
    assert [p.role_class for p in parts] == ["system", "other"]  # only known roles become CSS classes
    assert template_lines(chat) == ["[system]", "Be {{ tone }}.", "[<b>odd</b>]", "two", "lines"]
    assert model_url("a b?#%") == "/models/a%20b%3F%23%25"
