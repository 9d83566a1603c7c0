"""SES's word on a message, through SNS: a permanent bounce or a complaint marks the address, so that the studio
never writes to it again. Both shapes are read: identity notifications (`notificationType`) and configuration-set
events (`eventType`). A transient bounce (a full mailbox) changes nothing: the next message may arrive."""

from __future__ import annotations

import json
from typing import Any


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
    return [(str(r["emailAddress"]).strip().lower(), reason, details)
            for r in found if isinstance(r, dict) and "@" in str(r.get("emailAddress") or "")]  # fmt: skip
