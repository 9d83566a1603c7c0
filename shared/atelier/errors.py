"""The package's own exceptions: adapters translate SDK and driver errors into these, by type or code."""

from __future__ import annotations


class AtelierError(Exception):
    """Base class for every error Atelier raises on purpose."""


class ConfigurationError(AtelierError):
    """A setting is missing or malformed; the message says which one and how to set it."""


class DatabaseError(AtelierError):
    """A database call failed. `sqlstate` is Postgres' five-character code when there is one."""

    retryable = False

    def __init__(self, message: str, *, sqlstate: str | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.detail = detail


class IntegrityViolation(DatabaseError):
    """A constraint refused the write (unique, foreign key, check, not null): class 23."""


class InvalidData(DatabaseError):
    """The database refused a value as malformed or raised a business rule (class 22, P0001)."""


class PermissionDenied(DatabaseError):
    """Row Level Security or a grant refused the operation (42501)."""


class RpcFunctionNotFound(DatabaseError):
    """No database function of that name takes those arguments (42883, PostgREST PGRST202)."""


class DatabaseUnavailable(DatabaseError):
    """The database could not be reached or asked us to try again (connection, shutdown, serialization)."""

    retryable = True
