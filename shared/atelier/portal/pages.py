"""The portal's pages, in the intake form's plain style: sign-in, the client's projects, and one project with its
milestone timeline and a gallery of deliverables. Every value from the database is escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from atelier.kernel.business import whose
from atelier.kernel.format import day, money
from atelier.kernel.page import Page
from atelier.portal import thread
from atelier.portal.money import document_path, schedule
from atelier.portal.money import facts as money_facts
from atelier.portal.notes import studio_notes

PORTAL_STYLE = """<style>
.timeline{list-style:none;padding:0;margin:0;border-left:3px solid #ddd}
.timeline li{padding:.4rem 0 .8rem 1rem;position:relative}
.timeline li::before{content:"";position:absolute;left:-.55rem;top:.75rem;width:.8rem;height:.8rem;border-radius:50%;
background:#bbb}
.timeline .completed::before{background:#2e7d32}.timeline .in_progress::before{background:#0a5cd5}
.timeline .next{font-weight:600}.state{display:inline-block;font-size:.85rem;padding:0 .4rem;border-radius:3px;
background:#eee;margin-left:.3rem}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:1rem;padding:0;list-style:none}
.gallery li{border:1px solid #ddd;padding:.5rem;overflow-wrap:anywhere}
.gallery img{width:100%;height:7rem;object-fit:cover;display:block;background:#f4f4f4}
.file{height:7rem;display:flex;align-items:center;justify-content:center;background:#f4f4f4;font-weight:600}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}.facts dt{color:#555}
.facts dd{margin:0}nav{margin-bottom:1rem}
</style>"""
STATUS = {
    "onboarding": "Getting started",
    "in_progress": "In progress",
    "awaiting_feedback": "Waiting for you",
    "revisions": "Revisions",
    "delivered": "Delivered",
    "closed": "Closed",
}
MILESTONE = {"completed": "done", "in_progress": "in progress", "pending": "to come"}
PAYMENT = {"paid": "Paid", "pending": "Payment pending", "refunded": "Refunded"}
# What the last form did (`?done=`), said once on the page it led back to.
NOTICES = {
    "message": "Your message is on its way to the studio.",
    "approved": "Thank you: the studio sees your approval.",
    "changes": "Thank you: the studio sees what you would like changed.",
    "thanks": "Thank you for your answer.",
    "answered": "You answered this question already. Thank you.",
}


@dataclass(frozen=True)
class Shown:
    """What a project page shows besides the project: its forms' token, and what the last form did or got wrong."""

    form_token: str = ""
    notice: str | None = None
    problem: str | None = None
    draft: str = ""  # the message the client typed, kept when it could not be sent


def _size(value: Any) -> str:
    size = float(value or 0)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def sign_in(message: str = "", *, status: int = 200) -> tuple[int, Page]:
    note = f'<p role="status">{escape(message)}</p>' if message else ""
    body = f"""<h1>Your project with {escape(whose())}</h1>{note}
<p>Enter the e-mail address you paid with. We will send you a link that signs you in; it works once, for 15
minutes.</p>
<form method="post" action="/portal/login">
<label for="email">Email</label>
<input type="email" id="email" name="email" autocomplete="email" required>
<button type="submit">Send me a sign-in link</button>
</form>"""
    return status, Page("Sign in", body)


def link_sent() -> Page:
    body = """<h1>Check your inbox</h1>
<p role="status">If that address belongs to a client of the studio, a sign-in link is on its way. It works once,
for 15 minutes.</p><p><a href="/portal">Send another link</a></p>"""
    return Page("Check your inbox", body)


def _quotes(quotes: Sequence[Mapping[str, Any]]) -> str:
    """The client's open quotes, each with its link (which offers a fresh payment page once the first has closed)."""
    if not quotes:
        return ""
    items = "".join(
        f"<li><strong>{escape(str(q.get('tier_name') or ''))}</strong> for "
        f"{escape(money(q.get('amount'), q.get('currency')))} "
        f'<a href="/quote/{escape(str(q["token"]))}">'
        f"{'Get a fresh payment link' if q.get('state') == 'expired' else 'See and pay your quote'}</a></li>"
        for q in quotes
    )
    return f'<h2>A quote waiting for you</h2><ul class="quotes">{items}</ul>'


def projects(
    items: Sequence[Mapping[str, Any]], email: str, contact: str, quotes: Sequence[Mapping[str, Any]] = ()
) -> Page:
    rows = (
        "".join(
            f'<li><a href="/portal/projects/{escape(str(p["id"]))}"><strong>{escape(str(p["name"]))}</strong></a> '
            f'<span class="state">{escape(STATUS.get(str(p["status"]), str(p["status"])))}</span><br>'
            f'<span class="muted">{escape(str(p.get("tier_name") or ""))} - {int(p.get("milestones_done") or 0)} of '
            f"{int(p.get('milestones') or 0)} milestones done</span></li>"
            for p in items
        )
        or "<li>No projects yet.</li>"
    )
    body = f"""<nav class="muted">Signed in as {escape(email)} - <a href="/portal?signout=1">Sign out</a></nav>
<h1>Your projects</h1><ul>{rows}</ul>{_quotes(quotes)}<p class="muted">{escape(contact)}</p>"""
    return Page("Your projects", body, head=PORTAL_STYLE)


def project(item: Mapping[str, Any], email: str, contact: str, download_url: Any, shown: Shown | None = None) -> Page:
    shown = shown or Shown()
    payments = [p for p in item.get("payments") or [] if p.get("status") in ("succeeded", "refunded")]
    paid = sum(int(p.get("amount") or 0) - int(p.get("amount_refunded") or 0) for p in payments)
    currency = (payments[0].get("currency") if payments else "usd") or "usd"
    receipt = "".join(
        f"<li>{escape(money(p.get('amount'), p.get('currency')))} on {escape(day(p.get('paid_at')))}"
        f"{' (refunded)' if p.get('status') == 'refunded' else ''}"
        + (
            f' <a href="{document_path(str(p["receipt_number"]))}">receipt {escape(str(p["receipt_number"]))}</a>'
            if p.get("receipt_number")
            else ""
        )
        + "</li>"
        for p in payments
    )
    milestones = list(item.get("milestones") or [])
    upcoming = next((m for m in milestones if m.get("status") != "completed"), None)
    steps = []
    for m in milestones:
        state = str(m.get("status"))
        when = f"done {day(m.get('completed_at'))}" if state == "completed" else f"due {day(m.get('due_date'))}"
        mark = " next" if m is upcoming else ""
        label = "due next" if m is upcoming and state == "pending" else MILESTONE.get(state, state)
        steps.append(
            f'<li class="{escape(state)}{mark}">{escape(str(m.get("name")))} <span class="state">'
            f'{escape(label)}</span><br><span class="muted">{escape(when)}</span></li>'
        )
    tiles = []
    for d in item.get("deliverables") or []:
        link = escape(download_url(str(d["id"])))
        kind = str(d.get("file_type") or "")
        preview = (
            f'<img src="{link}" alt="{escape(str(d.get("name")))}" loading="lazy">'
            if kind.startswith("image/")
            else f'<div class="file" aria-hidden="true">{escape(kind.split("/")[-1].upper()[:8] or "FILE")}</div>'
        )
        facts = f"{escape(str(d.get('category') or ''))}, {escape(_size(d.get('file_size')))}"
        tiles.append(
            f'<li>{preview}<a href="{link}">{escape(str(d.get("name")))}</a><br><span class="muted">{facts}</span>'
            f"{thread.decision(d, shown.form_token)}</li>"
        )
    gallery = (
        f'<ul class="gallery">{"".join(tiles)}</ul>'
        if tiles
        else "<p>No files yet: they appear here as the studio shares them.</p>"
    )
    waiting = thread.waiting_count(item.get("deliverables") or [])
    files = "1 file waits" if waiting == 1 else f"{waiting} files wait"
    asks = (
        f"<p><strong>{files} for your decision</strong>: approve it, or say what should change.</p>" if waiting else ""
    )
    body = f"""<nav class="muted"><a href="/portal">Your projects</a> - signed in as {escape(email)}</nav>
{thread.banner(shown.notice, shown.problem)}
<h1>{escape(str(item.get("name")))}</h1>
<dl class="facts"><dt>Status</dt><dd>{escape(STATUS.get(str(item.get("status")), str(item.get("status"))))}</dd>
<dt>Service</dt><dd>{escape(str(item.get("tier_name") or ""))}</dd>
{money_facts(item) if item.get("money") else f"<dt>Paid</dt><dd>{escape(money(paid, currency))}</dd>"}
<dt>Payment</dt><dd>{escape(payment_state(item))}</dd></dl>
{studio_notes(item.get("studio_notes"))}
{schedule(item)}
<h2>Receipt</h2><ul>{receipt or "<li>No payment yet.</li>"}</ul>
<h2>Milestones</h2><ol class="timeline">{"".join(steps) or "<li>To be planned.</li>"}</ol>
{thread.survey(item, shown.form_token)}
<h2 id="files">Files</h2>{asks}{gallery}
{thread.thread(item, shown.form_token, shown.draft)}
<p class="muted">{escape(contact)}</p>"""
    return Page(str(item.get("name") or "Your project"), body, head=PORTAL_STYLE + thread.THREAD_STYLE)


def payment_state(item: Mapping[str, Any]) -> str:
    """ "Paid", or "Deposit paid" while instalments are still to come."""
    state = str(item.get("payment_status"))
    due = int((item.get("money") or {}).get("balance_due") or 0)
    return "Deposit paid: the rest as the milestones are done" if state == "paid" and due else PAYMENT.get(state, "")


def deliverable_path(deliverable_id: str) -> str:
    """Where a file is downloaded from: through the client's sign-in, never by a link that works for anyone."""
    return f"/portal/deliverables/{deliverable_id}"


def stale_form(email: str) -> Page:
    body = f"""<nav class="muted"><a href="/portal">Your projects</a> - signed in as {escape(email)}</nav>
<h1>This form has expired</h1><p role="alert">Nothing was sent. Go back to <a href="/portal">your projects</a>, open the
page again and send the form from there.</p>"""
    return Page("This form has expired", body)


def not_found(email: str) -> Page:
    body = f"""<nav class="muted"><a href="/portal">Your projects</a> - signed in as {escape(email)}</nav>
<h1>Not found</h1><p>There is no such project among yours.</p>"""
    return Page("Not found", body)
