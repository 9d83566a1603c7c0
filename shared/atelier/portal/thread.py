"""The conversation on a project's portal page: the thread and its form, a file's decision, and the question at
delivery. Every form posts its session's token (CSRF); every value from the database is escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from atelier.kernel.format import moment
from atelier.portal.forms import CSRF_FIELD, MAX_BODY_CHARS, MAX_NOTE_CHARS

THREAD_STYLE = """<style>
.thread{list-style:none;padding:0;margin:0 0 1rem}.thread li{border-left:3px solid #ddd;padding:.3rem .8rem;
margin:.6rem 0;white-space:pre-wrap;overflow-wrap:anywhere}.thread .team{border-color:#0a5cd5;background:#f3f7fd}
.thread .who{display:block;white-space:normal;font-size:.85rem;color:#555}
textarea{width:100%;box-sizing:border-box;min-height:6rem;font:inherit}
.decision{margin-top:.5rem}.decision form{margin:.3rem 0}.decision button{margin-right:.3rem}
.approval{display:inline-block;font-size:.85rem;padding:0 .4rem;border-radius:3px;background:#eee}
.approval.approved{background:#e3f3e4}.approval.changes_requested{background:#fdf0dc}.approval.waiting{background:#e8eefb}
.scores{display:flex;flex-wrap:wrap;gap:.2rem .8rem;border:0;padding:0;margin:.5rem 0}
.scores label{display:inline-flex;align-items:center;gap:.3rem;padding:.4rem .6rem;border:1px solid #ccc;
border-radius:4px;min-width:2.4rem}
.notice{padding:.5rem .8rem;background:#e3f3e4;border-left:4px solid #2e7d32}
.problem{padding:.5rem .8rem;background:#fdecea;border-left:4px solid #b3261e}
</style>"""
APPROVAL = {"waiting": "Waiting for you", "approved": "Approved", "changes_requested": "Changes asked"}


def _token(form_token: str) -> str:
    return f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(form_token)}">'


def banner(notice: str | None, problem: str | None) -> str:
    if problem:
        return f'<p class="problem" role="alert">{escape(problem)}</p>'
    return f'<p class="notice" role="status">{escape(notice)}</p>' if notice else ""


def thread(item: Mapping[str, Any], form_token: str, draft: str) -> str:
    """The messages, oldest first, then the form that adds one (with a file, if the client likes)."""
    rows = []
    for m in item.get("messages") or []:
        team = m.get("author_kind") == "team"
        who = escape(str(m.get("author_name") or ("The studio" if team else "You")))
        when = escape(moment(m.get("created_at")))
        file = ""
        if m.get("attachment_name"):
            file = (
                f'<br><a href="/portal/messages/{escape(str(m["id"]))}/attachment">'
                f"{escape(str(m['attachment_name']))}</a>"
            )
        rows.append(
            f'<li class="{"team" if team else "client"}"><span class="who">{who}, {when}</span>'
            f"{escape(str(m.get('body') or ''))}{file}</li>"
        )
    shown = f'<ol class="thread">{"".join(rows)}</ol>' if rows else "<p>No messages yet. Write to the studio below.</p>"
    project = escape(str(item["id"]))
    return f"""<h2 id="messages">Messages</h2>{shown}
<form method="post" action="/portal/projects/{project}/messages" enctype="multipart/form-data">{_token(form_token)}
<label for="body">Your message to the studio</label>
<textarea id="body" name="body" maxlength="{MAX_BODY_CHARS}" required>{escape(draft)}</textarea>
<label for="attachment">Attach an image or a PDF (optional, up to 4 MB)</label>
<input type="file" id="attachment" name="attachment" accept="image/png,image/jpeg,image/gif,image/webp,application/pdf">
<button type="submit">Send message</button>
</form>"""


def decision(d: Mapping[str, Any], form_token: str) -> str:
    """A file's approval: its state, and while it waits (the latest version only), the two choices."""
    if not d.get("needs_approval"):
        return ""
    state = str(d.get("approval") or "waiting")
    label = f'<span class="approval {escape(state)}">{escape(APPROVAL.get(state, state))}</span>'
    note = (
        f'<br><span class="muted">Your note: {escape(str(d["approval_note"]))}</span>' if d.get("approval_note") else ""
    )
    if state != "waiting" or not d.get("latest", True):
        return f'<div class="decision">{label}{note}</div>'
    target = f"/portal/deliverables/{escape(str(d['id']))}/decision"
    note_id = f"note-{escape(str(d['id']))}"
    return f"""<div class="decision">{label}
<form method="post" action="{target}">{_token(form_token)}<input type="hidden" name="decision" value="approve">
<button type="submit">Approve</button></form>
<form method="post" action="{target}">{_token(form_token)}<input type="hidden" name="decision" value="changes">
<label for="{note_id}">What should change?</label>
<textarea id="{note_id}" name="note" maxlength="{MAX_NOTE_CHARS}" required></textarea>
<button type="submit">Ask for changes</button></form></div>"""


def survey(item: Mapping[str, Any], form_token: str) -> str:
    """The one question at delivery, until it is answered; then the answer, with thanks."""
    answer = item.get("nps")
    if answer:
        return (
            f'<h2 id="feedback">Your feedback</h2><p>You gave us {int(answer.get("score") or 0)} of 10. '
            "Thank you for telling us.</p>"
        )
    if not item.get("nps_asked") or item.get("status") not in ("delivered", "closed"):
        return ""
    scores = "".join(f'<label><input type="radio" name="score" value="{n}" required> {n}</label>' for n in range(0, 11))
    return f"""<h2 id="feedback">One question</h2>
<form method="post" action="/portal/projects/{escape(str(item["id"]))}/feedback">{_token(form_token)}
<fieldset class="scores"><legend>How likely are you to recommend us to a friend? (0: not at all, 10: certainly)
</legend>{scores}</fieldset>
<label for="comment">Anything you would like to tell us (optional)</label>
<textarea id="comment" name="comment" maxlength="{MAX_NOTE_CHARS}"></textarea>
<button type="submit">Send my answer</button></form>"""


def waiting_count(deliverables: Sequence[Mapping[str, Any]]) -> int:
    return sum(1 for d in deliverables if d.get("approval") == "waiting" and d.get("latest", True))
