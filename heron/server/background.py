"""A Heron server in a background thread of the calling process: for notebooks, scripts and tests that
want a real server on 127.0.0.1 without starting ``heron server`` in another terminal.

It runs the same app (``create_app``) under the same uvicorn server class as ``heron server`` does.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from heron.server.app import create_app
from heron.server.runner import GracefulServer, listen
from heron.server.settings import Settings

__all__ = ["BackgroundServer"]


class BackgroundServer:
    """``heron server`` in a background thread of this process, on ``settings.host`` and a free port.

    ``start()`` blocks until the server accepts requests and returns the server (``url`` names it);
    ``stop()`` shuts it down gracefully (in-flight requests finish). A second ``start()`` after
    ``stop()`` reuses the port, so clients keep their URL across a restart. Also a context manager.
    ``wrap`` wraps the ASGI app (for example with middleware that records requests). Thread-safe to
    call from one controlling thread; the server itself serves many clients.
    """

    def __init__(self, settings: Settings, wrap: Callable[[ASGIApp], ASGIApp] | None = None) -> None:
        self.settings = settings
        self.wrap = wrap
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def url(self) -> str:
        host = self.settings.host
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"

    def start(self) -> BackgroundServer:
        """Serve (on the same port as before on a restart); blocks until it accepts requests.

        Raises HeronError for unusable settings (see ``create_app``) and RuntimeError when the server
        does not come up within 20 s.
        """
        if self._server is not None:
            raise RuntimeError("already started")
        app: ASGIApp = create_app(self.settings)
        if self.wrap is not None:
            app = self.wrap(app)
        sock = listen(self.settings.host, self.port)  # a TCP socket: accepted connections get TCP_NODELAY
        self.port = int(sock.getsockname()[1])
        self._sock = sock
        config = uvicorn.Config(
            app, log_config=None, log_level="warning", access_log=False, timeout_graceful_shutdown=5
        )
        server = GracefulServer(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="heron-server", daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("The Heron server did not start within 20 s.")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Graceful shutdown (in-flight requests finish); safe to call twice."""
        server, thread, sock = self._server, self._thread, self._sock
        self._server = self._thread = self._sock = None
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(timeout=15)
            if thread.is_alive():
                server.force_exit = True
                thread.join(timeout=5)
        if sock is not None:
            sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
