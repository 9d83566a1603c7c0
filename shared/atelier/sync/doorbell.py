"""The Supabase Database Webhook on `projects`: who may ring it, and which project's pages to push now.

It is a doorbell only: when it never rings, the scheduled sweep pushes the same rows.
"""

from __future__ import annotations

import hmac
import uuid

from atelier.kernel.body import json_object
from atelier.kernel.errors import MalformedRequest, NotAuthenticated

HANDLED_TYPES = ("INSERT", "UPDATE")


def authorize(given: str | None, webhook_secret: str) -> None:
    """The header must be exactly `Bearer <SUPABASE_WEBHOOK_SECRET>` (compared in constant time)."""
    if not hmac.compare_digest((given or "").encode(), f"Bearer {webhook_secret}".encode()):
        raise NotAuthenticated("Missing or wrong Authorization: Bearer <SUPABASE_WEBHOOK_SECRET>.")


def ring(body: bytes) -> tuple[str | None, str | None]:
    """(the project to push, its business) an INSERT or UPDATE on `projects` names: the project None for any other
    table or type; the business None for the default (a record from before there were businesses names none)."""
    payload = json_object(body, what="a Supabase Database Webhook (type, table, record)")
    if payload.get("table") != "projects" or payload.get("type") not in HANDLED_TYPES:
        return None, None
    record = payload.get("record")
    record = record if isinstance(record, dict) else {}
    return _uuid(record.get("id"), "record.id must be the project's uuid."), (
        None
        if record.get("business_id") is None
        else _uuid(record["business_id"], "record.business_id must be the business's uuid.")
    )


def _uuid(value: object, refusal: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise MalformedRequest(refusal, code="invalid_record") from None
