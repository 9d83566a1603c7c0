"""Receipts and invoices as documents: one PDF per number, in the studio's name (its legal name and address where
the business has them), from what `money_document` reads. The receipt e-mail carries its receipt; the portal serves
any of the client's own (read under their row-level security). A plain PDF (`kernel.pdf`), so that the portal's
function carries no PDF library."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from atelier.kernel.format import day, money
from atelier.kernel.pdf import text_pdf
from atelier.kernel.rpc import Rpc
from atelier.mail.outbox import Enclose, Enclosure
from atelier.mail.render import Attachment

TITLES = {"receipt": "Receipt", "invoice": "Invoice"}


def filename(doc: Mapping[str, Any]) -> str:
    return f"{doc.get('kind', 'document')}-{doc.get('number')}.pdf"


def lines(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The document's facts, label and value, in the order the PDF shows them."""
    client, project = doc.get("client") or {}, doc.get("project") or {}
    cur = doc.get("currency") or "usd"
    facts = [
        ("Number", str(doc.get("number"))),
        ("Date", day(doc.get("issued_at"))),
        ("Billed to", ", ".join(str(v) for v in (client.get("name"), client.get("email")) if v)),
        ("Project", str(project.get("name") or "")),
        ("For", str(doc.get("label") or "")),
        ("Amount", money(doc.get("amount"), cur)),
    ]
    if doc.get("kind") == "invoice":
        facts.append(("Due", day(doc.get("due_date"), missing="on receipt")))
        facts.append(("State", {"paid": "paid", "open": "due", "due": "due"}.get(str(doc.get("status")), "void")))
    elif int(doc.get("refunded") or 0):
        facts.append(("Refunded", money(doc.get("refunded"), cur)))
    facts.append(("Project total", money(project.get("total"), cur)))  # what was sold: a document never changes
    if doc.get("reference"):
        facts.append(("Stripe reference", str(doc["reference"])))
    return facts


def document_pdf(doc: Mapping[str, Any]) -> bytes:
    business = doc.get("business") or {}
    studio = str(business.get("legal_name") or business.get("name") or "The studio")
    title = f"{TITLES.get(str(doc.get('kind')), 'Document')} {doc.get('number')}"
    contact = [("text", str(part)) for part in (business.get("address"), business.get("contact_email")) if part]
    facts = [("text", f"{label}: {value}") for label, value in lines(doc)]
    return text_pdf(f"{studio}: {title}", [("title", studio), *contact, ("text", ""), ("heading", title), *facts])


Keep = Callable[[str, str, Callable[[], bytes]], bytes]  # (project id, number, make) -> the document, kept once


def kept(doc: Mapping[str, Any], keep: Keep | None) -> tuple[str, bytes]:
    """(filename, PDF) of a document: as first made (`keep`: the shelf beside the deliverables), or made now."""

    def make() -> bytes:
        return document_pdf(doc)

    project = str((doc.get("project") or {}).get("id") or "")
    return filename(doc), keep(project, str(doc["number"]), make) if keep and project else make()


class ReceiptEnclosure:
    """The mail outbox's `enclose`: a `payment_receipt` carries the project's newest receipt as a PDF; any other
    template goes to `then` (the weekly report's)."""

    def __init__(self, rpc: Rpc, then: Enclose | None = None, *, keep: Keep | None = None) -> None:
        self._rpc, self._then, self._keep = rpc, then, keep

    def __call__(self, template: str, context: dict[str, Any]) -> Enclosure | None:
        if template != "payment_receipt":
            return self._then(template, context) if self._then else None
        project = context.get("project_id")
        documents = self._rpc.rpc("project_documents", p_project_id=project) if project else []
        number = next((d["number"] for d in documents or [] if d.get("kind") == "receipt"), None)
        doc = self._rpc.rpc("money_document", p_number=number) if number else None
        if not doc:
            return None  # no receipt yet (a payment still pending): the e-mail goes without one
        name, data = kept(doc, self._keep)
        return Enclosure({}, (Attachment(name, "application/pdf", data),))
