"""Stripe's side of instalments: an invoice per instalment, sent to the client who paid the deposit.

`stripe` is imported only here, when an invoice is made. Every call carries an idempotency key of the instalment, so
a run cut short and run again finds what the first made instead of making a second.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from atelier.kernel.rpc import Rpc
from atelier.kernel.settings import IntakeSettings, secret
from atelier.payments.invoices import Instalment, InvoiceDesk, InvoiceUnavailable, Invoicing, NoInvoicing, SentInvoice
from atelier.payments.stripe_api import stripe_client


class StripeInvoicing:
    def __init__(self, api_key: str, *, studio: str, api_base: str | None = None) -> None:
        self._api_key, self._api_base, self._studio = api_key, api_base, studio
        self._client: Any = None

    def _stripe(self) -> Any:
        if self._client is None:
            self._client = stripe_client(self._api_key, self._api_base)
        return self._client

    def send_instalment(self, item: Instalment, *, days_until_due: int, created: Callable[[str], None]) -> SentInvoice:
        import stripe

        key = f"atelier-instalment-{item.id}"
        try:
            v1 = self._stripe().v1
            if item.stripe_invoice_id:
                invoice = v1.invoices.retrieve(item.stripe_invoice_id)
            else:
                customer = item.customer_id or self._customer(item, key)
                invoice = v1.invoices.create(
                    params={
                        "customer": customer,
                        "collection_method": "send_invoice",
                        "days_until_due": days_until_due,
                        "auto_advance": False,
                        "pending_invoice_items_behavior": "exclude",
                        "currency": item.currency,
                        "description": f"{self._studio}: {item.description()}",
                        "custom_fields": [{"name": "Invoice", "value": item.number}],
                        "metadata": {
                            "atelier_schedule_id": item.id,
                            "atelier_project_id": item.project_id,
                            "atelier_number": item.number,
                        },
                    },
                    options={"idempotency_key": f"{key}-invoice"},
                )
                created(str(invoice.id))
            if invoice.status == "draft":
                if not invoice.amount_due:
                    v1.invoice_items.create(
                        params={
                            "customer": invoice.customer,
                            "invoice": invoice.id,
                            "amount": item.amount,
                            "currency": item.currency,
                            "description": item.description(),
                        },
                        options={"idempotency_key": f"{key}-item"},
                    )
                invoice = v1.invoices.finalize_invoice(invoice.id, options={"idempotency_key": f"{key}-finalize"})
            if invoice.status == "open":
                invoice = v1.invoices.send_invoice(invoice.id, options={"idempotency_key": f"{key}-send"})
        except stripe.StripeError as exc:
            raise InvoiceUnavailable(f"Stripe refused or failed the invoice: {type(exc).__name__}") from exc
        due = getattr(invoice, "due_date", None)
        return SentInvoice(
            invoice_id=str(invoice.id),
            hosted_url=getattr(invoice, "hosted_invoice_url", None),
            due_date=None if not due else datetime.fromtimestamp(int(due), UTC).date(),
        )

    def _customer(self, item: Instalment, key: str) -> str:
        """A customer for a client whose deposit named none (a payment made outside Checkout)."""
        params: dict[str, Any] = {"email": item.email, "metadata": {"atelier_project_id": item.project_id}}
        if item.client_name:
            params["name"] = item.client_name
        customer = self._stripe().v1.customers.create(params=params, options={"idempotency_key": f"{key}-customer"})
        return str(customer.id)


def invoice_desk_from_settings(rpc: Rpc, settings: IntakeSettings, *, studio: str) -> InvoiceDesk:
    """Instalments' invoices through the business's Stripe account, due in ATELIER_INVOICE_DAYS."""
    invoicing: Invoicing = NoInvoicing()
    if settings.stripe_configured:
        key = secret(settings.stripe_secret_key, settings.stripe_secret_key_secret, "STRIPE_SECRET_KEY")
        invoicing = StripeInvoicing(key, studio=studio, api_base=settings.stripe_api_base)
    return InvoiceDesk(rpc, invoicing, days_until_due=settings.atelier_invoice_days)
