"""SES's word on a message, through SNS: a permanent bounce or a complaint marks the address, so that the studio
never writes to it again. Both shapes are read: identity notifications (`notificationType`) and configuration-set
events (`eventType`). A transient bounce (a full mailbox) changes nothing: the next message may arrive."""

from __future__ import annotations

import json
from email.utils import parseaddr
from typing import Any

from atelier.kernel.rpc import Rpc


def suppressions(message: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(address, reason, details) for each recipient the message names, from one SNS message body."""
    if isinstance(message, str):
        try:
            message = json.loads(message)
        except ValueError:
            return []
    if not isinstance(message, dict):
        return []
    kind = str(message.get("notificationType") or message.get("eventType") or "")
    if kind == "Bounce":
        bounce = message.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return []
        found = bounce.get("bouncedRecipients") or []
        details = {"type": bounce.get("bounceType"), "subtype": bounce.get("bounceSubType")}
        reason = "bounce"
    elif kind == "Complaint":
        found = (message.get("complaint") or {}).get("complainedRecipients") or []
        details = {"feedback": (message.get("complaint") or {}).get("complaintFeedbackType")}
        reason = "complaint"
    else:
        return []
    clean = {k: v for k, v in details.items() if not isinstance(v, str) or v.isprintable()}
    addresses = (_address(r.get("emailAddress")) for r in found if isinstance(r, dict))
    return [(address, reason, clean) for address in addresses if address]


def _address(value: Any) -> str | None:
    """The bare address of a recipient as SES names it, `ada@example.com` or `"Ada" <ada@example.com>`; None for
    anything that is not one (a NUL, which Postgres cannot store, would have SNS retry the message for ever)."""
    if not isinstance(value, str) or not value.isprintable():
        return None
    address = parseaddr(value)[1].strip().lower()
    return address if "@" in address and len(address) <= 320 else None


def suppress_reported(rpc: Rpc, records: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Marks every address SES reported in these SNS records; (reason, details) for each one marked."""
    marked = []
    for record in records:
        for address, reason, details in suppressions((record.get("Sns") or {}).get("Message")):
            rpc.rpc("suppress_email", p_email=address, p_reason=reason, p_details=details)
            marked.append((reason, details))
    return marked
