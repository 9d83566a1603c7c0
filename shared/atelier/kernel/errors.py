"""The package's own exceptions: adapters translate SDK and driver errors into these, by type or code.

Each is named for what went wrong, never for a status: domain code knows nothing of HTTP, and
`atelier.web.http.STATUS_BY_ERROR` maps each type to a status, once, at the edge.
A `Refusal` is input the caller must change; a `DatabaseError` is ours to explain; an `UpstreamFailed` is
Notion's, and the caller may send again.
"""

from __future__ import annotations


class AtelierError(Exception):
    """Base class for every error Atelier raises on purpose."""


class ConfigurationError(AtelierError):
    """A setting is missing or malformed; the message says which one and how to set it."""


class Refusal(AtelierError):
    """Input we refuse. `code` is stable for scripts, the message says what to do, `fields` names each field."""

    default_code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.fields = dict(fields or {})


class MalformedRequest(Refusal):
    """The request is malformed: a body that does not parse, a value out of shape."""


class NotAuthenticated(Refusal):
    """The caller did not prove who it is: no sign-in, no link, a missing or wrong shared secret."""

    default_code = "unauthorized"


class SignatureInvalid(NotAuthenticated):
    """A signed request whose signature is missing, malformed or does not match its body."""

    default_code = "bad_signature"


class NotPermitted(Refusal):
    """The caller's proof is not good for this: a tampered link, a handshake nobody armed, a file no longer shared."""

    default_code = "forbidden"


class LinkInvalid(NotPermitted):
    """A link Atelier did not make, or one cut short when copied."""


class LinkExpired(NotPermitted):
    """A link Atelier made whose time is up."""


class LinkRevoked(NotPermitted):
    """A link the operator ended before it expired."""


class UnknownRecord(Refusal):
    """What the request names does not exist (or is not the caller's to see)."""

    default_code = "not_found"


class Contradiction(Refusal):
    """The request contradicts what is stored (a submission key reused with other answers)."""

    default_code = "conflict"


class BodyTooLarge(Refusal):
    default_code = "payload_too_large"


class WrongMediaType(Refusal):
    default_code = "unsupported_media_type"


class RateLimited(Refusal):
    """The caller is over a limit; `retry_after` is how many seconds until they may try again."""

    default_code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, int(retry_after))


class UpstreamFailed(AtelierError):
    """A service Atelier depends on (Notion) failed or did not answer; the same request may succeed later.
    `service` names it for the caller."""

    service = "upstream"


def in_minutes(seconds: float) -> str:
    """A wait as a person reads it: "1 minute", "15 minutes"."""
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


class ValidationFailed(Refusal):
    """Well-formed input whose fields need attention; `fields` says which and how."""

    default_code = "validation_failed"


class DatabaseError(AtelierError):
    """A database call failed. `sqlstate` is Postgres' five-character code when there is one.
    `retryable`: the same call may succeed later (only `DatabaseUnavailable`); the edge answers 503 for it alone."""

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
