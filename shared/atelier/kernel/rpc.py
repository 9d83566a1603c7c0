"""The `rpc` port: every business write is one Postgres function, called through one small interface.

Two adapters stand behind it: psycopg (local runs, tests, or Supavisor in production) and supabase-py
(PostgREST). Both map Postgres' SQLSTATE, which PostgREST passes through as `code`, to the same exceptions.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from atelier.kernel.errors import (
    DatabaseError,
    DatabaseUnavailable,
    IntegrityViolation,
    InvalidData,
    PermissionDenied,
    RpcFunctionNotFound,
)
from atelier.kernel.settings import DatabaseSettings, secret

if TYPE_CHECKING:
    import psycopg

_FUNCTION_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# Exact codes first, then by SQLSTATE class (the first two characters).
_BY_CODE: dict[str, type[DatabaseError]] = {
    "42501": PermissionDenied,
    "42883": RpcFunctionNotFound,
    "P0001": InvalidData,
    "40001": DatabaseUnavailable,
    "40P01": DatabaseUnavailable,
    "PGRST202": RpcFunctionNotFound,
    "PGRST301": PermissionDenied,
    "PGRST302": PermissionDenied,
}
_BY_CLASS: dict[str, type[DatabaseError]] = {
    "08": DatabaseUnavailable,
    "22": InvalidData,
    "23": IntegrityViolation,
    "53": DatabaseUnavailable,
    "57": DatabaseUnavailable,
}


def error_for_code(code: str | None, message: str, detail: str | None = None) -> DatabaseError:
    """The package exception for a SQLSTATE or PostgREST error code."""
    cls = _BY_CODE.get(code or "") or _BY_CLASS.get((code or "")[:2], DatabaseError)
    return cls(message, sqlstate=code, detail=detail)


class Rpc(Protocol):
    """Calls one database function in one transaction and returns its JSON result."""

    def rpc(self, function: str, /, **args: Any) -> Any: ...


def check_function_name(function: str) -> str:
    if not _FUNCTION_NAME.match(function):
        raise ValueError(f"not a database function name: {function!r}")
    return function


class PsycopgRpc:
    """`rpc` over a direct connection. Safe behind Supavisor's transaction pooler (port 6543):
    it never prepares statements, and each call is its own transaction."""

    def __init__(self, dsn: str, *, connect_timeout: int = 5) -> None:
        self._dsn = dsn
        self._connect_timeout = connect_timeout
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()

    def _connection(self) -> psycopg.Connection[Any]:
        import psycopg

        if self._conn is None or self._conn.closed:
            try:
                self._conn = psycopg.connect(
                    self._dsn,
                    autocommit=True,
                    prepare_threshold=None,
                    connect_timeout=self._connect_timeout,
                    application_name="atelier",
                )
            except psycopg.OperationalError as exc:
                raise DatabaseUnavailable(f"cannot connect to the database: {_first_line(exc)}") from exc
        return self._conn

    def rpc(self, function: str, /, **args: Any) -> Any:
        return self._execute(function, args)

    def _execute(
        self,
        function: str,
        args: Mapping[str, Any],
        *,
        role: str | None = None,
        claims: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """One call. With a `role`, a transaction under that role with `request.jwt.claims` set (`as_user`); with
        `headers`, `request.headers` set as PostgREST sets them (`for_business`)."""
        import json

        import psycopg
        from psycopg import sql
        from psycopg.types.json import Jsonb

        call = self._call(function, tuple(args))
        params = {k: Jsonb(v) if _is_json_document(v) else v for k, v in args.items()}
        with self._lock:
            conn = self._connection()
            try:
                if role is None and headers is None:
                    # One statement in autocommit is its own transaction: one round trip, no BEGIN/COMMIT.
                    with conn.cursor() as cur:
                        cur.execute(call, params)
                        row = cur.fetchone()
                else:
                    with conn.transaction(), conn.cursor() as cur:
                        if role is not None:
                            cur.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
                            claimed = json.dumps(claims or {})
                            cur.execute("select set_config('request.jwt.claims', %s, true)", (claimed,))
                        if headers is not None:
                            cur.execute("select set_config('request.headers', %s, true)", (json.dumps(headers),))
                        cur.execute(call, params)
                        row = cur.fetchone()
            except UnicodeEncodeError as exc:  # a lone surrogate ("\ud800" in JSON) is not UTF-8: never sent
                raise InvalidData(f"a value is not UTF-8 text: {exc.reason}", sqlstate="22021") from exc
            except psycopg.Error as exc:
                if conn.broken or isinstance(exc, psycopg.OperationalError):
                    self.close()
                diag = exc.diag
                # A value psycopg refuses before sending (a NUL in text) is what Postgres calls 22021.
                code = exc.sqlstate or ("22021" if isinstance(exc, psycopg.DataError) else None)
                raise error_for_code(code, diag.message_primary or _first_line(exc), diag.message_detail) from exc
        return None if row is None else row[0]

    def as_user(self, jwt: str, claims: Mapping[str, Any], *, role: str = "authenticated") -> Rpc:
        """This connection's `rpc`, run as a signed-in user: each call is one transaction under `role`, with
        `request.jwt.claims` set as Supabase sets them, so row-level security decides what it may see."""
        return _AsUser(self, dict(claims), role)

    def for_business(self, business_id: str) -> ForBusiness:
        """This connection's `rpc` for one business: each call carries `x-atelier-business`, as PostgREST's
        would, so the database works on that business's rows alone."""
        return ForBusiness(self, business_id)

    @staticmethod
    @lru_cache(maxsize=256)
    def _call(function: str, names: tuple[str, ...]) -> bytes:
        """`select public."fn"("a" => %(a)s, ...)`, composed once per function and argument names."""
        from psycopg import sql

        check_function_name(function)
        for name in names:
            check_function_name(name)
        composed = sql.SQL("select public.{}({})").format(
            sql.Identifier(function),
            sql.SQL(", ").join(sql.SQL("{} => {}").format(sql.Identifier(n), sql.Placeholder(n)) for n in names),
        )
        return composed.as_bytes(None)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


