"""Query parameters an API route does not declare are refused, as unknown body fields are (see
:class:`heron.server.messages.Body`): 400 INVALID_PARAMETER_VALUE naming the parameter.

FastAPI ignores undeclared query parameters; :func:`known_query` is a dependency of the whole app that
compares the request's parameter names with the ones its route declares (its own and its
dependencies'). Only the REST API (``/api/...``) is checked: pages and OTLP ingest keep FastAPI's rule.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from heron.errors import HeronError

__all__ = ["known_query"]


def known_query(request: Request) -> None:
    """Raise HeronError (400) for a query parameter the request's ``/api/`` route does not declare."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.path.startswith("/api/") or not request.query_params:
        return
    declared = _query_names(route.dependant)  # a few names: not worth a cache (routes are unhashable)
    unknown = sorted(set(request.query_params) - declared)
    if unknown:
        takes = ", ".join(sorted(declared)) or "no query parameters"
        raise HeronError.invalid(f"Unknown query parameter '{unknown[0]}': {route.path} takes only {takes}.")


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names
