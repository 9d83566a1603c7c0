"""What the client's quote link shows (`GET /quote/{token}`): the offer and its payment link while it is open; a
button for a fresh link, once, when its payment page has closed; and a plain word when it was replaced, withdrawn or
paid. It never shows the intake form again: the client has told us about the project already."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from html import escape
from typing import Any

from atelier.intake.checkout import CheckoutUnavailable
from atelier.kernel.format import money
from atelier.kernel.page import Page
from atelier.payments.quotes import QuoteDesk

REFRESH_SECONDS = 5


def _offer(quote: Mapping[str, Any]) -> str:
    features = "".join(f"<li>{escape(str(f))}</li>" for f in quote.get("features") or [])
    note = str(quote.get("note") or "").strip()
    said = "".join(f"<p>{escape(line)}</p>" for line in note.splitlines() if line.strip())
    return (
        f'<p class="amount"><strong>{escape(str(quote.get("tier_name") or ""))}</strong> for '
        f"<strong>{escape(money(quote.get('amount'), quote.get('currency')))}</strong></p>"
        + (f"<h2>What it includes</h2><ul>{features}</ul>" if features else "")
        + (f"<h2>A note from the team</h2>{said}" if said else "")
    )


def _until(quote: Mapping[str, Any]) -> str:
    """When the payment page closes, as a person reads it ("4 Dec 2026 at 17:35 UTC")."""
    try:
        moment = datetime.fromisoformat(str(quote.get("expires_at")))
    except ValueError:
        return "a day from when we sent it"
    return f"{moment.astimezone(UTC):%-d %b %Y at %H:%M} UTC"


def render_quote(quote: Mapping[str, Any], token: str, studio: str) -> tuple[int, Page]:
    """(status, page) for what `quote_page` found."""
    state = quote.get("state")
    name = escape(str(quote.get("first_name") or "")).strip()
    hello = f", {name}" if name else ""
    if state == "opening":
        body = (
            f'<h1>Your quote{hello}</h1><p role="status">Your payment page is being prepared. This page refreshes '
            f"itself every {REFRESH_SECONDS} seconds.</p>{_offer(quote)}"
        )
        head = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
        return 200, Page("Your quote", body, head=head)
    if state == "sent" and quote.get("checkout_url"):
        amount = escape(money(quote.get("amount"), quote.get("currency")))
        body = (
            f"<h1>Your quote{hello}</h1>{_offer(quote)}"
            f'<p><a class="button" id="pay" href="{escape(str(quote["checkout_url"]))}">Accept and pay {amount}</a></p>'
            f'<p class="muted">The payment page is open until {escape(_until(quote))}. If it closes first, this link '
            "offers you a fresh one. Questions first? Reply to our e-mail.</p>"
        )
        return 200, Page("Your quote", body)
    if state == "expired":
        body = (
            f"<h1>Your quote{hello}</h1>{_offer(quote)}"
            '<p role="status">The payment page for this quote has closed. The quote still stands: ask for a fresh '
            "payment link, for the same amount.</p>"
            f'<form method="post" action="/quote/{escape(token)}/renew"><button type="submit" id="renew">Get a fresh '
            "payment link</button></form>"
        )
        return 200, Page("Your quote", body)
    if state == "superseded":
        newer = quote.get("newer_token")
        link = (
            f'<p><a class="button" href="/quote/{escape(str(newer))}">See the new quote</a></p>'
            if newer
            else "<p>Please use the link in our latest e-mail.</p>"
        )
        body = f"<h1>This quote has been replaced</h1><p>We have sent you a newer quote since.</p>{link}"
        return 410, Page("Quote replaced", body)
    if state == "paid" or quote.get("paid"):
        body = (
            f"<h1>Thank you{hello}</h1><p>This quote is paid, and your project has begun. Your receipt and "
            'kickoff details are in your inbox.</p><p><a class="button" href="/portal">See your project</a></p>'
        )
        return 200, Page("Quote paid", body)
    closed = "declined" if quote.get("lead_closed") else "withdrawn"
    body = (
        f"<h1>This quote is no longer open</h1><p>The studio has {closed} it, so its link no longer takes a payment."
        f" If you think this is a mistake, reply to our last e-mail from {escape(studio)}.</p>"
    )
    return 410, Page("Quote closed", body)


def missing_page(problem: Any) -> Page | None:
    """The page a browser gets for a link no quote has (a `web.http.Problem` of 404); JSON for anything else."""
    if getattr(problem, "status", None) != 404:
        return None
    return Page("Not found", f"<h1>We could not find that</h1><p>{escape(str(problem.message))}</p>")


def quote_answer(desk: QuoteDesk, token: str, studio: str, again: bool = False) -> tuple[int, Page, str]:
    """(status, page, metric) for `GET /quote/{token}`; UnknownRecord (404) for a link no quote has. `again`: a fresh
    payment page was asked for and Stripe could not open one."""
    found = desk.page(token)
    status, page = render_quote(found, token, studio)
    if again and found.get("state") == "expired":
        said = (
            '<p class="error" role="alert">We could not open a payment page just now. Please try again in a minute.</p>'
        )
        page = Page(page.title, said + page.body, head=page.head)
    return status, page, f"QuotePage{str(found.get('state')).title()}"


def renew_answer(desk: QuoteDesk, token: str) -> tuple[str, str]:
    """(where to send the client, metric) for `POST /quote/{token}/renew`: the fresh payment page, or back to the
    quote's page when it cannot be paid (replaced, withdrawn, paid)."""
    try:
        url = desk.renew(token)
    except CheckoutUnavailable:  # Stripe is down: the quote still stands, and the page says to try again
        return f"/quote/{token}?again=1", "QuoteRenewUnavailable"
    return (url, "QuoteRenewed") if url else (f"/quote/{token}", "QuoteNotRenewed")
