"""First-time import: leads the team typed into Notion before Atelier ran become Atelier leads.

Each page without an Atelier ID in the Leads data source is validated like the intake form, routed, stored
(once, keyed by its page id), linked, and stamped with its Atelier ID; from then on it syncs like any lead.
Pages in the other data sources cannot be imported alone (a project needs its payment): they are listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from atelier.checkout import NoCheckout
from atelier.db import Rpc
from atelier.intake import IntakeService, LeadSubmission, field_errors
from atelier.models import LeadForm
from atelier.notion.port import NotionPort
from atelier.notion.properties import PropertyMap
from atelier.notion.schema import (
    ATELIER_ID,
    LAST_SYNCED,
    LEAD,
    NO_IDS,
    Ids,
    find_property,
    key_of,
    plain_text,
    rich_text,
)
from atelier.progress import Progress


def unlinked(ids: Ids) -> dict[str, Any]:
    """The filter for pages with no Atelier ID: ones the team made."""
    return {"property": key_of(ids, ATELIER_ID), "rich_text": {"is_empty": True}}


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (page title, why)
    not_importable: dict[str, int] = field(default_factory=dict)


def _form_fields(page: dict[str, Any], ids: Ids = NO_IDS) -> dict[str, Any]:
    def prop(key: str) -> dict[str, Any]:
        return find_property(page, key, ids) or {}

    def text(key: str) -> str | None:
        return plain_text(prop(key).get("title") or prop(key).get("rich_text"))

    select = prop("Project Type").get("select") or {}
    fields = {
        "name": text("Name"),
        "email": prop("Email").get("email"),
        "budget": text("Budget"),
        "timeline_weeks": prop("Timeline (weeks)").get("number"),
        "project_type": select.get("name"),
        "notes": "Imported from Notion.",
    }
    return {k: v for k, v in fields.items() if v is not None}  # an empty property is a missing field


def import_leads(rpc: Rpc, gateway: NotionPort, data_sources: Mapping[str, str]) -> ImportReport:
    report = ImportReport()
    properties = PropertyMap(rpc, data_sources)
    for name, source in data_sources.items():
        if name != LEAD.name:
            count = len(list(gateway.query(source, filter=unlinked(properties.ids(name)))))
            if count:
                report.not_importable[name] = count
    ids = properties.ids(LEAD.name)
    pages = list(gateway.query(data_sources[LEAD.name], filter=unlinked(ids)))
    intake = IntakeService(rpc, NoCheckout())
    progress = Progress(len(pages), "import-notion")
    for page in pages:
        fields = _form_fields(page, ids)
        title = fields["name"] or str(page["id"])
        try:
            form = LeadForm.model_validate(fields)
        except ValidationError as exc:
            problems = "; ".join(f"{k}: {v}" for k, v in field_errors(exc).items())
            report.skipped.append((title, problems))
            progress.advance(note="skipped")
            continue
        lead = intake.submit(LeadSubmission(form, f"notion:{page['id']}"))
        rpc.rpc("link_notion_page", p_entity=LEAD.name, p_id=lead.lead_id, p_page_id=str(page["id"]))
        gateway.update_page(str(page["id"]), {
            key_of(ids, ATELIER_ID): {"rich_text": rich_text(f"{LEAD.name}:{lead.lead_id}")},
            key_of(ids, LAST_SYNCED): {"date": {"start": datetime.now(UTC).isoformat()}},
        })  # fmt: skip
        report.imported.append(lead.lead_id)
        progress.advance(note=title)
    progress.finish(f"{len(report.imported)} imported, {len(report.skipped)} skipped")
    return report
