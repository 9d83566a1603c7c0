"""The portal's work, between the HTTP edge and Postgres.

Sign-in requests and links go through `service_role` functions (they touch `portal_sign_ins`, which no client may
read). Everything a client is shown goes through `reads(claims)`: the client's own role and JWT claims, so that
row-level security is what decides. The role is a parameter only so that a test can show that, without it (as
`service_role`), one client would see another's project.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from atelier.kernel.business import named
from atelier.kernel.rpc import Rpc
from atelier.portal.session import SESSION_SECONDS, SIGN_IN_SECONDS, Claims, PortalKeys

PER_ADDRESS = 5  # sign-in requests per address per 15 minutes
PER_SOURCE = 20  # per source address per 15 minutes
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DOCUMENT = re.compile(r"(RCT|INV)-[0-9]{5,12}")
_ADDRESS = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")

UserReads = Callable[[str, dict[str, Any]], Rpc]  # (the client's JWT, its claims) -> rpc as the client


def is_address(text: str) -> bool:
    """Whether `text` can be an e-mail address (a local part, an @, a domain, nothing unprintable): what a sign-in
    request must give."""
    return _ADDRESS.fullmatch(text) is not None and text.isprintable()


@dataclass(frozen=True)
class Opened:
    session: str  # the cookie's value
    email: str


class PortalService:
    def __init__(self, rpc: Rpc, reads: UserReads, keys: PortalKeys, *, base_url: str) -> None:
        self._rpc = rpc
        self._reads = reads
        self._keys = keys
        self._base_url = base_url.rstrip("/")

    def link(self, sign_in_id: str, expires: int) -> str:
        return f"{self._base_url}/portal?token={self._keys.sign_in_token(sign_in_id, expires)}"

    def request_sign_in(self, email: str, source_ip: str | None) -> int:
        """Record the request and, for a client's address within the limits, queue the e-mail with the link.
        Returns 0, or the seconds until a limit that was hit lets the caller try again; nothing says whether the
        address is a client's."""
        address = email.strip().lower()
        if not is_address(address):
            address = "invalid@invalid"  # recorded and counted like any other, sent to no one
        started = self._rpc.rpc(
            "start_portal_sign_in",
            p_email=address,
            p_source_ip=source_ip,
            p_ttl_seconds=SIGN_IN_SECONDS,
            p_per_address=PER_ADDRESS,
            p_per_source=PER_SOURCE,
        )
        return int(started.get("retry_after") or 0) if started["limited"] else 0

    def link_for(self, email: str) -> str | None:
        """A sign-in link made by the studio (`atelier portal link`), not e-mailed, and counted against no client's
        limit; None for an address that is not a client's."""
        started = self._rpc.rpc(
            "start_portal_sign_in",
            p_email=email,
            p_source_ip=None,
            p_ttl_seconds=SIGN_IN_SECONDS,
            p_per_address=PER_ADDRESS,
            p_per_source=PER_SOURCE,
            p_send=False,
        )
        return self.link(str(started["id"]), int(started["expires"])) if started["known"] else None

    def open(self, token: str | None, source_ip: str | None = None) -> Opened | None:
        """A link's sign-in, used now (once): a new session, or None (forged, expired or used). The client's
        `last_login` moves, and a `login` audit row keeps the address it came from."""
        sign_in_id = self._keys.read_sign_in(token)
        if sign_in_id is None:
            return None
        opened = self._rpc.rpc(
            "open_portal_session", p_sign_in_id=sign_in_id, p_ttl_seconds=SESSION_SECONDS, p_ip=source_ip
        )
        if not opened:
            return None
        return Opened(self._keys.session_token(str(opened["session_id"])), str(opened["email"]))

    def session(self, cookie: str | None) -> Claims | None:
        """The signed-in client, while their session is in force (not expired, signed out or revoked)."""
        session_id = self._keys.read_session(cookie)
        if session_id is None:
            return None
        found = self._rpc.rpc("portal_session", p_id=session_id)
        if not found:
            return None
        business = named()  # the session was found in this business's rows: its claims name it
        return Claims(
            str(found["user_id"]), str(found["email"]), int(found["expires"]), business.id if business else None
        )

    def sign_out(self, cookie: str | None) -> bool:
        """Ends the cookie's session on the server: a copy of the cookie opens nothing after this."""
        session_id = self._keys.read_session(cookie)
        return bool(session_id and self._rpc.rpc("revoke_portal_session", p_id=session_id))

    def revoke(self, email: str) -> dict[str, Any]:
        """Ends every session of a client and every sign-in link they have not used (`atelier portal revoke`)."""
        return dict(self._rpc.rpc("revoke_portal_access", p_email=email))

    def _as(self, claims: Claims) -> Rpc:
        return self._reads(self._keys.database_token(claims), claims.jwt_claims())

    def projects(self, claims: Claims) -> list[dict[str, Any]]:
        return list(self._as(claims).rpc("portal_projects") or [])

    def open_quotes(self, claims: Claims) -> list[dict[str, Any]]:
        """The client's quotes still to be paid (new work for a returning client), for the address signed in."""
        return list(self._rpc.rpc("portal_open_quotes", p_email=claims.email) or [])

    def project(self, claims: Claims, project_id: str) -> dict[str, Any] | None:
        """One of the client's projects, or None: not theirs, or no such id (the same answer, so ids cannot be
        probed)."""
        if not _UUID.fullmatch(project_id):
            return None
        found = self._as(claims).rpc("portal_project", p_id=project_id)
        return dict(found) if found else None

    def form_token(self, cookie: str | None) -> str | None:
        return self._keys.form_token(cookie)

    def form_token_ok(self, cookie: str | None, token: str | None) -> bool:
        return self._keys.form_token_ok(cookie, token)

    def post_message(
        self, claims: Claims, project_id: str, body: str, attachment: dict[str, Any] | None, message_id: str
    ) -> dict[str, Any]:
        """The client's message, written as the client: row-level security refuses another's project
        (`PermissionDenied`). Answers {"limited": bool, "retry_after"?: seconds, "id"?}."""
        return dict(
            self._as(claims).rpc(
                "portal_post_message", p_project_id=project_id, p_body=body, p_attachment=attachment, p_id=message_id
            )
        )

    def decide(self, claims: Claims, deliverable_id: str, decision: str, note: str) -> dict[str, Any]:
        """The client's decision on one version of a deliverable: {"outcome": recorded|already|superseded|not_asked|
        not_found, "project_id"?}."""
        if not _UUID.fullmatch(deliverable_id):
            return {"outcome": "not_found"}
        return dict(
            self._as(claims).rpc("portal_decide", p_deliverable_id=deliverable_id, p_decision=decision, p_note=note)
        )

    def answer(self, claims: Claims, project_id: str, score: int, comment: str) -> dict[str, Any]:
        """The client's answer to the question at delivery: {"outcome": recorded|already}."""
        return dict(
            self._as(claims).rpc("portal_answer_nps", p_project_id=project_id, p_score=score, p_comment=comment)
        )

    def attachment(self, claims: Claims, message_id: str) -> dict[str, Any] | None:
        """A message's file, for the client whose project it is: {"key", "name", "type"}, or None."""
        if not _UUID.fullmatch(message_id):
            return None
        found = self._as(claims).rpc("portal_attachment", p_message_id=message_id)
        return dict(found) if found else None

    def document(self, claims: Claims, number: str) -> dict[str, Any] | None:
        """A receipt or invoice of the client's own (read under their RLS), or None."""
        if not _DOCUMENT.fullmatch(number):
            return None
        found = self._as(claims).rpc("money_document", p_number=number)
        return dict(found) if found else None

    def deliverable(self, claims: Claims, deliverable_id: str) -> dict[str, Any] | None:
        """A file the client may download now: theirs, not deleted, of a project neither refunded nor deleted."""
        if not _UUID.fullmatch(deliverable_id):
            return None
        found = self._as(claims).rpc("portal_deliverable", p_id=deliverable_id)
        return dict(found) if found else None
