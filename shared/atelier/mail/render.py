"""Templates (`templates/<name>.txt` and `.html`) made into one message: subject, plain text and HTML.

The text file's first line is `Subject: ...`. Values are substituted with `string.Template` (`$name`), escaped in
the HTML part. The studio's name, reply-to address and signature come from settings (`MailSettings`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from html import escape
from pathlib import Path
from string import Template
from typing import Any

from atelier.kernel.business import BRAND_COLOUR
from atelier.kernel.format import day, money

TEMPLATES = Path(__file__).with_name("templates")
NAMES = (
    "payment_receipt",
    "milestone_completed",
    "deliverable_ready",
    "refund_confirmed",
    "portal_sign_in",
    "weekly_report",
    "quote_sent",
    "lead_declined",
    "message_reply",
    "nps_request",
    "task_digest",
)
STATUS_WORDS = {"pending": "to come", "in_progress": "under way", "completed": "done"}
FRAME = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>$subject</title></head>
<body style="font:16px/1.5 system-ui,sans-serif;color:#1d1d1f;max-width:36rem;margin:0 auto;padding:1rem">
$body</body></html>
"""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # "application/pdf"
    data: bytes


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Studio:
    name: str
    signature: str
    colour: str | None = None  # the business's brand colour, #rrggbb: its name heads each message in it


@cache
def _files(name: str) -> tuple[str, Template, Template]:
    if name not in NAMES:
        raise ValueError(f"no e-mail template {name!r}")
    first, _, text = (TEMPLATES / f"{name}.txt").read_text().partition("\n")
    return first.removeprefix("Subject:").strip(), Template(text), Template((TEMPLATES / f"{name}.html").read_text())


def render(
    name: str,
    context: Mapping[str, Any],
    studio: Studio,
    *,
    download_url: Callable[[str], str] | None = None,
    sign_in_url: Callable[[str, int], str] | None = None,
    portal_url: str | None = None,
    extra: Mapping[str, str] | None = None,
    quote_url: Callable[[str], str] | None = None,
    wording: Mapping[str, Any] | None = None,
) -> Message:
    """One message from a template and what `notification_context` read for it. `extra`: values a template's
    enclosure adds (the weekly report's figures); a `*_lines` value is a list, one item per line. `wording`: the
    team's version of the e-mail (its subject and body, from Notion's Messages), used in place of the files."""
    subject, text, html = _files(name)
    milestones = list(context.get("milestones") or [])
    lines = [
        (
            str(m.get("name")),
            day(m.get("due_date"), missing="to be set"),
            STATUS_WORDS.get(str(m.get("status")), "to come"),
        )
        for m in milestones
    ]
    payment = context.get("payment") or {}
    sign_in = context.get("sign_in") or {}
    deliverable = context.get("deliverable") or {}
    values = {
        "studio": studio.name,
        "client_name": str(context.get("client_name") or "client"),
        "project_name": str(context.get("project_name") or "your project"),
        "tier_name": str(context.get("tier_name") or "your service"),
        "amount": money(payment.get("amount"), payment.get("currency")),
        "refunded": money(payment.get("amount_refunded") or payment.get("amount"), payment.get("currency")),
        "milestone_name": str((context.get("milestone") or {}).get("name") or "a milestone"),
        "deliverable_name": str(deliverable.get("name") or "a file"),
        "category": str(deliverable.get("category") or "file").lower(),
        "download_url": download_url(str(deliverable["id"])) if download_url and deliverable.get("id") else "",
        "signature": studio.signature,
        "sign_in_url": sign_in_url(str(sign_in["id"]), int(sign_in["expires"])) if sign_in_url and sign_in else "",
        "portal_line": f"See where your project stands at any time: {portal_url}" if portal_url else "",
    }
    values |= _conversation_values(context, portal_url)
    values |= _quote_values(context, quote_url)
    values |= dict(extra or {})
    tasks = [_task_line(t) for t in (context.get("details") or {}).get("tasks") or [] if isinstance(t, dict)]
    values["tasks_text"] = "\n".join(f"- {line}" for line in tasks) or "- nothing overdue"
    values["task_count"] = f"{len(tasks)} overdue task{'' if len(tasks) == 1 else 's'}"
    values["milestones_text"] = "\n".join(f"- {n}: {state}, due {due}" for n, due, state in lines) or "- to be set"
    escaped = {k: escape(v) for k, v in values.items()}
    items = "".join(
        f"<li><strong>{escape(n)}</strong>: {escape(state)}, due {escape(due)}</li>" for n, due, state in lines
    )
    escaped["milestones_html"] = f"<ul>{items}</ul>"
    escaped["tasks_html"] = "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in tasks) + "</ul>"
    for key, value in (extra or {}).items():
        if key.endswith("_lines"):
            values[key] = "\n".join(f"- {line}" for line in value.splitlines())
            escaped[key.removesuffix("_lines") + "_html"] = (
                "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in value.splitlines()) + "</ul>"
            )
    escaped |= _quote_html(context)
    escaped |= _conversation_html(values)
    escaped["signature_html"] = "<br>".join(escape(line) for line in studio.signature.splitlines())
    escaped["portal_html"] = (
        (f'<p>See where your project stands at any time: <a href="{escape(portal_url)}">your project page</a>.</p>')
        if portal_url
        else ""
    )
    if wording and wording.get("subject") and wording.get("body"):
        from atelier.mail.wording import written

        title, plain, body = written(str(wording["subject"]), str(wording["body"]), values, escaped)
    else:
        # A subject is a header: a line break typed into a project's name must not start another header.
        title = " ".join(Template(subject).safe_substitute(values).split())
        plain, body = text.safe_substitute(values).strip() + "\n", html.safe_substitute(escaped)
    if studio.colour and BRAND_COLOUR.match(studio.colour):
        masthead = f'<p style="margin:0 0 1rem;padding-bottom:.5rem;border-bottom:4px solid {studio.colour};'
        body = masthead + f'font-weight:700;color:{studio.colour}">{escape(studio.name)}</p>\n' + body
    return Message(
        title,
        plain,
        Template(FRAME).safe_substitute(subject=escape(title), body=body),
    )


