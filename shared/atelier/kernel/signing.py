"""Signatures as Atelier's links and sessions carry them: HMAC-SHA256, URL-safe base64 without padding, checked in
constant time. One place, so that every link (a download, a portal sign-in, a report) is signed and checked alike."""

from __future__ import annotations

import base64
import hashlib
import hmac

MAX_EXPIRY_DIGITS = 12  # seconds since 1970, good until the year 33658


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sign(key: bytes, message: str) -> str:
    return b64(hmac.new(key, message.encode(), hashlib.sha256).digest())


def signed(key: bytes, message: str, signature: str) -> bool:
    """Whether `signature` is the message's; any text at all is answered, never raised on (compared as bytes)."""
    return hmac.compare_digest(sign(key, message).encode(), signature.encode("utf-8", "replace"))


def derived_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose only, from a secret several share: a token made for one purpose is never good for
    another (a report link is no portal session)."""
    return hmac.new(secret, f"atelier {purpose}".encode(), hashlib.sha256).digest()


def expiry(text: str) -> int | None:
    """A token's expiry: 1 to 12 ASCII digits, or None. `str.isdigit` alone admits "²" and 5,000 digits, which
    `int()` then refuses or chokes on."""
    if not 0 < len(text) <= MAX_EXPIRY_DIGITS or not text.isascii() or not text.isdigit():
        return None
    return int(text)
