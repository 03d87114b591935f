"""HTTP to a Heron server: one pooled httpx client per server, credentials, retries, Heron errors.

The REST tracking store and the HTTP artifact repository both talk through a :class:`RemoteServer`;
``import heron`` never loads this module (httpx is imported with it).

Retries (docs/server.md, "Retries"), with exponential backoff from 0.1 s doubling to 5 s, with jitter,
for at most ``HERON_HTTP_RETRY_TIMEOUT_S`` (60 s):

- a request that never left (connection refused, connect timeout: the server is down or restarting)
  is retried for every call, writes included, since nothing can have been written;
- a request whose connection the server reset (RST) before answering a byte is retried for every call
  too: the server's socket was closed with the request unread (e.g. still in the backlog of a server
  that stopped listening);
- so is a request sent on a kept-alive connection that the server closed (FIN) before answering:
  that is what a restart does to a connection that was idle, and the request was never read. The
  one case this repeats a write that did happen is a server killed between committing a request and
  answering it on a reused connection; a graceful shutdown finishes every request it has read;
- a request that may have reached the server otherwise (a fresh connection broke after it was sent, a
  read timeout) and a 502/503/504 answer are retried only for *idempotent* calls, whose repetition
  cannot change the result: reads (GET, search) and writes that set a value (set a tag, log a param,
  log a batch without metrics, PUT an artifact). ``log_metric`` and ``log_batch`` with metrics are
  not retried then: a second attempt could store the values twice. They raise instead, naming the
  server.
"""

from __future__ import annotations

import base64
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from heron import __version__, config
from heron.errors import (
    BAD_REQUEST,
    ENDPOINT_NOT_FOUND,
    INTERNAL_ERROR,
    INVALID_PARAMETER_VALUE,
    NOT_IMPLEMENTED,
    PERMISSION_DENIED,
    REQUEST_LIMIT_EXCEEDED,
    TEMPORARILY_UNAVAILABLE,
    UNAUTHENTICATED,
    HeronError,
)

__all__ = ["RemoteServer", "authorization_header", "server_for", "base_url", "search_fields"]

_logger = logging.getLogger(__name__)

_FIRST_DELAY_S = 0.1
_MAX_DELAY_S = 5.0
_RETRY_STATUSES = frozenset({502, 503, 504})
# Raised before a byte of the request was sent: safe to repeat any call.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# What a kept-alive connection closed by the server under a request looks like (FIN, RST, EPIPE).
_DROPPED = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
_STATUS_CODES = {
    400: BAD_REQUEST,
    401: UNAUTHENTICATED,
    403: PERMISSION_DENIED,
    404: ENDPOINT_NOT_FOUND,
    413: REQUEST_LIMIT_EXCEEDED,
    429: REQUEST_LIMIT_EXCEEDED,
    501: NOT_IMPLEMENTED,
    503: TEMPORARILY_UNAVAILABLE,
}

_lock = threading.Lock()
_servers: dict[str, RemoteServer] = {}


def base_url(uri: str) -> str:
    """``uri`` without query, fragment or trailing ``/``: the root every API path is appended to."""
    parts = urlsplit(uri)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise HeronError.invalid(f"Server URI {uri!r} is not an http(s)://host[:port] URL.")
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path.rstrip("/"), "", ""))


def search_fields(filter_string: str | None, order_by: Sequence[str] | None, page_token: str | None) -> dict[str, Any]:
    """The filter, order and page fields of a search request in MLflow's REST API, leaving out what is unset."""
    fields: dict[str, Any] = {}
    if filter_string:
        fields["filter"] = filter_string
    if order_by:
        fields["order_by"] = list(order_by)
    if page_token:
        fields["page_token"] = page_token
    return fields


def server_for(uri: str) -> RemoteServer:
    """The shared :class:`RemoteServer` for ``uri`` (one connection pool per server and process)."""
    url = base_url(uri)
    with _lock:
        server = _servers.get(url)
        if server is None:
            server = _servers[url] = RemoteServer(url)
    return server


