"""The demo's review step: a tier 4 lead from the form, qualified by the team in Notion (the human token) with a
quote, its e-mail, and the quote paid through the Stripe stand-in into a project with tier 4's milestones."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.stack import scheduled_event

if TYPE_CHECKING:
    from atelier_local.demo import Demo

REVIEWED_LEAD: dict[str, Any] = {
    "email": "marguerite@example.com",
    "name": "Marguerite Yourcenar",
    "project_address": "4 Mount Desert Road",
    "budget": 60000,
    "timeline_weeks": 40,
    "project_type": "new_build",
    "has_survey": True,
    "has_drawings": False,
    "notes": "A new house on the island, with a library.",
}
QUOTE = 60000  # in the studio's currency
MAIL_SECONDS = 10.0


def review(demo: Demo) -> str:
    """Review, quote, pay: the step's one-line result, or StepFailed saying what did not happen."""
    from atelier_local.demo import StepFailed

    answer = demo.api.post(
        f"{demo.prefix}/leads", json=REVIEWED_LEAD, headers={"Idempotency-Key": f"demo-review-{uuid.uuid4()}"}
    ).json()
    if answer.get("tier") != 4 or not answer.get("needs_review"):
        raise StepFailed(f"expected a tier 4 lead for review, got {answer}")
    lead_id = str(answer["lead_id"])
    LocalLambdas().invoke("notion_sync", scheduled_event(), timeout_seconds=60)  # the lead's page in Notion
    page = demo._one("select notion_page_id from leads where id = %s", lead_id)[0]
    if not page:
        raise StepFailed("the lead has no Notion page after a sync run")
    started = time.monotonic()
    demo._gateway(demo._human_token()).update_page(
        page, {"Status": {"select": {"name": "Qualified"}}, "Quote": {"number": QUOTE}}
    )
    while time.monotonic() - started < MAIL_SECONDS:
        sent = demo._one(
            "select q.checkout_session_id, n.status::text from quotes q join notifications n on n.subject_id = q.id"
            " where q.lead_id = %s and q.status = 'sent' and n.template = 'quote_sent'",
            lead_id,
        )
        if sent and sent[1] == "sent":
            break
        time.sleep(0.1)
    else:
        raise StepFailed(f"no quote e-mail within {MAIL_SECONDS:.0f} s of the team's edit")
    waited = time.monotonic() - started
    if demo.stack.stripe is None:
        raise StepFailed("the Stripe stand-in is not running (STRIPE_SECRET_KEY is set)")
    demo.stack.stripe.pay(str(sent[0]))
    row = demo._one(
        "select p.tier, (select count(*) from milestones m where m.project_id = p.id),"
        " (select amount from payments where project_id = p.id) from projects p where p.lead_id = %s",
        lead_id,
    )
    if row is None or row[0] != 4 or row[2] != QUOTE * 100:
        raise StepFailed(f"the paid quote made {row or 'no project'}")
    return f"tier 4 lead quoted ${QUOTE:,} in Notion, e-mail in {waited:.1f} s, paid: project with {row[1]} milestones"
