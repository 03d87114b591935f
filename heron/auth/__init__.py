"""Authentication and permissions of ``heron server --auth``: users with scrypt-hashed passwords, API
tokens stored as hashes, and roles (READ, EDIT, MANAGE) per user on an experiment or a registered name.

The store lives in the tracking database; the server's route table (``heron.server.policy``) decides
which role each route needs, and ``heron users`` / ``heron tokens`` / ``heron permissions`` manage it.
Like ``heron`` itself, this package imports its parts on first use.
"""

from __future__ import annotations

from heron.lazy import attribute_loader

_EXPORTS = {
    "EXPERIMENT": "heron.auth.records",
    "REGISTERED_MODEL": "heron.auth.records",
    "Role": "heron.auth.records",
    "SqlAuthStore": "heron.auth.sqlstore",
    "Token": "heron.auth.records",
    "User": "heron.auth.records",
    "parse_role": "heron.auth.records",
}

__all__ = sorted(_EXPORTS)

__getattr__ = attribute_loader("heron.auth", _EXPORTS)
