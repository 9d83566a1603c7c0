"""The demo's catalogue step, as the team works in Notion (the human token): tier 1's price changed on its Services
page reaches the intake form's answer within seconds; the lead the review step sent to the team has its "Contact
the client" task in Notion's Tasks; and a brief typed on the project's page is shown to the client in the portal."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

import httpx

from atelier_local.demo_conversation import _wait

if TYPE_CHECKING:
    from atelier_local.demo import Demo

BRIEF = "We will open the kitchen to the garden, in oak throughout."
SMALL = {
    "name": "Demo Small",
    "project_address": "2 Small Street",
    "budget": 5000,
    "timeline_weeks": 8,
    "project_type": "simple_renovation",
    "has_survey": True,
    "has_drawings": True,
}


def catalogue(demo: Demo, email: str) -> str:
    from atelier import wiring
    from atelier_local.demo import StepFailed

    team = demo._gateway(demo._human_token())
    page, price = demo._one(
        "select s.page_id, t.price_cents from notion_source_pages s join tiers t on t.business_id = s.business_id"
        " and t.id = 1 where s.business_id = %s and s.source = 'service' and s.key = '1'",
        demo.business_id,
    )
    new = int(price) + 10000
    team.update_page(str(page), {"Price": {"number": new // 100}})

    def priced() -> bool:
        if demo._one("select price_cents from tiers where business_id = %s and id = 1", demo.business_id)[0] != new:
            return False  # not in Postgres yet: no lead posted for nothing (the form's limits count each one)
        answer = demo.api.post(
            f"{demo.prefix}/leads",
            json=SMALL | {"email": f"small-{uuid.uuid4().hex[:6]}@example.com"},
            headers={"Idempotency-Key": f"demo-{uuid.uuid4()}"},
        )
        if answer.json().get("price_cents") == new:
            return True
        time.sleep(1)  # the form's catalogue is read again within seconds
        return False

    to_form = _wait(priced)
    if to_form is None:
        why = demo._one(
            "select details->>'reason' from audit_log where business_id = %s and action = 'service.refused'"
            " order by created_at desc limit 1",
            demo.business_id,
        )
        raise StepFailed(f"tier 1's new price did not reach the intake form within 10 s ({why[0] if why else '-'})")

    task = demo._one(
        "select t.title, t.due_date, t.notion_page_id from tasks t where t.business_id = %s"
        " and t.kind = 'contact_client' order by t.created_at limit 1",
        demo.business_id,
    )
    if task is None:
        raise StepFailed("the lead waiting on review has no 'Contact the client' task")

    project_id, project_page = demo.facts["project_id"], str(demo.facts["project_page"])
    team.append_blocks(
        project_page,
        [{"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": BRIEF}}]}}],
    )
    to_notes = _wait(lambda: bool(demo._one("select studio_notes from projects where id = %s", project_id)[0]))
    if to_notes is None:
        raise StepFailed("the brief typed on the project's page did not reach Postgres within 10 s")
    link = wiring.portal().link_for(email)
    if link is None:
        raise StepFailed(f"no sign-in link for {email}")
    client = httpx.Client(timeout=30, follow_redirects=False)
    client.get(link)
    if BRIEF not in client.get(f"{demo.api.base_url}{demo.prefix}/portal/projects/{project_id}").text:
        raise StepFailed("the portal does not show the studio's brief")
    return (
        f"tier 1 at {new // 100:,} in Notion -> the form in {to_form:.1f} s; task {task[0]!r} due {task[1]}; "
        f"brief on the project page -> portal in {to_notes:.1f} s"
    )
