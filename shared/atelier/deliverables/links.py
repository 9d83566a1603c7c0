"""Download links. A link on a Notion page or in an e-mail is `<api>/deliverables/<id>/download?token=...`: the token
is an HMAC of the id (and of an expiry, where it has one), so the link outlives any presigned URL; the route answers
it with a fresh presigned URL from the object store each time, while the file is still shared."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from atelier.deliverables.store import ObjectStore
from atelier.kernel.errors import ConfigurationError, LinkExpired, LinkInvalid, NotPermitted, UnknownRecord
from atelier.kernel.rpc import Rpc
from atelier.kernel.signing import expiry, sign, signed

NEVER = 0  # a token's expiry when it has none: the links on Notion pages


class DownloadLinks:
    """Signs and checks the tokens of download links; `base_url` is the public API's address."""

    def __init__(self, key: bytes, base_url: str, *, clock: Callable[[], float] = time.time) -> None:
        if len(key) < 16:
            raise ConfigurationError("DOWNLOAD_TOKEN_KEY must be at least 16 characters")
        self._key = key
        self.base_url = base_url.rstrip("/")
        self._clock = clock

    def token(self, deliverable_id: str, *, expires: int = NEVER) -> str:
        return f"{expires}.{sign(self._key, f'{deliverable_id}.{expires}')}"

    def url(self, deliverable_id: str, *, expires: int = NEVER) -> str:
        token = self.token(deliverable_id, expires=expires)
        return f"{self.base_url}/deliverables/{deliverable_id}/download?token={token}"

    def check(self, deliverable_id: str, token: str | None) -> str | None:
        """None when the token is good for this id, else why it is not."""
        if not token:
            return "the link has no token"
        expires_text, _, signature = token.partition(".")
        expires = expiry(expires_text)
        if expires is None or not signature:
            return "the token is malformed"
        if not signed(self._key, f"{deliverable_id}.{expires}", signature):
            return "the token does not match this deliverable"
        if expires != NEVER and expires < self._clock():
            return "the link has expired"
        return None


def download_target(rpc: Rpc, store: ObjectStore, links: DownloadLinks, deliverable_id: str, token: str | None) -> str:
    """Where a download link leads: a fresh presigned URL for the deliverable's file.
    A bad token, or a file whose project was refunded or removed, is `NotPermitted`; an id that is not a live
    deliverable is `UnknownRecord`."""
    try:
        deliverable_id = str(uuid.UUID(deliverable_id))
    except ValueError:
        raise _not_found(deliverable_id) from None
    refused = links.check(deliverable_id, token)
    if refused:
        raise (LinkExpired if refused == "the link has expired" else LinkInvalid)(
            f"This download link is not valid ({refused}); ask for a new one."
        )
    file = rpc.rpc("deliverable_file", p_id=deliverable_id)
    if not file or file.get("deleted"):
        raise _not_found(deliverable_id)
    if file.get("withdrawn"):
        raise NotPermitted("This file is no longer shared: its project was refunded or removed. Ask the studio.")
    return store.download_url(file)


def _not_found(deliverable_id: str) -> UnknownRecord:
    return UnknownRecord(f"There is no deliverable {deliverable_id}; check the link.")
