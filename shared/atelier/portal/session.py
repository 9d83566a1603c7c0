"""The portal's tokens: single-use sign-in links, the session cookie, and the minute-long token a read takes to the
database.

- A sign-in link carries `<sign-in id>.<expiry>.<signature>`; the id is marked used in Postgres when it is opened,
  so a link works once, and the signature means no one can make one up.
- The session cookie carries `<session id>.<signature>`. The session is a row (`portal_sessions`), so signing out,
  or `atelier portal revoke`, ends it on the server at once.
- Both are signed with keys of their own, derived from the portal's link secret for each purpose: never with
  Supabase's JWT secret, whose tokens PostgREST accepts. That secret signs only the token each read sends to
  PostgREST (`role: authenticated` with the client's claims, for a minute), made on the server and never handed
  to the browser; row-level security then decides what the client sees.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from atelier.kernel.signing import b64, derived_key, expiry, sign, signed

SESSION_SECONDS = 8 * 3600
SIGN_IN_SECONDS = 15 * 60
DATABASE_TOKEN_SECONDS = 60
COOKIE = "atelier_portal"
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Claims:
    user_id: str
    email: str
    expires: int  # the session's end
    business_id: str | None = None  # the business whose portal it is (None: the default)

    def jwt_claims(self) -> dict[str, Any]:
        """As Supabase sets `request.jwt.claims` for a signed-in user, with the business the client is a client
        of: row-level security shows them that business's rows alone."""
        claims = {
            "sub": self.user_id,
            "role": "authenticated",
            "aud": "authenticated",
            "email": self.email,
            "exp": self.expires,
        }
        return claims if self.business_id is None else claims | {"business_id": self.business_id}


class PortalKeys:
    def __init__(
        self, link_secret: bytes, *, database_secret: bytes | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        if len(link_secret) < 32:
            raise ValueError("the portal's link secret must be at least 32 bytes")
        self._sign_in = derived_key(link_secret, "portal sign-in links")
        self._session = derived_key(link_secret, "portal sessions")
        self._forms = derived_key(link_secret, "portal forms")
        self._database = database_secret
        self._clock = clock

    # -- sign-in links -----------------------------------------------------------------------------

    def sign_in_token(self, sign_in_id: str, expires: int) -> str:
        return f"{sign_in_id}.{expires}.{sign(self._sign_in, f'{sign_in_id}.{expires}')}"

    def read_sign_in(self, token: str | None) -> str | None:
        """The sign-in id a link carries, if its signature holds and it has not expired; None otherwise."""
        parts = (token or "").split(".")
        if len(parts) != 3 or not _ID.fullmatch(parts[0]) or (expires := expiry(parts[1])) is None:
            return None
        if not signed(self._sign_in, f"{parts[0]}.{parts[1]}", parts[2]):
            return None
        if expires < self._clock():
            return None
        return parts[0]

    # -- sessions ----------------------------------------------------------------------------------

    def session_token(self, session_id: str) -> str:
        return f"{session_id}.{sign(self._session, session_id)}"

    def read_session(self, token: str | None) -> str | None:
        """The session id a cookie carries, if its signature holds; whether the session is in force is Postgres'."""
        session_id, _, mac = (token or "").partition(".")
        if not _ID.fullmatch(session_id) or not signed(self._session, session_id, mac):
            return None
        return session_id

    def form_token(self, cookie: str | None) -> str | None:
        """The token every portal form carries (CSRF), bound to the session the cookie names; None without one."""
        session_id = self.read_session(cookie)
        return sign(self._forms, session_id) if session_id else None

    def form_token_ok(self, cookie: str | None, token: str | None) -> bool:
        session_id = self.read_session(cookie)
        return bool(session_id and token) and signed(self._forms, str(session_id), str(token))

    # -- the database's token ----------------------------------------------------------------------

    def database_token(self, claims: Claims) -> str:
        """An HS256 JWT as Supabase Auth issues them, for one read through PostgREST: a minute long, never sent to
        the browser. Without Supabase's secret (a direct Postgres connection reads with the claims alone) it is
        signed with a key of no use to anyone else."""
        now = int(self._clock())
        header = {"alg": "HS256", "typ": "JWT"}
        body = claims.jwt_claims() | {
            "iat": now,
            "exp": min(claims.expires, now + DATABASE_TOKEN_SECONDS),
            "iss": "atelier-portal",
        }
        signing = (
            f"{b64(json.dumps(header, separators=(',', ':')).encode())}."
            f"{b64(json.dumps(body, separators=(',', ':')).encode())}"
        )
        return f"{signing}.{sign(self._database or self._session, signing)}"


def cookie(value: str, *, secure: bool, max_age: int = SESSION_SECONDS) -> str:
    flags = "; Secure" if secure else ""
    return f"{COOKIE}={value}; Path=/portal; HttpOnly; SameSite=Lax; Max-Age={max_age}{flags}"


def read_cookie(header: str | None) -> str | None:
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None