ROLES = ("authenticated", "service_role", "anon")
# The request header that names a call's business (PostgREST hands the database its headers, lower-cased).
BUSINESS_HEADER = "x-atelier-business"


class _AsUser:
    def __init__(self, rpc: PsycopgRpc, claims: dict[str, Any], role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        self._rpc, self._claims, self._role = rpc, claims, role

    def rpc(self, function: str, /, **args: Any) -> Any:
        return self._rpc._execute(function, args, role=self._role, claims=self._claims)


class ForBusiness:
    """`rpc` for one business over a direct connection (`PsycopgRpc.for_business`)."""

    def __init__(self, rpc: PsycopgRpc, business_id: str) -> None:
        self._rpc, self._headers = rpc, {BUSINESS_HEADER: business_id}

    def rpc(self, function: str, /, **args: Any) -> Any:
        return self._rpc._execute(function, args, headers=self._headers)

    def as_user(self, jwt: str, claims: Mapping[str, Any], *, role: str = "authenticated") -> Rpc:
        return _AsUser(self._rpc, {"business_id": self._headers[BUSINESS_HEADER], **claims}, role)

    def for_business(self, business_id: str) -> ForBusiness:
        return self._rpc.for_business(business_id)


class PostgrestRpc:
    """`rpc` through PostgREST's `POST /rest/v1/rpc/<function>`, with supabase-py's PostgREST client."""

    def __init__(self, supabase_url: str, service_key: str, *, business_id: str | None = None) -> None:
        self._url = supabase_url.rstrip("/")
        self._key = service_key
        self._client: Any = None
        self._business = {BUSINESS_HEADER: business_id} if business_id else {}

    def rpc(self, function: str, /, **args: Any) -> Any:
        import httpx
        from postgrest.exceptions import APIError

        check_function_name(function)
        if self._client is None:
            from postgrest import SyncPostgrestClient

            # The headers supabase-py's create_client sends: the key, as apikey and as the bearer token.
            headers = {"apikey": self._key, "Authorization": f"Bearer {self._key}", **self._business}
            self._client = SyncPostgrestClient(f"{self._url}/rest/v1", headers=headers)
        try:
            return self._client.rpc(function, args).execute().data
        except APIError as exc:
            raise error_for_code(exc.code, exc.message or "PostgREST refused the call", exc.details) from exc
        except httpx.TransportError as exc:
            raise DatabaseUnavailable(f"cannot reach PostgREST: {_first_line(exc)}") from exc

    def as_user(self, jwt: str, claims: Mapping[str, Any], *, role: str = "authenticated") -> Rpc:
        """PostgREST with the user's own JWT as the bearer token: PostgREST takes the role and the claims from it
        (it must be signed with the project's JWT secret), so row-level security decides. `role` is the JWT's."""
        user = PostgrestRpc(self._url, self._key)
        from postgrest import SyncPostgrestClient

        user._client = SyncPostgrestClient(
            f"{self._url}/rest/v1", headers={"apikey": self._key, "Authorization": f"Bearer {jwt}"}
        )
        return user

    def for_business(self, business_id: str) -> PostgrestRpc:
        """PostgREST for one business: each call sends `X-Atelier-Business`."""
        return PostgrestRpc(self._url, self._key, business_id=business_id)


def _is_json_document(value: Any) -> bool:
    """A mapping, or a list of mappings, is a jsonb argument; a list of scalars is a Postgres array
    (text[], uuid[]), as PostgREST reads them."""
    if isinstance(value, Mapping):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(item, Mapping) for item in value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def rpc_from_settings(settings: DatabaseSettings) -> Rpc:
    """The adapter the settings ask for: PostgREST when only SUPABASE_URL is given, else psycopg."""
    if settings.uses_postgrest:
        assert settings.supabase_url is not None
        key = secret(settings.supabase_service_key, settings.supabase_service_key_secret, "SUPABASE_SERVICE_KEY")
        return PostgrestRpc(settings.supabase_url, key)
    return PsycopgRpc(secret(settings.database_url, settings.database_url_secret, "DATABASE_URL"))
