"""``heron server``: run the tracking server with uvicorn (graceful shutdown on Ctrl-C / SIGTERM)."""

from __future__ import annotations

import click

from heron import config
from heron.server.settings import Settings, is_loopback

__all__ = ["exposure_warning", "run", "server"]

_defaults = Settings()


@click.command("server")
@click.option(
    "--backend-store-uri",
    default=None,
    help="Where runs are stored: sqlite:///FILE or postgresql://user@host/db "
    f"[env {config.SERVER_BACKEND_STORE_URI.name}; default: sqlite:///./heron.db].",
)
@click.option(
    "--artifacts-destination",
    default=None,
    help="Where proxied artifacts are kept: a folder or s3://bucket/prefix "
    f"[env {config.SERVER_ARTIFACTS_DESTINATION.name}; default: ./heron-artifacts].",
)
@click.option(
    "--serve-artifacts/--no-serve-artifacts",
    default=None,
    help="Proxy artifact uploads and downloads, so clients need no storage credentials [default: on].",
)
@click.option("--host", "-h", default=_defaults.host, show_default=True, help="Address to listen on.")
@click.option("--port", "-p", default=_defaults.port, show_default=True, type=int)
@click.option("--workers", "-w", default=_defaults.workers, show_default=True, type=int, help="Worker processes.")
@click.option(
    "--max-body-bytes",
    default=None,
    type=int,
    help=f"Largest JSON request body; bigger gets 413 [env {config.SERVER_MAX_BODY_BYTES.name}; default 32 MiB].",
)
@click.option(
    "--max-artifact-bytes",
    default=None,
    type=int,
    help=f"Largest artifact upload, 0 for no limit [env {config.SERVER_MAX_ARTIFACT_BYTES.name}; default 0].",
)
@click.option(
    "--auth/--no-auth",
    default=None,
    help="Require HTTP basic auth or an API token and enforce permissions; the first admin comes from "
    f"{config.ADMIN_PASSWORD.name} or `heron users create NAME --admin` [env {config.SERVER_AUTH.name}; default: off].",
)
@click.option(
    "--default-permission",
    default=None,
    type=click.Choice(["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"], case_sensitive=False),
    help="With --auth: a user's role where they were given none [env "
    f"{config.SERVER_DEFAULT_PERMISSION.name}; default: READ].",
)
@click.option(
    "--admin-user",
    default=None,
    help=f"With --auth and {config.ADMIN_PASSWORD.name} set: the admin created at start-up unless it exists "
    f"[env {config.ADMIN_USERNAME.name}; default: admin].",
)
@click.option("--access-log/--no-access-log", default=True, show_default=True)
@click.option(
    "--graceful-timeout",
    default=_defaults.graceful_timeout_s,
    show_default=True,
    type=float,
    help="Seconds that in-flight requests get to finish on shutdown.",
)
def server(
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    serve_artifacts: bool | None,
    host: str,
    port: int,
    workers: int,
    max_body_bytes: int | None,
    max_artifact_bytes: int | None,
    auth: bool | None,
    default_permission: str | None,
    admin_user: str | None,
    access_log: bool,
    graceful_timeout: float,
) -> None:
    """Run the Heron tracking server (MLflow-compatible REST API and artifact proxy)."""
    overrides = {
        "backend_store_uri": backend_store_uri,
        "artifacts_destination": artifacts_destination,
        "serve_artifacts": serve_artifacts,
        "max_body_bytes": max_body_bytes,
        "max_artifact_bytes": max_artifact_bytes,
        "auth": auth,
        "default_permission": default_permission.upper() if default_permission else None,
        "admin_username": admin_user,
    }
    settings = Settings.from_env(
        **{k: v for k, v in overrides.items() if v is not None},
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        graceful_timeout_s=graceful_timeout,
    ).resolved()
    warning = exposure_warning(settings)
    if warning:
        click.echo(warning, err=True)
    click.echo(
        f"Heron server on http://{settings.host}:{settings.port} (auth {'on' if settings.auth else 'off'}, store "
        f"{settings.backend_store_uri}, artifacts "
        f"{'proxied to ' + settings.artifacts_destination if settings.serve_artifacts else 'not proxied'}); "
        "Ctrl-C stops it.",
        err=True,
    )
    run(settings)


def exposure_warning(settings: Settings) -> str | None:
    """The warning printed when the server listens beyond this machine without authentication."""
    if is_loopback(settings.host) or settings.auth:
        return None
    return (
        f"WARNING: heron server listens on {settings.host} without authentication: anyone who can reach "
        f"port {settings.port} can read and change every experiment, run and artifact. Turn on --auth, "
        "listen on 127.0.0.1, or put the server behind an authenticating proxy."
    )


def run(settings: Settings) -> None:
    """Serve ``settings`` until interrupted; blocks."""
    from heron.server.runner import serve  # uvicorn and FastAPI: only when serving

    serve(settings)
