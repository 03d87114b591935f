"""`heron prompts list|show|register|set-alias|diff` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

import heron
from heron.cli import cli


def test_register_show_alias_list_and_diff(sqlite_uri: str, tmp_path: Path) -> None:
    runner = CliRunner()
    uri = ["--tracking-uri", sqlite_uri]

    result = runner.invoke(
        cli,
        ["prompts", "register", "qa", "-t", "Answer {{ question }}.\nBe brief.", "-m", "first", "--tag", "author=ana", *uri],
    )
    assert result.exit_code == 0, result.output
    assert result.output == "prompts:/qa/1\n"
    chat = tmp_path / "chat.json"
    chat.write_text(json.dumps([{"role": "system", "content": "Answer {{ question }}.\nBe precise."}]))
    result = runner.invoke(cli, ["prompts", "register", "qa", "--file", str(chat), "--chat", *uri])
    assert result.output == "prompts:/qa/2\n"
    jinja = runner.invoke(
        cli, ["prompts", "register", "rag", "-t", "{% for d in docs %}{{ d }}{% endfor %}", "--format", "jinja2", *uri]
    )
    assert jinja.exit_code == 0, jinja.output
    assert heron.load_prompt("rag").template_format == "jinja2"  # type: ignore[union-attr]

    assert runner.invoke(cli, ["prompts", "set-alias", "qa", "production", "1", *uri]).exit_code == 0
    assert heron.load_prompt("prompts:/qa@production").version == 1  # type: ignore[union-attr]

    listed = runner.invoke(cli, ["prompts", "list", *uri]).output.splitlines()
    assert listed == ["qa\t2\tproduction=1", "rag\t1\t"]

    shown = runner.invoke(cli, ["prompts", "show", "prompts:/qa@production", *uri]).output
    assert shown.splitlines() == [
        "# prompts:/qa/1  format=double_brace  type=text",
        "# aliases: production",
        "# commit message: first",
        '# tags: {"author": "ana"}',
        "# variables: question",
        "Answer {{ question }}.",
        "Be brief.",
    ]
    assert "[system]" in runner.invoke(cli, ["prompts", "show", "qa", "-v", "2", *uri]).output

    diff = runner.invoke(cli, ["prompts", "diff", "qa", "production", "2", *uri])
    assert diff.exit_code == 0, diff.output
    assert diff.output.splitlines() == [
        "--- prompts:/qa/1",
        "+++ prompts:/qa/2",
        "@@ -1,2 +1,3 @@",
        "+[system]",
        " Answer {{ question }}.",
        "-Be brief.",
        "+Be precise.",
    ]
    same = runner.invoke(cli, ["prompts", "diff", "qa", "1", "@production", *uri])
    assert same.exit_code == 0 and same.stdout == ""


def test_usage_errors(sqlite_uri: str) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["prompts", "register", "qa", "--tracking-uri", sqlite_uri])
    assert result.exit_code == 2 and "exactly one of --template or --file" in result.output
    result = runner.invoke(cli, ["prompts", "register", "qa", "-t", "x", "--tag", "novalue", "--tracking-uri", sqlite_uri])
    assert result.exit_code == 2 and "KEY=VALUE" in result.output
    assert heron.search_prompts() == []
