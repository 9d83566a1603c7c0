"""Quotes: the team's price for a reviewed lead, made payable. A quote is a row first (`issue_quote`, in the same
transaction as its e-mail); this desk then opens its Checkout session with the quoted amount, expires the session of
a quote that no longer stands, and makes a fresh session, once, for a quote whose session ran out.

Stripe being down loses nothing: a quote without a session waits (its e-mail with it) and the next run opens it.
Every session is created under an idempotency key of the quote and its renewal, so no run opens two.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from atelier.intake.checkout import CheckoutLink, CheckoutUnavailable
from atelier.kernel.catalogue import CatalogueReader
from atelier.kernel.errors import UnknownRecord
from atelier.kernel.rpc import Rpc

BATCH = 25
TOKEN_CHARS = 64
DECISION_MAIL = ("quote_sent", "lead_declined")  # the e-mails a team's decision sends


@dataclass(frozen=True)
class QuoteOffer:
    """What a quote's Checkout session is made from."""

    quote_id: str
    lead_id: str
    email: str
    tier: int
    tier_name: str
    amount: int  # cents
    currency: str
    token: str  # the client's link to the quote's page (the session's way back when cancelled)
    renewal: int  # 0 for the first session; n for the n-th fresh one
    due_now: int | None = None  # what the session takes: the deposit, where the tier's schedule has instalments

    @property
    def charged(self) -> int:
        return self.amount if self.due_now is None else self.due_now


class MailRun(Protocol):
    sent: int
    failed: int


class SendsMail(Protocol):
    """The mail outbox, as far as a decision needs it (`mail.outbox.MailOutbox`)."""

    def send_due(
        self, *, deadline: float | None = None, batch: int = ..., templates: tuple[str, ...] | None = None
    ) -> MailRun: ...


class QuoteCheckout(Protocol):
    def open_quote(self, offer: QuoteOffer, *, site: str, expires_at: int) -> CheckoutLink:
        """A Checkout session for the quoted amount; raises CheckoutUnavailable when Stripe cannot open one."""
        ...

    def expire(self, session_id: str) -> bool:
        """Expire an open session (True once it can no longer pay); raises CheckoutUnavailable to try again later."""
        ...


class NoQuoteCheckout:
    """Stripe is not configured: quotes wait, with their e-mails, until it is."""

    def open_quote(self, offer: QuoteOffer, *, site: str, expires_at: int) -> CheckoutLink:
        raise CheckoutUnavailable("Stripe is not configured (STRIPE_SECRET_KEY is unset): the quote waits")

    def expire(self, session_id: str) -> bool:
        raise CheckoutUnavailable("Stripe is not configured (STRIPE_SECRET_KEY is unset)")


@dataclass
class QuoteReport:
    opened: int = 0
    closed: int = 0
    waiting: int = 0  # quotes Stripe could not open now: the next run tries again

    def counts(self) -> dict[str, int]:
        return {"quotes_opened": self.opened, "quote_sessions_closed": self.closed, "quotes_waiting": self.waiting}


def valid_token(token: str | None) -> bool:
    return bool(token) and len(str(token)) == TOKEN_CHARS and all(c in "0123456789abcdef" for c in str(token))


