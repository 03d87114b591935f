"""``heron prompts``: list, show, register, alias and diff prompt versions (a thin shell over
MlflowClient's prompt methods)."""

from __future__ import annotations

import difflib
import json
from typing import Any

import click

from heron.errors import HeronError
from heron.prompts import template as templates
from heron.prompts.client import MlflowClient
from heron.prompts.records import PromptVersion

__all__ = ["prompts"]

_uri_option = click.option(
    "--tracking-uri", envvar="HERON_TRACKING_URI", default=None, help="Store to use (default: ./heron.db)."
)


@click.group()
def prompts() -> None:
    """Register, inspect, alias and compare prompt versions."""


@prompts.command("list")
@_uri_option
@click.option("--filter", "filter_string", default=None, help="e.g. \"name LIKE 'qa%'\"")
def prompts_list(tracking_uri: str | None, filter_string: str | None) -> None:
    """List prompts: name, newest version, aliases."""
    client = MlflowClient(tracking_uri)
    token = None
    while True:
        page = client.search_prompts(filter_string, max_results=1000, page_token=token)
        for p in page:
            aliases = ",".join(f"{a}={v}" for a, v in p.aliases.items())
            click.echo(f"{p.name}\t{'-' if p.latest_version is None else p.latest_version}\t{aliases}")
        token = page.token
        if not token:
            break


@prompts.command("show")
@_uri_option
@click.argument("name_or_uri")
@click.option("--version", "-v", default=None, help="A version number (default: the newest).")
def prompts_show(tracking_uri: str | None, name_or_uri: str, version: str | None) -> None:
    """Print a prompt version: NAME (newest), NAME -v 2, prompts:/NAME/2 or prompts:/NAME@ALIAS."""
    prompt = MlflowClient(tracking_uri).load_prompt(name_or_uri, version, cache_ttl_seconds=0)
    if prompt is None:  # not reached: allow_missing is False, so a missing prompt raised
        raise HeronError.not_found(f"No prompt {name_or_uri!r}.")
    click.echo(f"# {prompt.uri}  format={prompt.template_format}  type={prompt.prompt_type}")
    if prompt.aliases:
        click.echo(f"# aliases: {', '.join(prompt.aliases)}")
    if prompt.commit_message:
        click.echo(f"# commit message: {prompt.commit_message}")
    if prompt.tags:
        click.echo(f"# tags: {json.dumps(prompt.tags)}")
    if prompt.variables:
        click.echo(f"# variables: {', '.join(sorted(prompt.variables))}")
    click.echo(_text(prompt))


@prompts.command("register")
@_uri_option
@click.argument("name")
@click.option("--template", "-t", "template_text", default=None, help="The template text.")
@click.option("--file", "-f", "template_file", type=click.File("r"), default=None,
              help="Read the template from a file ('-' for stdin).")
@click.option("--chat", is_flag=True, help="The template is a JSON list of chat messages.")
@click.option("--format", "template_format", type=click.Choice(templates.FORMATS), default=None,
              help="double_brace ({{ var }}) or jinja2 (default: jinja2 if the text has {% %}).")
@click.option("--commit-message", "-m", default=None)
@click.option("--tag", "tags", multiple=True, help="KEY=VALUE, repeatable.")
def prompts_register(
    tracking_uri: str | None,
    name: str,
    template_text: str | None,
    template_file: Any,
    chat: bool,
    template_format: str | None,
    commit_message: str | None,
    tags: tuple[str, ...],
) -> None:
    """Register the next version of prompt NAME and print its URI."""
    if (template_text is None) == (template_file is None):
        raise click.UsageError("Give the template with exactly one of --template or --file.")
    text = template_text if template_text is not None else template_file.read()
    template: Any = text
    if chat:
        try:
            template = json.loads(text)
        except ValueError as e:
            raise click.UsageError(f"--chat expects a JSON list of messages: {e}") from None
    tag_map = {}
    for item in tags:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.UsageError(f"--tag expects KEY=VALUE, got {item!r}.")
        tag_map[key] = value
    prompt = MlflowClient(tracking_uri).register_prompt(
        name, template, commit_message=commit_message, tags=tag_map or None, template_format=template_format
    )
    click.echo(prompt.uri)


@prompts.command("set-alias")
@_uri_option
@click.argument("name")
@click.argument("alias")
@click.argument("version")
def prompts_set_alias(tracking_uri: str | None, name: str, alias: str, version: str) -> None:
    """Point ALIAS of prompt NAME at VERSION (moves it if it pointed elsewhere)."""
    MlflowClient(tracking_uri).set_prompt_alias(name, alias, version)
    click.echo(f"prompts:/{name}@{alias} -> version {version}")


@prompts.command("diff")
@_uri_option
@click.argument("name")
@click.argument("v1")
@click.argument("v2")
@click.option("--context", "-U", "context_lines", default=3, show_default=True, help="Lines of context.")
def prompts_diff(tracking_uri: str | None, name: str, v1: str, v2: str, context_lines: int) -> None:
    """Unified diff of two versions of prompt NAME. V1 and V2 are version numbers or aliases."""
    client = MlflowClient(tracking_uri)
    old, new = (_load(client, name, v) for v in (v1, v2))
    lines = difflib.unified_diff(
        _text(old).splitlines(keepends=True),
        _text(new).splitlines(keepends=True),
        fromfile=old.uri,
        tofile=new.uri,
        n=context_lines,
    )
    out = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    if out:
        click.echo(out, nl=False)
    else:
        click.echo(f"{old.uri} and {new.uri} have the same template.", err=True)


def _load(client: MlflowClient, name: str, version_or_alias: str) -> PromptVersion:
    ref = version_or_alias.lstrip("@")
    uri = f"prompts:/{name}/{ref}" if ref.isdigit() or ref.lower() == "latest" else f"prompts:/{name}@{ref}"
    prompt = client.load_prompt(uri, cache_ttl_seconds=0)
    if prompt is None:  # not reached: allow_missing is False
        raise HeronError.not_found(f"No prompt at {uri}.")
    return prompt


def _text(prompt: PromptVersion) -> str:
    """The template as text: chat messages as '[role]' headers followed by their content."""
    if isinstance(prompt.template, str):
        return prompt.template
    return "\n\n".join(f"[{m.get('role')}]\n{m.get('content')}" for m in prompt.template)
