"""What a username, password or token name may be, checked before anything is written."""

from __future__ import annotations

from heron.errors import HeronError

__all__ = ["MIN_PASSWORD_LENGTH", "check_password", "check_token_name", "check_username"]

MIN_PASSWORD_LENGTH = 8
_MAX_NAME = 256


def check_username(username: object) -> str:
    """``username``, or INVALID_PARAMETER_VALUE: 1-256 printable characters without ':' (HTTP basic
    auth cannot carry it) or whitespace."""
    if not isinstance(username, str) or not username:
        raise HeronError.invalid(f"username must be a non-empty string, got {username!r}.")
    if len(username) > _MAX_NAME:
        raise HeronError.invalid(f"username must be at most {_MAX_NAME} characters, got {len(username)}.")
    if ":" in username or any(c.isspace() or not c.isprintable() for c in username):
        raise HeronError.invalid(
            f"username {username!r} may not contain ':', whitespace or control characters."
        )
    return username


def check_password(password: object) -> str:
    """``password``, or INVALID_PARAMETER_VALUE: at least 8 characters, at most 1024."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise HeronError.invalid(f"password must be a string of at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > 1024:
        raise HeronError.invalid("password must be at most 1024 characters.")
    return password


def check_token_name(name: object) -> str:
    """``name``, or INVALID_PARAMETER_VALUE: 1-256 printable characters."""
    if not isinstance(name, str) or not name.strip():
        raise HeronError.invalid(f"token name must be a non-empty string, got {name!r}.")
    if len(name) > _MAX_NAME or not name.isprintable():
        raise HeronError.invalid(f"token name must be at most {_MAX_NAME} printable characters.")
    return name