class QuoteDesk:
    def __init__(self, rpc: Rpc, checkout: QuoteCheckout, *, site: str, link_hours: int = 24) -> None:
        self._rpc = rpc
        self._checkout = checkout
        self._site = site.rstrip("/")
        self._link_hours = link_hours
        self._catalogue = CatalogueReader(rpc)

    def _due(self, offer: QuoteOffer) -> QuoteOffer:
        """The offer with what booking takes of it: the tier's deposit share of the quote, or all of it."""
        tier = self._catalogue().tiers.get(offer.tier)
        due = offer.amount if tier is None else tier.due_at_booking(offer.amount)
        return replace(offer, due_now=due if due != offer.amount else None)

    def _expiry(self) -> int:
        return int(time.time()) + self._link_hours * 3600

    def run(self, *, deadline: float | None = None) -> QuoteReport:
        """Open the sessions of new quotes, then expire those of quotes that no longer stand."""
        report = QuoteReport()
        for row in self._rpc.rpc("quotes_to_open", p_limit=BATCH) or []:
            if deadline is not None and time.monotonic() >= deadline:
                break
            try:
                self._open(_offer(row))
            except CheckoutUnavailable:
                report.waiting += 1
                break  # Stripe is down or refusing: the rest wait for the next run, in order
            report.opened += 1
        for row in self._rpc.rpc("quote_sessions_to_close", p_limit=BATCH) or []:
            if deadline is not None and time.monotonic() >= deadline:
                break
            try:
                self._checkout.expire(str(row["checkout_session_id"]))
            except CheckoutUnavailable:
                break
            self._rpc.rpc("quote_session_closed", p_quote_id=row["id"])
            report.closed += 1
        return report

    def settle(self, outbox: Callable[[], SendsMail | None], *, deadline: float | None = None) -> dict[str, int]:
        """What follows decisions: sessions opened and closed, then the decisions' e-mails sent (quotes and
        declines), now rather than at the mail's next run. `outbox` makes the outbox (None where mail is off: the
        e-mails then wait for `client_mail`)."""
        counts = self.run(deadline=deadline).counts()
        sender = outbox()
        if sender is not None:
            sent = sender.send_due(deadline=deadline, templates=DECISION_MAIL)
            counts |= {"decision_mail_sent": sent.sent, "decision_mail_failed": sent.failed}
        return counts

    def _open(self, offer: QuoteOffer) -> None:
        expires = self._expiry()
        link = self._checkout.open_quote(self._due(offer), site=self._site, expires_at=expires)
        self._rpc.rpc(
            "quote_session_opened",
            p_quote_id=offer.quote_id,
            p_session_id=link.session_id,
            p_url=link.url,
            p_expires_at=_iso(expires),
        )

    def page(self, token: str) -> dict[str, Any]:
        """What the client's link shows; UnknownRecord for a token no quote has."""
        found = self._rpc.rpc("quote_page", p_token=token) if valid_token(token) else None
        if not found:
            raise UnknownRecord("There is no quote at this link: check the link in your e-mail, or write to us.")
        return dict(found)

    def renew(self, token: str) -> str | None:
        """A fresh payment link for an expired quote, made once per expiry: the checkout URL to send the client
        to (the open one, when the quote is open already), or None when the quote cannot be paid."""
        quote = self.page(token)
        if quote.get("checkout_url"):
            return str(quote["checkout_url"])
        if quote.get("state") != "expired":
            return None
        renewal = int(quote.get("renewals") or 0) + 1
        offer = QuoteOffer(
            quote_id=str(quote["quote_id"]),
            lead_id=str(quote["lead_id"]),
            email=str(quote["email"]),
            tier=int(quote["tier"]),
            tier_name=str(quote["tier_name"]),
            amount=int(quote["amount"]),
            currency=str(quote["currency"]),
            token=token,
            renewal=renewal,
        )
        expires = self._expiry()
        link = self._checkout.open_quote(self._due(offer), site=self._site, expires_at=expires)
        renewed = self._rpc.rpc(
            "renew_quote",
            p_token=token,
            p_renewal=renewal,
            p_session_id=link.session_id,
            p_url=link.url,
            p_expires_at=_iso(expires),
        )
        url = renewed.get("checkout_url")
        return str(url) if url else None


def _offer(row: dict[str, Any]) -> QuoteOffer:
    return QuoteOffer(
        quote_id=str(row["id"]),
        lead_id=str(row["lead_id"]),
        email=str(row["email"]),
        tier=int(row["tier"]),
        tier_name=str(row["tier_name"]),
        amount=int(row["amount"]),
        currency=str(row["currency"]),
        token=str(row["token"]),
        renewal=int(row.get("renewals") or 0),
    )


def _iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
