"""The client e-mails' wording as the team keeps it in Notion's Messages database: a subject and a body in plain
paragraphs, with named placeholders in braces (`{client_name}`). The template files are the defaults `notion setup`
writes once; a page's wording is checked here (an unknown placeholder is refused, with what may be used instead)
and, once in force, each e-mail is written from it: the text as typed, the HTML built from its paragraphs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from html import escape

from atelier.mail.render import TEMPLATES

# The e-mails a client receives, and what the team calls each (the owner's weekly report is the owner's own).
CLIENT_MAIL = {
    "payment_receipt": "Payment received",
    "milestone_completed": "Milestone done",
    "deliverable_ready": "File ready",
    "refund_confirmed": "Refund confirmed",
    "portal_sign_in": "Portal sign-in link",
    "quote_sent": "Quote",
    "lead_declined": "Lead declined",
    "message_reply": "Reply from the studio",
    "nps_request": "How did we do?",
}
EVERYWHERE = ("studio", "client_name", "signature")  # any e-mail may use these
_FILE_NAME = re.compile(r"\$([a-z_]+?)(?:_text|_lines|_line)?\b")
PLACEHOLDER = re.compile(r"\{([^{}\s]*)\}")
MAX_SUBJECT = 200
MAX_BODY = 20000


def _braced(text: str) -> str:
    """A template file's `$name` (and `$name_text`, `$name_line`) as the team writes it: `{name}`."""
    return _FILE_NAME.sub(lambda m: "{" + m.group(1) + "}", text)


@cache
def default(name: str) -> tuple[str, str]:
    """An e-mail's default subject and body, from its template file, in the team's placeholders."""
    first, _, text = (TEMPLATES / f"{name}.txt").read_text().partition("\n")
    return _braced(first.removeprefix("Subject:").strip()), _braced(text.strip())


@cache
def placeholders(name: str) -> tuple[str, ...]:
    """The placeholders an e-mail's wording may use: its default's, and the ones every e-mail has."""
    subject, body = default(name)
    return tuple(dict.fromkeys([*PLACEHOLDER.findall(subject), *PLACEHOLDER.findall(body), *EVERYWHERE]))


def check(name: str, subject: str, body: str) -> str | None:
    """Why a page's wording cannot be used (None: it can): the first problem, said so the team can fix it."""
    if name not in CLIENT_MAIL:
        return f"Atelier sends no e-mail called {name!r}"
    if not subject.strip():
        return '"Subject" is empty: an e-mail needs one'
    if len(subject) > MAX_SUBJECT:
        return f'"Subject" is {len(subject)} characters: keep it to {MAX_SUBJECT}'
    if not body.strip():
        return "the page has no text: write the e-mail's body in the page"
    if len(body) > MAX_BODY:
        return f"the body is {len(body)} characters: keep it to {MAX_BODY}"
    allowed = placeholders(name)
    for where, text in (("the subject", subject), ("the body", body)):
        for found in PLACEHOLDER.findall(text):
            if found not in allowed:
                return f"{where} uses {{{found}}}, which this e-mail does not know. It may use: " + ", ".join(
                    "{" + p + "}" for p in allowed
                )
    return None


def _text_value(values: Mapping[str, str], name: str) -> str:
    for key in (name, f"{name}_text", f"{name}_line", f"{name}_lines"):
        if key in values:
            return values[key]
    return ""


def written(subject: str, body: str, values: Mapping[str, str], escaped: Mapping[str, str]) -> tuple[str, str, str]:
    """One e-mail from the team's wording: its subject (one line), plain text, and HTML body. A paragraph that is
    one placeholder alone takes that value's own HTML (a list, a button); a link is a link."""
    fill = lambda m: _text_value(values, m.group(1))  # noqa: E731
    title = " ".join(PLACEHOLDER.sub(fill, subject).split())
    text = PLACEHOLDER.sub(fill, body).strip() + "\n"
    parts = []
    for paragraph in re.split(r"\n\s*\n", body.strip()):
        alone = PLACEHOLDER.fullmatch(paragraph.strip())
        if alone and f"{alone.group(1)}_html" in escaped:
            parts.append(escaped[f"{alone.group(1)}_html"])
            continue

        html = "".join(
            _inline(values, piece) if i % 2 else "<br>".join(escape(line) for line in piece.split("\n"))
            for i, piece in enumerate(PLACEHOLDER.split(paragraph))  # text, name, text, name, ...
        )
        parts.append(f"<p>{html}</p>")
    return title, text, "\n".join(parts)


def _inline(values: Mapping[str, str], name: str) -> str:
    value = _text_value(values, name)
    if value.startswith(("https://", "http://")) and " " not in value:
        return f'<a href="{escape(value)}">{escape(value)}</a>'
    return "<br>".join(escape(line) for line in value.splitlines())


class MailWords:
    """The client e-mails' wording as the sync reads it (`atelier.sync.records.Words`)."""

    def names(self) -> dict[str, str]:
        return dict(CLIENT_MAIL)

    def default(self, name: str) -> tuple[str, str]:
        return default(name)

    def placeholders(self, name: str) -> tuple[str, ...]:
        return placeholders(name)

    def check(self, name: str, subject: str, body: str) -> str | None:
        return check(name, subject, body)
