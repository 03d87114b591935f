"""The ``heron`` command: a thin shell over the Python API (every command calls what users call)."""

from __future__ import annotations

import json
import sys

import click

from heron.auth.cli import permissions, tokens, users
from heron.errors import HeronError
from heron.prompts.cli import prompts
from heron.registry.cli import models
from heron.tracking.client import Client
from heron.tracking.uri import resolve


def main() -> None:
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except HeronError as exc:
        click.echo(f"Error ({exc.error_code}): {exc.message}", err=True)
        sys.exit(1)


@click.group()
@click.version_option(package_name="heron")
def cli() -> None:
    """Heron: tracing, tracking, registry and evaluation for LLM apps and models."""


# ---------------------------------------------------------------------------------------------- db


@cli.group()
def db() -> None:
    """Manage a store's database schema."""


@db.command("upgrade")
@click.argument("uri")
def db_upgrade(uri: str) -> None:
    """Migrate the database at URI to the newest schema (creates it if empty). Back it up first."""
    from heron.tracking.store.db import upgrade  # SQLAlchemy and Alembic: only for this command

    location = resolve(uri)
    if location.kind != "sql":
        raise click.UsageError(
            f"{uri} is not a database URI (sqlite:///FILE, postgresql://..., or a folder)."
        )
    revision = upgrade(location.db_url, location.artifact_root)
    click.echo(f"Database at {uri} is at schema version {revision}.")


@db.command("current")
@click.argument("uri")
def db_current(uri: str) -> None:
    """Print the schema version of the database at URI."""
    from heron.tracking.store.db import current_revision  # SQLAlchemy: only for this command

    click.echo(current_revision(resolve(uri).db_url) or "none")


# ------------------------------------------------------------------------------------- experiments

_uri_option = click.option(
    "--tracking-uri", envvar="HERON_TRACKING_URI", default=None, help="Store to use (default: ./heron.db)."
)


def _client(tracking_uri: str | None) -> Client:
    return Client(tracking_uri)


@cli.group()
def experiments() -> None:
    """List and manage experiments."""


@experiments.command("list")
@_uri_option
@click.option("--view", type=click.Choice(["active", "deleted", "all"]), default="active")
def experiments_list(tracking_uri: str | None, view: str) -> None:
    """List experiments: id, name, artifact location."""
    view_type = {"active": 1, "deleted": 2, "all": 3}[view]
    client = _client(tracking_uri)
    token = None
    while True:
        page = client.search_experiments(view_type=view_type, max_results=1000, page_token=token)
        for e in page:
            click.echo(f"{e.experiment_id}\t{e.name}\t{e.artifact_location}")
        token = page.token
        if not token:
            break


@experiments.command("create")
@_uri_option
@click.option("--name", "-n", required=True)
@click.option("--artifact-location", default=None)
def experiments_create(tracking_uri: str | None, name: str, artifact_location: str | None) -> None:
    """Create an experiment and print its id."""
    click.echo(_client(tracking_uri).create_experiment(name, artifact_location))


@experiments.command("rename")
@_uri_option
@click.option("--experiment-id", "-x", required=True)
@click.option("--new-name", required=True)
def experiments_rename(tracking_uri: str | None, experiment_id: str, new_name: str) -> None:
    _client(tracking_uri).rename_experiment(experiment_id, new_name)


@experiments.command("delete")
@_uri_option
@click.option("--experiment-id", "-x", required=True)
def experiments_delete(tracking_uri: str | None, experiment_id: str) -> None:
    _client(tracking_uri).delete_experiment(experiment_id)


@experiments.command("restore")
@_uri_option
@click.option("--experiment-id", "-x", required=True)
def experiments_restore(tracking_uri: str | None, experiment_id: str) -> None:
    _client(tracking_uri).restore_experiment(experiment_id)


# -------------------------------------------------------------------------------------------- runs


@cli.group()
def runs() -> None:
    """Search and inspect runs."""


@runs.command("list")
@_uri_option
@click.option("--experiment-id", "-x", default="0", show_default=True)
@click.option(
    "--filter", "filter_string", default="", help="e.g. \"metrics.acc > 0.9 and params.depth = '3'\""
)
@click.option("--order-by", multiple=True)
@click.option("--max-results", default=100, show_default=True)
def runs_list(
    tracking_uri: str | None,
    experiment_id: str,
    filter_string: str,
    order_by: tuple[str, ...],
    max_results: int,
) -> None:
    """List runs of an experiment: id, name, status, then metrics."""
    page = _client(tracking_uri).search_runs(
        [experiment_id], filter_string, max_results=max_results, order_by=list(order_by) or None
    )
    for run in page:
        metrics = " ".join(f"{k}={v:g}" for k, v in sorted(run.data.metrics.items()))
        click.echo(f"{run.info.run_id}\t{run.info.run_name}\t{run.info.status}\t{metrics}")


@runs.command("describe")
@_uri_option
@click.option("--run-id", "-r", required=True)
def runs_describe(tracking_uri: str | None, run_id: str) -> None:
    """Print a run as JSON."""
    click.echo(json.dumps(_client(tracking_uri).get_run(run_id).to_dictionary(), indent=2, default=str))


@runs.command("delete")
@_uri_option
@click.option("--run-id", "-r", required=True)
def runs_delete(tracking_uri: str | None, run_id: str) -> None:
    _client(tracking_uri).delete_run(run_id)


@runs.command("restore")
@_uri_option
@click.option("--run-id", "-r", required=True)
def runs_restore(tracking_uri: str | None, run_id: str) -> None:
    _client(tracking_uri).restore_run(run_id)


# `heron server` lives with the server (heron/server/cli.py); FastAPI loads only when it runs.
from heron.server.cli import server  # noqa: E402

cli.add_command(server)

# ------------------------------------------------------------------------------ registry and prompts

cli.add_command(models)
cli.add_command(prompts)

# ---------------------------------------------------------------------------------------------- auth

cli.add_command(users)
cli.add_command(tokens)
cli.add_command(permissions)


if __name__ == "__main__":
    main()
