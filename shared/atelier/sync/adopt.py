"""Pages the team makes in Notion become records, matched to what Postgres holds before anything is created.

- A **lead** page (a phone enquiry, a referral) is validated like the intake form, routed by the same rules (a
  missing answer routes as the form would: no budget is `budget_unclear`, no project type `project_type_unclear`,
  both to review) and stored once, keyed by its page. Its Atelier ID is written back at once; its tier, reason,
  confidence and red flags follow with the next push.
- A **client** page is matched by e-mail (case and spaces folded) to a client, or a user with no client yet; a new
  client is made only when nothing matches and the page names a tier. Never a second client for one address.
- A **project**, **milestone** or **deliverable** page is linked to the record it stands for (same name, same
  parent, no page yet); these begin in Postgres, so anything else is left alone and reported, with what to do.

The poll and the webhooks adopt what they see at no extra call; `atelier import-notion` reads every page without
an Atelier ID, and `--dry-run` prints the plan without writing anything."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from atelier.intake.checkout import NoCheckout
from atelier.intake.form import LeadSubmission, field_errors
from atelier.intake.models import LeadAnswers, ProjectType
from atelier.intake.routing import route
from atelier.intake.service import IntakeService
from atelier.kernel.errors import IntegrityViolation, InvalidData, Refusal
from atelier.notion.codec import Ids, atelier_id_value, find_property, last_synced_value, plain_text
from atelier.sync.mapping import BY_NAME, LEAD, Entity
from atelier.sync.properties import Finding
from atelier.sync.records import SyncPorts, field_hashes
from atelier.sync.setup import HandMade

LEAD_FIELDS = {f.column: f for f in LEAD.fields}
# The relation that names a page's parent, by entity: how a hand-made page is matched to its record.
PARENT = {"project": "Client", "milestone": "Project", "deliverable": "Project"}


@dataclass(frozen=True)
class Plan:
    entity: str
    page_id: str
    title: str
    action: str  # "create", "link" or "skip"
    reason: str
    record_id: str | None = None


@dataclass
class AdoptReport:
    plans: list[Plan] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for plan in self.plans if plan.action == action)


def _text(page: dict[str, Any], key: str, ids: Ids) -> str | None:
    prop = find_property(page, key, ids) or {}
    return plain_text(prop.get("title") or prop.get("rich_text"))


def _value(page: dict[str, Any], key: str, kind: str, ids: Ids) -> Any:
    return (find_property(page, key, ids) or {}).get(kind)


def lead_answers(page: dict[str, Any], ids: Ids) -> dict[str, Any]:
    """What a Leads page says, as the intake form's fields; an empty property is a missing answer."""
    chosen = (_value(page, "Project Type", "select", ids) or {}).get("name")
    code = LEAD_FIELDS["project_type"].from_notion_value(chosen) if chosen else None
    code = str(code).strip().lower().replace(" ", "_") if code else None
    project_type = code if code in {t.value for t in ProjectType} else None  # unknown: asked, not guessed
    fields = {
        "name": _text(page, "Name", ids),
        "email": _value(page, "Email", "email", ids),
        "budget": _text(page, "Budget", ids),
        "timeline_weeks": _value(page, "Timeline (weeks)", "number", ids),
        "project_type": project_type,
        "notes": "Added by hand in Notion.",
    }
    return {k: v for k, v in fields.items() if v is not None}


