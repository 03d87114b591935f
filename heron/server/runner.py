"""Running the app with uvicorn: one process, or a supervisor and ``--workers N`` worker processes.

Two details matter for clients that keep logging while the server restarts:

- listening sockets are created as TCP sockets, so accepted connections get ``TCP_NODELAY`` (uvicorn's
  own socket for ``workers > 1`` does not, and every answer then waits ~40 ms for a delayed ACK);
- :class:`GracefulServer` keeps closing idle keep-alive connections during shutdown, including one
  accepted in the instant shutdown began (uvicorn asks each connection once, so such a connection
  stayed open and kept serving until the graceful timeout cancelled whatever it was doing).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

from heron.server.app import create_app
from heron.server.context import open_store
from heron.server.settings import Settings

__all__ = ["GracefulServer", "listen", "serve"]


class GracefulServer(uvicorn.Server):
    """uvicorn's Server, with a shutdown that leaves no keep-alive connection behind."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        async def keep_closing() -> None:
            while True:
                for connection in list(self.server_state.connections):
                    connection.shutdown()  # idle: closed now; busy: closed after its answer
                await asyncio.sleep(0.05)

        closer = asyncio.ensure_future(keep_closing())
        try:
            await super().shutdown(sockets)
        finally:
            closer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await closer


def listen(host: str, port: int) -> socket.socket:
    """A bound TCP socket (``SO_REUSEADDR``, inheritable by worker processes) for ``host:port``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings) -> None:
    """Serve ``settings`` until SIGINT/SIGTERM, then shut down gracefully; blocks.

    The store is opened (created or migrated) before anything listens.
    """
    common = {
        "access_log": settings.access_log,
        "timeout_graceful_shutdown": settings.graceful_timeout_s,
        "log_level": "info",
    }
    sock = listen(settings.host, settings.port)
    if settings.workers == 1:
        config = uvicorn.Config(create_app(settings), **common)  # type: ignore[arg-type]
        GracefulServer(config).run(sockets=[sock])
        return
    # Worker processes rebuild the settings from the environment and each build their app.
    open_store(settings).db.dispose()
    os.environ.update(settings.to_env())
    config = uvicorn.Config(
        "heron.server.app:create_app_from_env",
        factory=True,
        workers=settings.workers,
        **common,  # type: ignore[arg-type]
    )
    Multiprocess(config, sockets=[sock]).run()