class RemoteServer:
    """Requests to one server. Thread-safe; after a fork the child opens its own connections."""

    def __init__(self, url: str) -> None:
        self.url = base_url(url)
        self._client_lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._pid = -1

    def _http(self) -> httpx.Client:
        client, pid = self._client, os.getpid()
        if client is not None and self._pid == pid:
            return client
        with self._client_lock:
            if self._client is None or self._pid != pid:
                # A forked child must not share the parent's sockets: drop them without closing.
                timeout = config.HTTP_TIMEOUT_S.get()
                self._client = httpx.Client(
                    base_url=self.url,
                    timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
                    limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
                    headers={"User-Agent": f"heron/{__version__}"},
                    follow_redirects=False,
                    trust_env=True,
                )
                self._pid = pid
            return self._client

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None and self._pid == os.getpid():
                self._client.close()
            self._client = None

    # ------------------------------------------------------------------------------------------ calls

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool,
    ) -> dict[str, Any]:
        """Send one JSON request and return the JSON object answered.

        Raises HeronError with the server's ``error_code`` and message for an error answer, and
        TEMPORARILY_UNAVAILABLE naming the server when it cannot be reached within the retry budget.
        """
        response = self.request(method, path, json=json, params=params, idempotent=idempotent)
        try:
            body = response.json() if response.content else {}
        except ValueError:
            raise HeronError(
                f"{method} {self.url}{path} answered HTTP {response.status_code} with a body that is not "
                f"JSON: {response.text[:200]!r}. Is {self.url} a Heron server?",
                INTERNAL_ERROR,
            ) from None
        if not isinstance(body, dict):
            raise HeronError(f"{method} {self.url}{path} answered {type(body).__name__}, not a JSON object.")
        return body

    def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        content: Callable[[], Any] | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send a request with retries and return the response, raising HeronError for error answers.

        ``content`` may be a function returning a fresh body (e.g. an open file) for each attempt.
        Statuses in ``ok_statuses`` are returned instead of raised.
        """
        attempt = _Attempts(self.url, method, path, idempotent)
        while True:
            body = content() if callable(content) else content
            trace = _Trace()
            try:
                response = self._http().request(
                    method,
                    path,
                    json=json,
                    params=_query(params),
                    content=body,
                    headers=self._headers(headers),
                    extensions={"trace": trace},
                )
            except httpx.TransportError as exc:
                attempt(exc, sent=not trace.never_processed(exc))
                continue
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
            if response.status_code in _RETRY_STATUSES and idempotent and attempt.can_retry():
                attempt(HeronError(f"HTTP {response.status_code}", TEMPORARILY_UNAVAILABLE), sent=True)
                continue
            if response.is_success or response.status_code in ok_statuses:
                return response
            raise error_from_response(response, method, self.url + path)

    @contextmanager
    def stream(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None
    ) -> Iterator[httpx.Response]:
        """A streamed GET (retried like any read until the answer starts). 404 is returned, not raised."""
        attempt = _Attempts(self.url, method, path, True)
        while True:
            http = self._http()
            try:
                request = http.build_request(method, path, params=_query(params), headers=self._headers(None))
                response = http.send(request, stream=True)
            except httpx.TransportError as exc:
                attempt(exc, sent=True)
                continue
            try:
                if response.status_code in _RETRY_STATUSES and attempt.can_retry():
                    attempt(HeronError(f"HTTP {response.status_code}", TEMPORARILY_UNAVAILABLE), sent=True)
                    continue
                if not response.is_success and response.status_code != 404:
                    raise error_from_response(response, method, self.url + path)
                yield response
                return
            finally:
                response.close()

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        authorization = authorization_header()
        if authorization:
            headers["Authorization"] = authorization
        return headers


class _Trace:
    """httpcore's trace hook: was the connection reused, and did the server start answering?"""

    def __init__(self) -> None:
        self.reused = True
        self.answered = False

    def __call__(self, event: str, info: Mapping[str, Any]) -> None:
        if event == "connection.connect_tcp.started":
            self.reused = False
        elif event == "http11.receive_response_headers.complete":
            self.answered = True

    def never_processed(self, exc: Exception) -> bool:
        """Whether the server cannot have handled the request that failed with ``exc``."""
        if isinstance(exc, _NEVER_SENT):
            return True
        if self.answered or not isinstance(exc, _DROPPED):
            return False
        # A reset means the server's socket closed with our request unread (a process that read all
        # of it and died closes with a FIN instead): e.g. a connection still in the backlog of a
        # server that stopped listening.
        return self.reused or _caused_by(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError))


