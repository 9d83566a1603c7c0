"""Signatures as Atelier's links and sessions carry them: HMAC-SHA256, URL-safe base64 without padding, checked in
constant time. One place, so that every link (a download, a portal sign-in, a report) is signed and checked alike."""

from __future__ import annotations

import base64
import hashlib
import hmac


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sign(key: bytes, message: str) -> str:
    return b64(hmac.new(key, message.encode(), hashlib.sha256).digest())


def signed(key: bytes, message: str, signature: str) -> bool:
    """Whether `signature` is the message's; any text at all is answered, never raised on (compared as bytes)."""
    return hmac.compare_digest(sign(key, message).encode(), signature.encode("utf-8", "replace"))
