"""Links to the owner's report: `<link id>.<expiry>.<HMAC-SHA256>` in the `key` query parameter.

Each link is a row (`report_links`), so `atelier report revoke` ends it before it expires. The signature's key is
derived from the portal's link secret for this one purpose (never Supabase's JWT secret), so a report link is never
a portal session and a portal session never a report link.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlencode

from atelier.kernel.errors import LinkExpired, LinkInvalid, LinkRevoked, NotAuthenticated
from atelier.kernel.rpc import Rpc
from atelier.kernel.signing import derived_key, expiry, sign, signed

_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DEFAULT_HOURS = 24
MAX_HOURS = 24 * 90


class ReportLinks:
    def __init__(self, secret: bytes, base_url: str, rpc: Rpc, *, clock: Callable[[], float] = time.time) -> None:
        if len(secret) < 32:
            raise ValueError("the signing secret must be at least 32 bytes")
        self._key = derived_key(secret, "report links")
        self._base = base_url.rstrip("/")
        self._rpc = rpc
        self._clock = clock

    def token(self, hours: float = DEFAULT_HOURS, *, purpose: str = "operator") -> str:
        if not 0 < hours <= MAX_HOURS:
            raise ValueError(f"a report link lasts from a few minutes up to {MAX_HOURS} hours (90 days)")
        seconds = max(1, int(hours * 3600))
        made = self._rpc.rpc("create_report_link", p_seconds=seconds, p_purpose=purpose)
        link_id, expires = str(made["id"]), int(made["expires"])
        return f"{link_id}.{expires}.{sign(self._key, f'{link_id}.{expires}')}"

    def url(self, hours: float = DEFAULT_HOURS, *, period: str | None = None, purpose: str = "operator") -> str:
        query = {"key": self.token(hours, purpose=purpose)} | ({"period": period} if period else {})
        return f"{self._base}/reports?{urlencode(query)}"

    def check(self, token: str | None) -> int:
        """The link's expiry if it holds. NotAuthenticated without one;
        LinkInvalid, LinkExpired or LinkRevoked when forged, expired or revoked."""
        if not token:
            raise NotAuthenticated("This page needs a report link: open the link `atelier report link` printed.")
        parts = token.split(".")
        expires = expiry(parts[1]) if len(parts) == 3 and _ID.fullmatch(parts[0]) else None
        if expires is None or not signed(self._key, f"{parts[0]}.{parts[1]}", parts[2]):
            raise LinkInvalid("This report link is not one Atelier made (it may have been cut short when copied).")
        refusal = "expired" if expires < self._clock() else self._rpc.rpc("report_link_refusal", p_id=parts[0])
        if refusal == "expired":
            when = datetime.fromtimestamp(expires, UTC).strftime("%-d %B %Y at %H:%M UTC")
            raise LinkExpired(f"This report link expired on {when}.")
        if refusal:
            raise LinkRevoked("This report link was revoked.")
        return expires
