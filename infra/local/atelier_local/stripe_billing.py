"""The stand-in's invoices and disputes: the part of Stripe's API the instalments use, a hosted invoice page (its Pay
button sends `invoice.paid`, its failing card `invoice.payment_failed`), and a control route that opens a dispute
against a payment (`charge.dispute.created`, then `…updated` and `…closed` as it is moved on).

Routes, under the stand-in's prefix (`/_local/stripe`): `POST /v1/customers`, `POST /v1/invoices`,
`POST /v1/invoiceitems`, `GET /v1/invoices[/{id}]`, `POST /v1/invoices/{id}/finalize|send|void|mark_uncollectible`,
`GET /v1/disputes`, `GET /v1/charges`, `GET /v1/checkout/sessions`; the page `GET /_local/invoice/{id}` with
`POST …/pay` and `POST …/fail`; and `POST /_local/stripe/_control/disputes` (`{"payment_intent": "pi_…"}`, optional
`amount`, `reason`) and `POST /_local/stripe/_control/disputes/{id}` (`{"status": "under_review|won|lost"}`).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from atelier_local.stripe_standin import StripeStandIn

INVOICE_PAGE = "/_local/invoice/"
DISPUTE_REASONS = ("fraudulent", "product_not_received", "product_unacceptable", "duplicate", "general")
CLOSED = ("won", "lost", "warning_closed")


def _id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


@dataclass
class StandInBilling:
    stand_in: StripeStandIn
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    disputes: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (account, idempotency key) -> answer
    days_until_due: dict[str, int] = field(default_factory=dict)
    numbers: int = 0

    # -- the API ----------------------------------------------------------------------------------------------

    def api(
        self, method: str, path: str, params: dict[str, Any], query: dict[str, str], key: str, account: str
    ) -> tuple[int, dict[str, Any]] | None:
        """(status, answer) for a billing call, or None when the path is not billing's."""
        if key and (account, key) in self.by_key:
            return 200, self.by_key[(account, key)]
        answer = self._route(method, path, params, query, account)
        if answer is not None and key and answer[0] == 200:
            self.by_key[(account, key)] = answer[1]
        return answer

    def _route(
        self, method: str, path: str, params: dict[str, Any], query: dict[str, str], account: str
    ) -> tuple[int, dict[str, Any]] | None:
        parts = path.strip("/").split("/")  # ["v1", "invoices", id, action]
        noun = parts[1] if len(parts) > 1 else ""
        if method == "POST" and parts == ["v1", "customers"]:
            return 200, self._customer(params, account)
        if method == "POST" and parts == ["v1", "invoices"]:
            return self._new_invoice(params, account)
        if method == "POST" and parts == ["v1", "invoiceitems"]:
            return self._item(params, account)
        if noun == "invoices" and len(parts) >= 3:
            invoice = self.invoices.get(parts[2])
            if invoice is None or self.stand_in._owner.get(parts[2]) != account:
                return 404, _error(f"No such invoice: '{parts[2]}'", "resource_missing")
            if method == "GET" and len(parts) == 3:
                return 200, invoice
            if method == "POST" and len(parts) == 4:
                return self._act(invoice, parts[3])
        if method == "GET" and parts in (["v1", "invoices"], ["v1", "disputes"], ["v1", "charges"]):
            return 200, self._list(noun, query, account)
        if method == "GET" and parts == ["v1", "checkout", "sessions"]:
            return 200, self._list("checkout/sessions", query, account)
        return None

    def _customer(self, params: dict[str, Any], account: str) -> dict[str, Any]:
        customer: dict[str, Any] = {
            "id": _id("cus"),
            "object": "customer",
            "email": params.get("email"),
            "name": params.get("name"),
            "metadata": params.get("metadata") or {},
            "created": int(time.time()),
            "livemode": False,
        }
        self.customers[customer["id"]] = customer
        self.stand_in._owner[customer["id"]] = account
        return customer

    def _new_invoice(self, params: dict[str, Any], account: str) -> tuple[int, dict[str, Any]]:
        if not params.get("customer"):
            return 400, _error("Missing required param: customer.", "parameter_missing")
        invoice_id = _id("in")
        invoice = {
            "id": invoice_id,
            "object": "invoice",
            "status": "draft",
            "customer": params["customer"],
            "currency": params.get("currency") or "usd",
            "collection_method": params.get("collection_method") or "charge_automatically",
            "auto_advance": str(params.get("auto_advance")) == "true",
            "description": params.get("description"),
            "custom_fields": list((params.get("custom_fields") or {}).values()) or None,
            "metadata": params.get("metadata") or {},
            "amount_due": 0,
            "amount_paid": 0,
            "amount_remaining": 0,
            "total": 0,
            "subtotal": 0,
            "attempt_count": 0,
            "attempted": False,
            "number": None,
            "hosted_invoice_url": None,
            "invoice_pdf": None,
            "due_date": None,
            "status_transitions": {"finalized_at": None, "paid_at": None, "voided_at": None},
            "lines": {"object": "list", "data": [], "has_more": False, "url": f"/v1/invoices/{invoice_id}/lines"},
            "created": int(time.time()),
            "livemode": False,
        }
        self.invoices[invoice_id] = invoice
        self.days_until_due[invoice_id] = int(params.get("days_until_due") or 0)  # not an invoice's field in Stripe
        self.stand_in._owner[invoice_id] = account
        return 200, invoice

    def _item(self, params: dict[str, Any], account: str) -> tuple[int, dict[str, Any]]:
        invoice = self.invoices.get(str(params.get("invoice")))
        if invoice is None or self.stand_in._owner.get(invoice["id"]) != account:
            return 400, _error("the stand-in adds items to a draft invoice only: give `invoice`", "parameter_missing")
        if invoice["status"] != "draft":
            return 400, _error("You can only add invoice items to draft invoices.", "invoice_not_editable")
        amount = int(params.get("amount") or 0)
        line = {
            "id": _id("il"),
            "object": "line_item",
            "amount": amount,
            "currency": invoice["currency"],
            "description": params.get("description"),
        }
        invoice["lines"]["data"].append(line)
        for key in ("amount_due", "amount_remaining", "total", "subtotal"):
            invoice[key] += amount
        return 200, {"id": _id("ii"), "object": "invoiceitem", "invoice": invoice["id"], **line}

    def _act(self, invoice: dict[str, Any], action: str) -> tuple[int, dict[str, Any]]:
        now = int(time.time())
        if action == "finalize" and invoice["status"] == "draft":
            self.numbers += 1
            invoice.update(
                status="open",
                number=f"STANDIN-{self.numbers:04d}",
                hosted_invoice_url=f"{self.stand_in.base_url}{INVOICE_PAGE}{invoice['id']}",
                due_date=now + 86400 * self.days_until_due.get(invoice["id"], 0),
            )
            invoice["status_transitions"]["finalized_at"] = now
            self._send(invoice, "invoice.finalized")
        elif action == "send" and invoice["status"] == "open":
            self._send(invoice, "invoice.sent")
        elif action == "void" and invoice["status"] in ("open", "uncollectible"):
            invoice.update(status="void")
            invoice["status_transitions"]["voided_at"] = now
            self._send(invoice, "invoice.voided")
        elif action == "mark_uncollectible" and invoice["status"] == "open":
            invoice.update(status="uncollectible")
            self._send(invoice, "invoice.marked_uncollectible")
        elif action not in ("finalize", "send", "void", "mark_uncollectible"):
            return 404, _error(f"the stand-in has no invoice action {action}", "resource_missing")
        elif not (action == "send" and invoice["status"] == "paid"):
            return 400, _error(f"This invoice is {invoice['status']}: it cannot be {action}ed.", "invoice_not_open")
        return 200, invoice

    def _list(self, noun: str, query: dict[str, str], account: str) -> dict[str, Any]:
        """One account's objects, newest first, `created[gte]`, `limit` and `starting_after`, as Stripe pages."""
        pool = {
            "invoices": self.invoices.values(),
            "disputes": self.disputes.values(),
            "charges": self._charges(),
            "checkout/sessions": self.stand_in.sessions.values(),
        }[noun]
        since = int(query.get("created[gte]", "0") or 0)
        mine = [o for o in pool if self.stand_in._owner.get(str(o["id"]), account) == account and o["created"] >= since]
        mine.sort(key=lambda o: (o["created"], o["id"]), reverse=True)
        after = query.get("starting_after")
        if after:
            ids = [o["id"] for o in mine]
            mine = mine[ids.index(after) + 1 :] if after in ids else []
        limit = max(1, min(100, int(query.get("limit", "10") or 10)))
        return {"object": "list", "url": f"/v1/{noun}", "has_more": len(mine) > limit, "data": mine[:limit]}

    def _charges(self) -> list[dict[str, Any]]:
        """The charges behind paid sessions, as `GET /v1/charges` lists them."""
        return [
            {
                "id": "ch_" + str(s["payment_intent"]).removeprefix("pi_"),
                "object": "charge",
                "amount": s["amount_total"],
                "amount_refunded": 0,
                "currency": s["currency"],
                "payment_intent": s["payment_intent"],
                "status": "succeeded",
                "paid": True,
                "refunded": False,
                "created": s["created"],
                "livemode": False,
            }
            for s in self.stand_in.sessions.values()
            if s.get("payment_intent") and s["payment_status"] == "paid"
        ]

    # -- the hosted invoice page ----------------------------------------------------------------------------------

    def pay(self, invoice_id: str, *, succeeds: bool = True) -> dict[str, Any] | None:
        """The client pays on the hosted page: `invoice.paid`, or with a failing card `invoice.payment_failed` (the
        invoice stays open). Paying a paid invoice sends its event again, as Stripe's retries do."""
        invoice = self.invoices.get(invoice_id)
        if invoice is None or invoice["status"] not in ("open", "uncollectible", "paid"):
            return None
        if not succeeds:
            invoice["attempt_count"] += 1
            invoice["attempted"] = True
            self._send(invoice, "invoice.payment_failed")
            return invoice
        if invoice["status"] != "paid":
            invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0, attempted=True)
            invoice["attempt_count"] += 1
            invoice["status_transitions"]["paid_at"] = int(time.time())
            self._send(invoice, "invoice.paid")
            return invoice
        event = next((e for e in reversed(self.stand_in.events) if e["data"]["object"]["id"] == invoice_id), None)
        if event is not None:
            self.stand_in.deliver(event, invoice_id)
        return invoice

    def page(self, request: BaseHTTPRequestHandler, method: str, path: str) -> bool:
        if not path.startswith(INVOICE_PAGE):
            return False
        invoice_id, _, action = path.removeprefix(INVOICE_PAGE).partition("/")
        invoice = self.invoices.get(invoice_id)
        if invoice is None or invoice["status"] == "draft":
            self.stand_in._html(request, 404, "<h1>No such invoice</h1>")
            return True
        error = ""
        if method == "POST" and action in ("pay", "fail"):
            if invoice["status"] in ("void",):
                error = "This invoice was voided: it can no longer be paid."
            else:
                self.pay(invoice_id, succeeds=action == "pay")
                error = "" if action == "pay" else "Your card was declined. The invoice is still due."
        elif method != "GET" or action:
            self.stand_in._html(request, 404, "<h1>No such page</h1>")
            return True
        self.stand_in._html(request, 402 if error else 200, _invoice_page(invoice, error))
        return True

    # -- disputes ---------------------------------------------------------------------------------------------

    def control(self, request: BaseHTTPRequestHandler, method: str, path: str, body: bytes) -> bool:
        prefix = "/_local/stripe/_control/disputes"
        if not path.startswith(prefix) or method != "POST":
            return False
        try:
            given = json.loads(body or b"{}")
            assert isinstance(given, dict)
        except (ValueError, AssertionError):
            self.stand_in._json(request, 400, _error("send a JSON object", "parameter_invalid"))
            return True
        dispute_id = path.removeprefix(prefix).strip("/")
        status, answer = self.move(dispute_id, given) if dispute_id else self.open_dispute(given)
        self.stand_in._json(request, status, answer)
        return True

    def open_dispute(self, given: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A dispute against the payment `given["payment_intent"]` names: `charge.dispute.created`, signed."""
        intent = str(given.get("payment_intent") or "")
        session = next((s for s in self.stand_in.sessions.values() if s.get("payment_intent") == intent), None)
        if session is None:
            return 404, _error(f"No such payment_intent: '{intent}'", "resource_missing")
        reason = str(given.get("reason") or "product_not_received")
        if reason not in DISPUTE_REASONS:
            return 400, _error(f"reason is one of {', '.join(DISPUTE_REASONS)}", "parameter_invalid")
        amount = int(given.get("amount") or session["amount_total"])
        now = int(time.time())
        dispute = {
            "id": _id("dp"),
            "object": "dispute",
            "amount": amount,
            "currency": session["currency"],
            "charge": "ch_" + intent.removeprefix("pi_"),
            "payment_intent": intent,
            "reason": reason,
            "status": "needs_response",
            "is_charge_refundable": False,
            "evidence_details": {
                "due_by": now + 7 * 86400,
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "metadata": {},
            "created": now,
            "livemode": False,
        }
        self.disputes[dispute["id"]] = dispute
        self.stand_in._owner[dispute["id"]] = self.stand_in._owner.get(session["id"], "")
        self._send(dispute, "charge.dispute.created")
        return 200, dispute

    def move(self, dispute_id: str, given: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        dispute = self.disputes.get(dispute_id)
        if dispute is None:
            return 404, _error(f"No such dispute: '{dispute_id}'", "resource_missing")
        status = str(given.get("status") or "")
        if status not in ("under_review", *CLOSED):
            return 400, _error("status is under_review, won or lost", "parameter_invalid")
        if dispute["status"] in CLOSED:
            return 400, _error(f"the dispute is {dispute['status']} already", "dispute_already_closed")
        dispute["status"] = status
        self._send(dispute, "charge.dispute.closed" if status in CLOSED else "charge.dispute.updated")
        return 200, dispute

    def _send(self, obj: dict[str, Any], kind: str) -> None:
        with self.stand_in._lock:
            event = self.stand_in._event(kind, obj)
        self.stand_in.deliver(event, str(obj["id"]))


def _error(message: str, code: str) -> dict[str, Any]:
    return {"error": {"type": "invalid_request_error", "code": code, "message": message}}


def parse_form(body: bytes) -> dict[str, Any]:
    from atelier_local.stripe_standin import _nest

    return _nest(parse_qsl(body.decode(), keep_blank_values=True))


def query_of(raw_path: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(raw_path).query))


def _invoice_page(invoice: dict[str, Any], error: str) -> str:
    amount = f"{invoice['amount_due'] / 100:,.2f} {str(invoice['currency']).upper()}"
    number = escape(str(invoice.get("number") or ""))
    ours = next((f["value"] for f in invoice.get("custom_fields") or [] if f.get("name") == "Invoice"), "")
    due = time.strftime("%d %b %Y", time.gmtime(invoice["due_date"])) if invoice.get("due_date") else "on receipt"
    alert = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    path = f"{INVOICE_PAGE}{escape(invoice['id'])}"
    if invoice["status"] == "paid":
        action = f"<h2>Paid</h2><p>Thank you: {escape(amount)} was received.</p>"
    elif invoice["status"] == "void":
        action = "<h2>Void</h2><p>This invoice was cancelled by the studio.</p>"
    else:
        action = (
            f'<form method="post" action="{path}/pay"><button type="submit">Pay {escape(amount)} with a test card'
            f'</button></form><form method="post" action="{path}/fail"><button class="plain" type="submit">Try a '
            "card that fails</button></form>"
        )
    return (
        f'<main><p class="badge">Test mode: the local stand-in for a Stripe hosted invoice</p>'
        f"<h1>Invoice {escape(str(ours or number))}</h1><p>{escape(str(invoice.get('description') or ''))}</p>"
        f"<p><strong>{escape(amount)}</strong>, due {escape(due)}</p>{alert}{action}"
        f'<p class="small">Stripe invoice {number} ({escape(invoice["id"])})</p></main>'
    )
