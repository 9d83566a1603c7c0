"""What a client sees when Stripe Checkout sends them back: `/thanks` (what their payment led to) and `/cancelled`.

The thanks page is keyed by the Checkout session id alone (an unguessable id that only the payer's browser was
given), shows only what that session led to, and refreshes itself while the payment's webhook is on its way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from typing import Any

from atelier.kernel.format import day, money
from atelier.kernel.page import Page
from atelier.kernel.rpc import Rpc

SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,250}")
REFRESH_SECONDS = 3


def valid_session_id(value: str | None) -> bool:
    return bool(value) and SESSION_ID.fullmatch(str(value)) is not None


def thanks_answer(rpc: Rpc, session_id: str | None, studio: str) -> tuple[int, Page, str]:
    """(status, page, metric) for `GET /thanks?session_id=...`: any session Atelier opened, the intake's or a
    quote's."""
    outcome = rpc.rpc("checkout_outcome", p_session_id=session_id) if valid_session_id(session_id) else {}
    status, page = render_thanks(outcome or {}, studio)
    return status, page, f"ThanksPage{str((outcome or {}).get('state') or 'unknown').title()}"


def render_thanks(outcome: Mapping[str, Any], studio: str) -> tuple[int, Page]:
    """(status, page) for what `checkout_outcome` found."""
    state = outcome.get("state")
    name = escape(str(outcome.get("first_name") or "")).strip()
    hello = f", {name}" if name else ""
    if state == "waiting":
        body = (
            f'<h1>Thank you{hello}</h1><p role="status">We are confirming your payment with Stripe. This '
            f"page refreshes itself every {REFRESH_SECONDS} seconds; it usually takes a few.</p>"
            '<p class="muted">You can close it: we will e-mail you as soon as the payment is confirmed.</p>'
        )
        return 200, Page(
            "Confirming your payment", body, head=f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
        )
    if state == "failed":
        body = (
            "<h1>Your payment did not go through</h1><p>Nothing was charged. You can try again from the link "
            "in your recommendation, or reply to our e-mail and we will help.</p>"
            '<p><a class="button" href="/intake">Back to the intake form</a></p>'
        )
        return 200, Page("Payment not completed", body)
    if state in ("superseded", "expired"):
        token = str(outcome.get("quote_token") or "")
        link = f'<p><a class="button" href="/quote/{escape(token)}">See your quote</a></p>' if token else ""
        said = (
            "This payment page closed before it was used. Your quote offers a fresh one."
            if state == "expired"
            else "This payment link belongs to a quote that has since been replaced or withdrawn, so it takes no "
            "payment."
        )
        return 200, Page("Payment link closed", f"<h1>This payment link is closed</h1><p>{said}</p>{link}")
    if state == "held":
        body = (
            f'<h1>Thank you{hello}</h1><p role="status">We have received your payment. Before any work starts, the '
            f"studio will be in touch with you about it, usually within two business days.</p>"
            f'<p class="muted">{escape(studio)}</p>'
        )
        return 200, Page("Payment received", body)
    if state == "refunded":
        return 200, Page(
            "Payment refunded",
            "<h1>This payment was refunded</h1><p>The refund is on its way to "
            "you; we have sent a confirmation by e-mail.</p>",
        )
    if state != "paid":
        body = (
            "<h1>We could not find that payment</h1><p>The link may be incomplete. If you have paid, your "
            f"confirmation e-mail from {escape(studio)} has everything you need.</p>"
        )
        return 404, Page("Not found", body)
    milestones = "".join(
        f"<li><strong>{escape(str(m.get('name')))}</strong>, due {escape(day(m.get('due_date')))}</li>"
        for m in outcome.get("milestones") or []
    )
    amount = escape(money(outcome.get("amount"), outcome.get("currency")))
    parts = list(outcome.get("schedule") or [])
    schedule = (
        "<h2>Your payment schedule</h2><ul class='schedule'>"
        + "".join(
            f"<li><strong>{escape(str(p.get('label')))}</strong>: {float(p.get('share') or 0):g}%, "
            f"{escape(money(p.get('amount'), p.get('currency')))}"
            f"{' (paid today)' if p.get('status') == 'paid' else ', invoiced when the milestone is done'}</li>"
            for p in parts
        )
        + "</ul>"
        if len(parts) > 1
        else ""
    )
    body = f"""
<h1>Payment received{hello}</h1>
<p role="status">We have received your payment of <strong>{amount}</strong> for
<strong>{escape(str(outcome.get("tier_name") or ""))}</strong>. Your project
<strong id="project-name">{escape(str(outcome.get("project_name") or ""))}</strong> has begun.</p>
<h2>Your first milestones</h2>
<ul class="milestones">{milestones}</ul>
{schedule}
<h2>What comes next</h2>
<p>A receipt and your kickoff details are on their way to your inbox. The team will be in touch to arrange the
first visit, and we will e-mail you as each milestone is done and as drawings are ready.</p>
<p class="muted">{escape(studio)}</p>"""
    return 200, Page("Payment received", body)


def render_cancelled(studio: str) -> Page:
    body = f"""
<h1>Payment cancelled</h1>
<p role="status">Nothing was charged. Your recommendation is kept: when you are ready, use the payment link
from it again, or start over.</p>
<p><a class="button" href="/intake">Back to the intake form</a></p>
<p class="muted">Questions first? Reply to any e-mail from {escape(studio)}, and we will help you choose.</p>"""
    return Page("Payment cancelled", body)