def _caused_by(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, kinds):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class _Attempts:
    """Counts attempts of one call and sleeps between them; raises once retrying must stop."""

    def __init__(self, url: str, method: str, path: str, idempotent: bool) -> None:
        self.url, self.method, self.path, self.idempotent = url, method, path, idempotent
        self.start = time.monotonic()
        self.deadline = self.start + config.HTTP_RETRY_TIMEOUT_S.get()
        self.delay = _FIRST_DELAY_S
        self.count = 0

    def can_retry(self) -> bool:
        return time.monotonic() + self.delay <= self.deadline

    def __call__(self, exc: Exception, *, sent: bool) -> None:
        """Sleep before the next attempt, or raise if ``exc`` must not or can no longer be retried."""
        self.count += 1
        where = f"{self.method} {self.url}{self.path}"
        if sent and not self.idempotent:
            raise HeronError(
                f"The connection to the Heron server at {self.url} broke during {where} ({_describe(exc)}). "
                "The server may or may not have stored it, so it was not sent again (it could have been "
                "stored twice); check the run before logging it again.",
                TEMPORARILY_UNAVAILABLE,
            ) from exc
        if not self.can_retry():
            elapsed = time.monotonic() - self.start
            raise HeronError(
                f"Cannot reach the Heron server at {self.url}: {where} failed {self.count} time(s) over "
                f"{elapsed:.1f} s ({_describe(exc)}). Is `heron server` running there and is the "
                "tracking URI right? (HERON_HTTP_RETRY_TIMEOUT_S sets how long calls keep retrying.)",
                TEMPORARILY_UNAVAILABLE,
            ) from exc
        if self.count == 1:
            _logger.warning(
                "The Heron server at %s did not answer %s (%s); retrying for up to %.0f s.",
                self.url,
                where,
                _describe(exc),
                self.deadline - self.start,
            )
        else:
            _logger.debug("Retrying %s in %.2f s after %s", where, self.delay, _describe(exc))
        time.sleep(self.delay * random.uniform(0.5, 1.0))
        self.delay = min(self.delay * 2, _MAX_DELAY_S)


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if not isinstance(exc, HeronError) else text


def _query(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None}


def error_from_response(response: httpx.Response, method: str, url: str) -> HeronError:
    """The HeronError an error answer stands for: the server's code and message when it sent them."""
    if not response.is_stream_consumed:
        response.read()
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error_code"), str):
        message = body.get("message")
        return HeronError(str(message) if message else f"{method} {url} failed", body["error_code"])
    status = response.status_code
    code = _STATUS_CODES.get(status, INTERNAL_ERROR if status >= 500 else INVALID_PARAMETER_VALUE)
    return HeronError(f"{method} {url} answered HTTP {status}: {response.text[:300]!r}", code)


def authorization_header() -> str | None:
    """The ``Authorization`` header for a Heron server: ``Bearer HERON_TRACKING_TOKEN``, else basic auth
    with ``HERON_TRACKING_USERNAME``/``HERON_TRACKING_PASSWORD``, else None."""
    token = config.TRACKING_TOKEN.get()
    if token:
        return f"Bearer {token}"
    username = config.TRACKING_USERNAME.get()
    if username:
        pair = f"{username}:{config.TRACKING_PASSWORD.get() or ''}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")
    return None
