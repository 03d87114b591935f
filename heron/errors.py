"""Heron's one exception type and its error codes.

The codes and their HTTP statuses are MLflow's, so that MLflow clients talking to a Heron server and
code catching ``error_code`` values keep working.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "HeronError",
    "MlflowException",
    "ErrorCode",
    "INTERNAL_ERROR",
    "INVALID_PARAMETER_VALUE",
    "INVALID_STATE",
    "RESOURCE_ALREADY_EXISTS",
    "RESOURCE_DOES_NOT_EXIST",
    "PERMISSION_DENIED",
    "UNAUTHENTICATED",
    "MALFORMED_REQUEST",
    "BAD_REQUEST",
    "TEMPORARILY_UNAVAILABLE",
    "ENDPOINT_NOT_FOUND",
    "REQUEST_LIMIT_EXCEEDED",
    "NOT_IMPLEMENTED",
    "http_status",
]

ErrorCode = str

INTERNAL_ERROR: ErrorCode = "INTERNAL_ERROR"
TEMPORARILY_UNAVAILABLE: ErrorCode = "TEMPORARILY_UNAVAILABLE"
ENDPOINT_NOT_FOUND: ErrorCode = "ENDPOINT_NOT_FOUND"
MALFORMED_REQUEST: ErrorCode = "MALFORMED_REQUEST"
INVALID_PARAMETER_VALUE: ErrorCode = "INVALID_PARAMETER_VALUE"
INVALID_STATE: ErrorCode = "INVALID_STATE"
BAD_REQUEST: ErrorCode = "BAD_REQUEST"
RESOURCE_ALREADY_EXISTS: ErrorCode = "RESOURCE_ALREADY_EXISTS"
RESOURCE_DOES_NOT_EXIST: ErrorCode = "RESOURCE_DOES_NOT_EXIST"
PERMISSION_DENIED: ErrorCode = "PERMISSION_DENIED"
UNAUTHENTICATED: ErrorCode = "UNAUTHENTICATED"
REQUEST_LIMIT_EXCEEDED: ErrorCode = "REQUEST_LIMIT_EXCEEDED"
NOT_IMPLEMENTED: ErrorCode = "NOT_IMPLEMENTED"

# One table from code to HTTP status, as MLflow's server answers.
_HTTP_STATUS: dict[ErrorCode, int] = {
    INTERNAL_ERROR: 500,
    TEMPORARILY_UNAVAILABLE: 503,
    ENDPOINT_NOT_FOUND: 404,
    MALFORMED_REQUEST: 400,
    INVALID_PARAMETER_VALUE: 400,
    INVALID_STATE: 400,
    BAD_REQUEST: 400,
    RESOURCE_ALREADY_EXISTS: 400,
    RESOURCE_DOES_NOT_EXIST: 404,
    PERMISSION_DENIED: 403,
    UNAUTHENTICATED: 401,
    REQUEST_LIMIT_EXCEEDED: 429,
    NOT_IMPLEMENTED: 501,
}


def http_status(error_code: ErrorCode) -> int:
    """The HTTP status that a server answers for ``error_code`` (500 for an unknown code)."""
    return _HTTP_STATUS.get(error_code, 500)


class HeronError(Exception):
    """Every error Heron raises on purpose.

    ``error_code`` is one of the module's codes; ``message`` says what was wrong and what would be
    right. ``MlflowException`` is the same class, for code written against MLflow.
    """

    def __init__(self, message: str, error_code: ErrorCode = INTERNAL_ERROR, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.details = details

    def get_http_status_code(self) -> int:
        return http_status(self.error_code)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the server answers with: ``{"error_code": ..., "message": ...}``."""
        return {"error_code": self.error_code, "message": self.message}

    @classmethod
    def invalid(cls, message: str) -> HeronError:
        return cls(message, INVALID_PARAMETER_VALUE)

    @classmethod
    def not_found(cls, message: str) -> HeronError:
        return cls(message, RESOURCE_DOES_NOT_EXIST)

    @classmethod
    def exists(cls, message: str) -> HeronError:
        return cls(message, RESOURCE_ALREADY_EXISTS)

    def __repr__(self) -> str:
        return f"HeronError({self.message!r}, error_code={self.error_code!r})"


MlflowException = HeronError
