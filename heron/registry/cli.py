"""``heron models``: list, describe and alias registered models (a thin shell over MlflowClient)."""

from __future__ import annotations

import dataclasses
import json

import click

from heron.registry.client import MlflowClient

__all__ = ["models"]

_uri_option = click.option(
    "--tracking-uri", envvar="HERON_TRACKING_URI", default=None, help="Store to use (default: ./heron.db)."
)


@click.group()
def models() -> None:
    """List registered models and move their aliases."""


@models.command("list")
@_uri_option
@click.option("--filter", "filter_string", default=None, help="e.g. \"name LIKE 'fraud%' AND tags.team = 'risk'\"")
def models_list(tracking_uri: str | None, filter_string: str | None) -> None:
    """List models: name, newest version, aliases."""
    client = MlflowClient(tracking_uri)
    token = None
    while True:
        page = client.search_registered_models(filter_string, max_results=1000, page_token=token)
        for m in page:
            newest = max((v.version for v in m.latest_versions), default=None)
            aliases = ",".join(f"{a}={v}" for a, v in m.aliases.items())
            click.echo(f"{m.name}\t{'-' if newest is None else newest}\t{aliases}")
        token = page.token
        if not token:
            break


@models.command("describe")
@_uri_option
@click.argument("name")
def models_describe(tracking_uri: str | None, name: str) -> None:
    """Print a model and all its versions as JSON."""
    client = MlflowClient(tracking_uri)
    model = dataclasses.asdict(client.get_registered_model(name))
    flt = "name = '" + name.replace("'", "''") + "'"
    model["versions"] = [_version_dict(v) for v in client.search_model_versions(flt)]
    model["latest_versions"] = [_without_prompt(v) for v in model["latest_versions"]]
    click.echo(json.dumps(model, indent=2))


@models.command("set-alias")
@_uri_option
@click.argument("name")
@click.argument("alias")
@click.argument("version")
def models_set_alias(tracking_uri: str | None, name: str, alias: str, version: str) -> None:
    """Point ALIAS of model NAME at VERSION (moves it if it pointed elsewhere)."""
    MlflowClient(tracking_uri).set_registered_model_alias(name, alias, version)
    click.echo(f"models:/{name}@{alias} -> version {version}")


@models.command("delete-alias")
@_uri_option
@click.argument("name")
@click.argument("alias")
def models_delete_alias(tracking_uri: str | None, name: str, alias: str) -> None:
    """Remove ALIAS from model NAME."""
    MlflowClient(tracking_uri).delete_registered_model_alias(name, alias)


def _version_dict(version: object) -> dict[str, object]:
    return _without_prompt(dataclasses.asdict(version))  # type: ignore[call-overload]


def _without_prompt(version: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in version.items() if k != "prompt"}
