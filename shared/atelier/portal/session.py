"""The portal's tokens: single-use sign-in links, and the session, a JWT of the shape Supabase Auth issues.

- A sign-in link carries `<sign-in id>.<expiry>.<signature>`; the id is marked used in Postgres when it is opened,
  so a link works once, and the signature (HMAC-SHA256 with the portal key) means no one can make one up.
- The session is an HS256 JWT (`sub`, `role: authenticated`, `aud`, `email`, `iat`, `exp`) in an HttpOnly cookie.
  Signed with Supabase's JWT secret, PostgREST accepts it as the client's own token: the database then sets
  `request.jwt.claims` from it, and row-level security decides what the client sees.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from atelier.signing import b64, expiry, sign, signed

SESSION_SECONDS = 8 * 3600
SIGN_IN_SECONDS = 15 * 60
COOKIE = "atelier_portal"
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Claims:
    user_id: str
    email: str
    expires: int

    def jwt_claims(self) -> dict[str, Any]:
        """As Supabase sets `request.jwt.claims` for a signed-in user."""
        return {"sub": self.user_id, "role": "authenticated", "aud": "authenticated", "email": self.email,
                "exp": self.expires}  # fmt: skip


class PortalKeys:
    def __init__(self, key: bytes, *, clock: Callable[[], float] = time.time) -> None:
        if len(key) < 32:
            raise ValueError("the portal key must be at least 32 bytes")
        self._key = key
        self._clock = clock

    # -- sign-in links -----------------------------------------------------------------------------

    def sign_in_token(self, sign_in_id: str, expires: int) -> str:
        return f"{sign_in_id}.{expires}.{sign(self._key, f'portal-sign-in:{sign_in_id}.{expires}')}"

    def read_sign_in(self, token: str | None) -> str | None:
        """The sign-in id a link carries, if its signature holds and it has not expired; None otherwise."""
        parts = (token or "").split(".")
        if len(parts) != 3 or not _ID.fullmatch(parts[0]) or (expires := expiry(parts[1])) is None:
            return None
        if not signed(self._key, f"portal-sign-in:{parts[0]}.{parts[1]}", parts[2]):
            return None
        if expires < self._clock():
            return None
        return parts[0]

    # -- sessions ----------------------------------------------------------------------------------

    def session(self, user_id: str, email: str) -> str:
        now = int(self._clock())
        header = {"alg": "HS256", "typ": "JWT"}
        claims = Claims(user_id, email, now + SESSION_SECONDS).jwt_claims() | {"iat": now, "iss": "atelier-portal"}
        signing = f"{b64(json.dumps(header, separators=(',', ':')).encode())}." \
                  f"{b64(json.dumps(claims, separators=(',', ':')).encode())}"  # fmt: skip
        return f"{signing}.{sign(self._key, signing)}"

    def read_session(self, token: str | None) -> tuple[Claims, str] | None:
        """The claims of a session cookie whose signature holds and which has not expired, with the JWT itself."""
        parts = (token or "").split(".")
        if len(parts) != 3 or len(token or "") > 4096:
            return None
        if not signed(self._key, f"{parts[0]}.{parts[1]}", parts[2]):
            return None
        try:
            header, claims = json.loads(_unb64(parts[0])), json.loads(_unb64(parts[1]))
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
            return None
        sub, email, expires = claims.get("sub"), claims.get("email"), claims.get("exp")
        if claims.get("role") != "authenticated" or not isinstance(sub, str) or not _ID.fullmatch(sub):
            return None
        if not isinstance(expires, int) or expires < self._clock() or not isinstance(email, str):
            return None
        return Claims(sub, email, expires), str(token)


def cookie(value: str, *, secure: bool, max_age: int = SESSION_SECONDS) -> str:
    flags = "; Secure" if secure else ""
    return f"{COOKIE}={value}; Path=/portal; HttpOnly; SameSite=Lax; Max-Age={max_age}{flags}"


def read_cookie(header: str | None) -> str | None:
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None
