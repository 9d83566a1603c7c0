"""The demo's conversation step: the client writes in the portal (with a photo) and the message is a comment on the
project's Notion page; the team replies there (the human token) and the reply is in the portal, with one e-mail;
a drawing uploaded for the client's decision puts the project in "awaiting feedback", and the client's approval
brings it back to "in progress"."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from atelier.deliverables.keys import DeliverableKey

if TYPE_CHECKING:
    from atelier_local.demo import Demo

WAIT_SECONDS = 10.0
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MESSAGE = "Could the kitchen be in oak rather than walnut?"
REPLY = "Yes: oak it is. We will show it in the next drawing."


def _wait(check: Callable[[], bool], seconds: float = WAIT_SECONDS) -> float | None:
    """Seconds until `check()` held, or None when it did not within `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def conversation(demo: Demo, email: str) -> str:
    from atelier import wiring
    from atelier_local.demo import StepFailed

    project_id = demo.facts["project_id"]
    link = wiring.portal().link_for(email)
    if link is None:
        raise StepFailed(f"no sign-in link for {email}")
    client = httpx.Client(timeout=30, follow_redirects=False)
    client.get(link)
    url = f"{demo.api.base_url}{demo.prefix}/portal/projects/{project_id}"
    token = re.search(r'name="csrf" value="([^"]+)"', client.get(url).text)
    if token is None:
        raise StepFailed("the portal's project page has no form to write to the studio")
    sent = client.post(
        f"{url}/messages", data={"csrf": token.group(1), "body": MESSAGE}, files={"attachment": ("site.png", PNG)}
    )
    if sent.status_code != 303:
        raise StepFailed(f"the message was answered {sent.status_code}: {sent.text[:200]}")
    page = str(demo.facts["project_page"])
    team = demo._gateway(demo._human_token())
    to_notion = _wait(lambda: any(MESSAGE in _text(c) for c in team.list_comments(page)))
    if to_notion is None:
        raise StepFailed(f"the message is not a comment on the project's Notion page after {WAIT_SECONDS:g} s")

    team.create_comment(page, REPLY)
    back = _wait(lambda: REPLY in client.get(url).text)
    mails = demo._one(
        "select count(*) from notifications n join messages m on m.id = n.subject_id"
        " where n.template = 'message_reply' and m.project_id = %s",
        project_id,
    )[0]
    if back is None or mails != 1:
        raise StepFailed(f"the team's reply reached the portal: {back is not None}; e-mails queued for it: {mails}")

    assert demo.stack.s3 is not None
    key = DeliverableKey.make(project_id, "Drawing", "kitchen-concept.pdf", business=demo.slug)
    demo.stack.s3.s3().put_object(
        Bucket=demo.stack.s3.bucket, Key=key, Body=PDF, ContentType="application/pdf", Metadata={"uploaded-by": "demo"}
    )
    if not demo.stack.s3.wait_idle():
        raise StepFailed("the drawing's S3 notification was not handled in time")
    waiting = demo._one("select status::text from projects where id = %s", project_id)[0]
    drawing = demo._one("select id from deliverables where project_id = %s and category = 'Drawing'", project_id)[0]
    decided = client.post(
        f"{demo.api.base_url}{demo.prefix}/portal/deliverables/{drawing}/decision",
        data={"csrf": token.group(1), "decision": "approve"},
    )
    status = demo._one("select status::text from projects where id = %s", project_id)[0]
    if waiting != "awaiting_feedback" or decided.status_code != 303 or status != "in_progress":
        raise StepFailed(
            f"the drawing's round went {waiting} -> {status} (the approval answered {decided.status_code})"
        )
    return (
        f"message + photo -> Notion comment in {to_notion:.1f} s; team reply -> portal in {back:.1f} s, 1 e-mail; "
        "drawing: awaiting feedback -> approved -> in progress"
    )


def _text(comment: dict[str, Any]) -> str:
    return "".join(str(item.get("plain_text") or "") for item in comment.get("rich_text") or [])