class Adopter:
    def __init__(self, ports: SyncPorts, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._ports = ports
        self._clock = clock

    def adopt(
        self,
        entity: Entity,
        pages: list[dict[str, Any]],
        *,
        dry_run: bool = False,
        deadline: float | None = None,
        advance: Callable[[Plan], None] | None = None,
    ) -> AdoptReport:
        report = AdoptReport()
        ids = self._ports.ids(entity.name)
        for page in pages:
            if page.get("in_trash") or page.get("archived"):
                continue
            try:
                plan = self._lead(page, ids, dry_run) if entity is LEAD else self._other(entity, page, ids, dry_run)
            except (Refusal, IntegrityViolation, InvalidData) as exc:  # this page's answers, not the run, are wrong
                title = _text(page, "Name", ids) or str(page["id"])
                plan = Plan(entity.name, str(page["id"]), title, "skip", f"Atelier refused it: {exc}")
            if plan.action in ("create", "link") and plan.record_id and not dry_run:
                self._stamp(entity, plan, ids, deadline)
            report.plans.append(plan)
            if advance is not None:
                advance(plan)
        return report

    def _lead(self, page: dict[str, Any], ids: Ids, dry_run: bool) -> Plan:
        page_id = str(page["id"])
        fields = lead_answers(page, ids)
        title = str(fields.get("name") or page_id)
        try:
            answers = LeadAnswers.model_validate(fields)
        except ValidationError as exc:
            problems = "; ".join(f"{k}: {v}" for k, v in field_errors(exc).items())
            return Plan("lead", page_id, title, "skip", f"fill in {problems}")
        routed = route(answers, self._ports.catalogue())
        summary = f"{routed.tier_name}, {routed.confidence.value} confidence" + (
            f", to review ({', '.join(f.value for f in routed.red_flags)})" if routed.needs_review else ""
        )
        if dry_run:
            return Plan("lead", page_id, title, "create", f"a new lead: {summary}")
        lead = IntakeService(self._ports.rpc, NoCheckout()).submit(LeadSubmission(answers, f"notion:{page_id}"))
        self._ports.rpc.rpc("link_notion_page", p_entity="lead", p_id=lead.lead_id, p_page_id=page_id)
        return Plan("lead", page_id, title, "create", f"a new lead: {summary}", lead.lead_id)

    def _other(self, entity: Entity, page: dict[str, Any], ids: Ids, dry_run: bool) -> Plan:
        page_id = str(page["id"])
        title = _text(page, "Name", ids) or page_id
        if entity.name == "client":
            tier = (_value(page, "Tier", "select", ids) or {}).get("name")
            answer = self._ports.rpc.rpc(
                "adopt_notion_client",
                p_page_id=page_id,
                p_email=_value(page, "Email", "email", ids),
                p_name=title,
                p_tier_name=tier,
                p_project_address=_text(page, "Project Address", ids),
                p_dry_run=dry_run,
            )
        else:
            parents = _value(page, PARENT[entity.name], "relation", ids) or []
            parent = str(parents[0]["id"]) if parents else None
            if parent is None:
                return Plan(entity.name, page_id, title, "skip", f"set its {PARENT[entity.name]} first")
            answer = self._ports.rpc.rpc(
                "adopt_notion_page",
                p_entity=entity.name,
                p_page_id=page_id,
                p_name=title,
                p_parent_page_id=parent,
                p_dry_run=dry_run,
            )
        record = answer.get("id")
        return Plan(
            entity.name,
            page_id,
            title,
            str(answer["action"]),
            str(answer.get("reason") or ""),
            None if record is None else str(record),
        )

    def _stamp(self, entity: Entity, plan: Plan, ids: Ids, deadline: float | None) -> None:
        """The page gets its Atelier ID and what Postgres holds (a lead's tier, reason, confidence and red flags) in
        one write, recorded as pushed. If Notion is down, the queued push sends the same, Atelier ID included."""
        record = self._ports.rpc.rpc("adopted_record", p_entity=entity.name, p_id=plan.record_id) or {}
        if record.get("waiting_for"):
            return  # its parent has no page yet: the queued push sends it once the parent's page exists
        hashes = field_hashes(entity, record)
        props = entity.properties(record, fields=entity.pushed_fields(), ids=ids)
        props |= atelier_id_value(ids, entity.name, str(plan.record_id)) | last_synced_value(ids, self._clock())
        self._ports.notion.update_page(plan.page_id, props, deadline=deadline)
        ours = {f.property: hashes[f.property] for f in entity.pushed_fields()}
        self._ports.rpc.rpc(
            "mark_pushed", p_entity=entity.name, p_id=plan.record_id, p_pushed_hash=json.dumps(ours, sort_keys=True)
        )


def hand_made(ports: SyncPorts) -> HandMade:
    """`notion.setup.check`'s judge of the pages the team made, as the sync will take them."""
    return lambda entity, pages, more: _hand_made(ports, entity, pages, more)


def _hand_made(ports: SyncPorts, entity: str, pages: list[dict[str, Any]], more: bool) -> list[Finding]:
    """The pages the team made, as the sync will take them: each one it cannot take, with what to do; the rest in
    one line. Nothing is written (a dry run)."""
    plans = Adopter(ports).adopt(BY_NAME[entity], pages, dry_run=True).plans
    found = [
        Finding(entity, "unlinked page", f"{plan.title!r}: {plan.reason}", breaking=False)
        for plan in plans
        if plan.action == "skip"
    ]
    taken = sum(1 for plan in plans if plan.action != "skip")
    if taken or more:
        found.append(
            Finding(
                entity,
                "pages the team made",
                f"{taken}{'+' if more else ''} page(s) will be added or "
                "linked by the next sync run (`atelier import-notion --dry-run` shows how)",
                breaking=False,
            )
        )
    return found
