"""Instalments invoiced: when a milestone that carries a share of the price is done, its instalment falls due (the
database numbers it, once, in the same transaction as the milestone's change); this desk then has Stripe create,
finalize and send the invoice, in the studio's name, due in the days settings give.

Stripe being down loses nothing: the instalment waits, with backoff, and the next run sends it. Each step is made
under an idempotency key of the instalment, and the draft's id is recorded before it can be paid, so no run sends two
invoices for one instalment, and every event about the invoice finds it. Invoices past due become the team's tasks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from atelier.kernel.errors import AtelierError
from atelier.kernel.rpc import Rpc

BATCH = 25


class InvoiceUnavailable(AtelierError):
    """Stripe is not configured, refused the invoice or could not be reached: the instalment waits."""


@dataclass(frozen=True)
class Instalment:
    """What an instalment's invoice is made from (a row of `invoices_to_send`)."""

    id: str
    project_id: str
    number: str  # the studio's invoice number
    label: str  # the milestone
    share: str  # its percentage, as the catalogue wrote it
    amount: int  # cents
    currency: str
    email: str
    client_name: str | None
    project_name: str
    customer_id: str | None  # the Stripe customer who paid the deposit
    stripe_invoice_id: str | None  # a draft made by an earlier run

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Instalment:
        return cls(
            id=str(row["id"]),
            project_id=str(row["project_id"]),
            number=str(row["number"]),
            label=str(row["label"]),
            share=format(float(row["share"]), "g"),
            amount=int(row["amount"]),
            currency=str(row["currency"]),
            email=str(row["email"]),
            client_name=row.get("client_name"),
            project_name=str(row["project_name"]),
            customer_id=row.get("customer_id"),
            stripe_invoice_id=row.get("stripe_invoice_id"),
        )

    def description(self) -> str:
        return f"{self.label} ({self.share}% of the fee): {self.project_name}"


@dataclass(frozen=True)
class SentInvoice:
    invoice_id: str
    hosted_url: str | None
    due_date: date | None


class Invoicing(Protocol):
    def send_instalment(self, item: Instalment, *, days_until_due: int, created: Callable[[str], None]) -> SentInvoice:
        """Create (or find the draft of), finalize and send the instalment's invoice; `created` is told the draft's
        id before it is finalized. Raises InvoiceUnavailable when Stripe cannot do it now."""
        ...


class NoInvoicing:
    """Stripe is not configured: instalments wait, due, until it is."""

    def send_instalment(self, item: Instalment, *, days_until_due: int, created: Callable[[str], None]) -> SentInvoice:
        raise InvoiceUnavailable("Stripe is not configured (STRIPE_SECRET_KEY is unset): the instalment waits")


@dataclass
class InvoiceReport:
    sent: int = 0
    waiting: int = 0  # instalments Stripe could not invoice now: tried again with backoff
    overdue: int = 0  # invoices found past due in this run (each becomes one task)

    def counts(self) -> dict[str, int]:
        return {"invoices_sent": self.sent, "invoices_waiting": self.waiting, "invoices_overdue": self.overdue}


class InvoiceDesk:
    def __init__(self, rpc: Rpc, invoicing: Invoicing, *, days_until_due: int = 14) -> None:
        self._rpc = rpc
        self._invoicing = invoicing
        self._days = days_until_due

    def run(self, *, deadline: float | None = None) -> InvoiceReport:
        """Send the instalments that are due, then make a task of each invoice past its due date."""
        report = InvoiceReport()
        for row in self._rpc.rpc("invoices_to_send", p_limit=BATCH) or []:
            if deadline is not None and time.monotonic() >= deadline:
                break
            item = Instalment.from_row(row)

            def created(invoice_id: str, item: Instalment = item) -> None:
                self._rpc.rpc("invoice_created", p_id=item.id, p_invoice_id=invoice_id)

            try:
                sent = self._invoicing.send_instalment(item, days_until_due=self._days, created=created)
            except InvoiceUnavailable as exc:
                self._rpc.rpc("invoice_waits", p_id=item.id, p_error=str(exc)[:500])
                report.waiting += 1
                break  # Stripe is down or refusing: the rest wait for the next run, in order
            self._rpc.rpc(
                "invoice_sent",
                p_id=item.id,
                p_invoice_id=sent.invoice_id,
                p_url=sent.hosted_url,
                p_due_date=None if sent.due_date is None else sent.due_date.isoformat(),
            )
            report.sent += 1
        report.overdue = int(self._rpc.rpc("mark_overdue_invoices") or 0)
        return report