def _said(context: Mapping[str, Any]) -> tuple[list[str], str, str]:
    """A quote's features, the team's note to the client, and a decline's reason, as given."""
    quote = context.get("quote") or {}
    details = context.get("details") or {}
    features = [str(f) for f in quote.get("features") or [] if str(f).strip()]
    return features, str(quote.get("note") or "").strip(), str(details.get("reason") or "").strip()


def _quote_values(context: Mapping[str, Any], quote_url: Callable[[str], str] | None) -> dict[str, str]:
    """A quote's e-mail: its amount, what the tier includes, the team's note and the client's link; a decline's
    reason."""
    quote = context.get("quote") or {}
    features, note, reason = _said(context)
    token = str(quote.get("token") or "")
    return {
        "quote_amount": money(quote.get("amount"), quote.get("currency")),
        "quote_url": quote_url(token) if quote_url and token else "",
        "quote_expires": day(str(quote.get("expires_at") or "")[:10] or None, missing="a day from now"),
        "features_text": "\n".join(f"- {f}" for f in features) or "- as we discussed",
        "note_text": f"\nA note from the team:\n{note}\n" if note else "",
        "reason_text": f"\n{reason}\n" if reason else "",
        "schedule_text": "\nHow it is paid:\n"
        + "\n".join(f"- {share} {when}: {amount}" for when, share, amount in schedule)
        + "\n"
        if (schedule := _schedule(context))
        else "",
        "pay_now": schedule[0][2] if schedule else money(quote.get("amount"), quote.get("currency")),
    }


def _schedule(context: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(when, share, amount) for each part of a quote paid in parts (at booking, then at milestones); [] when it is
    paid whole at booking."""
    from atelier.kernel.catalogue import share_of

    quote = context.get("quote") or {}
    parts = [(str(i.get("name")), Decimal(str(i.get("percent")))) for i in quote.get("instalments") or []]
    if not parts:
        return []
    total, currency = int(quote.get("amount") or 0), quote.get("currency")
    later = [(f"at {name}", f"{float(p):g}%", money(share_of(total, p), currency)) for name, p in parts]
    booking = total - sum(share_of(total, p) for _, p in parts)
    deposit = f"{float(Decimal(str(quote.get('deposit_percent') or 100))):g}%"
    return [("at booking, to accept", deposit, money(booking, currency)), *later]


def _quote_html(context: Mapping[str, Any]) -> dict[str, str]:
    features, note, reason = _said(context)
    schedule = _schedule(context)
    rows = "".join(f"<li>{escape(share)} {escape(when)}: {escape(amount)}</li>" for when, share, amount in schedule)
    items = "".join(f"<li>{escape(f)}</li>" for f in features) or "<li>as we discussed</li>"
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in note.splitlines() if line.strip())
    return {
        "features_html": f"<ul>{items}</ul>",
        "note_html": (
            f'<blockquote style="border-left:4px solid #ccc;margin:1rem 0;padding:0 1rem">'
            f"<p><strong>A note from the team</strong></p>{paragraphs}</blockquote>"
            if note
            else ""
        ),
        "reason_html": f"<p>{escape(reason)}</p>" if reason else "",
        "schedule_html": f'<h2 style="font-size:1.1rem">How it is paid</h2><ul>{rows}</ul>' if rows else "",
    }


def _project_url(context: Mapping[str, Any], portal_url: str | None, anchor: str) -> str:
    project = context.get("project_id")
    return f"{portal_url}/projects/{project}#{anchor}" if portal_url and project else ""


def _conversation_values(context: Mapping[str, Any], portal_url: str | None) -> dict[str, str]:
    """A reply's text and who wrote it, and the links to the project's thread and its question at delivery."""
    message = context.get("message") or {}
    thread, feedback = _project_url(context, portal_url, "messages"), _project_url(context, portal_url, "feedback")
    return {
        "message_author": str(message.get("author_name") or "The studio"),
        "message_body": str(message.get("body") or ""),
        "thread_url": thread,
        "thread_line": f"Read it and answer in your project's thread: {thread}" if thread else "Reply to this e-mail.",
        "feedback_url": feedback,
        "feedback_line": feedback or "Reply to this e-mail with your score.",
    }


def _conversation_html(values: Mapping[str, str]) -> dict[str, str]:
    button = (
        '<p><a href="{url}" style="display:inline-block;padding:.6rem 1.2rem;background:#1d1d1f;color:#fff;'
        'text-decoration:none">{label}</a></p>'
    )
    thread, feedback = values["thread_url"], values["feedback_url"]
    return {
        "thread_html": button.format(url=escape(thread), label="Read and answer")
        if thread
        else "<p>Reply to this e-mail.</p>",
        "feedback_html": button.format(url=escape(feedback), label="Answer the question")
        if feedback
        else "<p>Reply to this e-mail with your score.</p>",
    }


def _task_line(task: Mapping[str, Any]) -> str:
    """One overdue task in the team's digest: what, for whom, and how late."""
    days = int(task.get("days_overdue") or 0)
    about = task.get("project_name") or task.get("lead_name")
    return (
        f"{task.get('title')}"
        + (f" ({about})" if about and str(about) not in str(task.get("title")) else "")
        + f": due {day(task.get('due_date'))}, {days} day{'s' if days != 1 else ''} overdue"
    )
