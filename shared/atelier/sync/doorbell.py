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


def project_to_push(body: bytes) -> str | None:
    """The project id an INSERT or UPDATE on `projects` names; None for any other table or type."""
    payload = json_object(body, what="a Supabase Database Webhook (type, table, record)")
    if payload.get("table") != "projects" or payload.get("type") not in HANDLED_TYPES:
        return None
    record = payload.get("record")
    try:
        return str(uuid.UUID(str(record.get("id") if isinstance(record, dict) else None)))
    except ValueError:
        raise MalformedRequest("record.id must be the project's uuid.", code="invalid_record") from None


def business_to_push(body: bytes) -> str | None:
    """The business the record belongs to (`record.business_id`); None: the default (a record from before there
    were businesses names none)."""
    record = json_object(body, what="a Supabase Database Webhook (type, table, record)").get("record")
    value = record.get("business_id") if isinstance(record, dict) else None
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise MalformedRequest("record.business_id must be the business's uuid.", code="invalid_record") from None
