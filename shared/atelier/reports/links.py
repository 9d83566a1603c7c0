"""Signed, expiring links to the report: `<expiry>.<HMAC-SHA256>` in the `key` query parameter.

The key is derived from the portal's signing secret (Supabase's JWT secret in production) for this one purpose,
so a report link is never a portal session and a portal session never a report link.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlencode

from atelier.errors import Forbidden, Unauthorized
from atelier.signing import expiry, sign, signed

DEFAULT_HOURS = 24
MAX_HOURS = 24 * 90


class ReportLinks:
    def __init__(self, secret: bytes, base_url: str, *, clock: Callable[[], float] = time.time) -> None:
        if len(secret) < 32:
            raise ValueError("the signing secret must be at least 32 bytes")
        self._key = hmac.new(secret, b"atelier report links", hashlib.sha256).digest()
        self._base = base_url.rstrip("/")
        self._clock = clock

    def token(self, hours: float = DEFAULT_HOURS) -> str:
        if not 0 < hours <= MAX_HOURS:
            raise ValueError(f"a report link lasts from a few minutes up to {MAX_HOURS} hours (90 days)")
        expires = int(self._clock() + hours * 3600)
        return f"{expires}.{sign(self._key, f'report:{expires}')}"

    def url(self, hours: float = DEFAULT_HOURS, *, period: str | None = None) -> str:
        query = {"key": self.token(hours)} | ({"period": period} if period else {})
        return f"{self._base}/reports?{urlencode(query)}"

    def check(self, token: str | None) -> int:
        """The link's expiry if it holds. Unauthorized without one; Forbidden when forged or expired."""
        if not token:
            raise Unauthorized("This page needs a report link: open the link `atelier report link` printed.")
        text, _, mac = token.partition(".")
        expires = expiry(text)
        if expires is None or not signed(self._key, f"report:{expires}", mac):
            raise Forbidden("This report link is not one Atelier made (it may have been cut short when copied).")
        if expires < self._clock():
            when = datetime.fromtimestamp(expires, UTC).strftime("%-d %B %Y at %H:%M UTC")
            raise Forbidden(f"This report link expired on {when}.")
        return expires
