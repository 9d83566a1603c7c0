"""The team's catalogue and words in Notion: the Services database (one page per tier: its properties, and its
milestones listed in the page) and the Messages database (one page per client e-mail: subject, body, "In Use").

`notion setup` writes their first pages from Postgres and the template files. After that they are the team's: an
edit is read (by webhook, or by the poll, as records are), checked, and applied in one transaction. A bad edit is
refused with one comment on its page, and the last good version stays in force. The services are applied as one
catalogue (bands are checked against each other), each message on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from atelier.notion.codec import atelier_id_value, key_of, to_property
from atelier.sync.blocks import heading, item, paragraph
from atelier.sync.mapping import MESSAGE, SERVICE, Entity
from atelier.sync.notes import author_of
from atelier.sync.records import SyncPorts, page_record_id, short_hash
from atelier.sync.source_terms import (
    HOW_TO_LIST,
    MILESTONES,
    main_unit,
    message_body,
    message_terms,
    milestone_line,
    milestones_of,
    normal_body,
    percent,
    service_terms,
)

LAG = timedelta(minutes=2)  # Notion rounds edit times down to the minute


@dataclass
class SourceReport:
    read: int = 0
    applied: int = 0
    refused: int = 0
    made: int = 0

    def counts(self) -> dict[str, int]:
        return dict(self.__dict__)


class SourceSync:
    """Reads, checks and applies the Services and Messages pages; writes their first pages at setup."""

    def __init__(self, ports: SyncPorts) -> None:
        self._ports = ports

    def _source(self, entity: Entity) -> str | None:
        return self._ports.data_sources.get(entity.name)

    # -- setup: the first pages ----------------------------------------------------------------

    def seed(self, *, say: Any = print, deadline: float | None = None) -> int:
        """One page per tier and per client e-mail that has none yet; returns how many were made."""
        made = 0
        if self._source(SERVICE):
            known = {str(v["key"]) for v in (self._ports.rpc.rpc("source_pages", p_source="service") or {}).values()}
            catalogue = self._ports.rpc.rpc("catalogue") or {}
            days = catalogue.get("milestone_days") or {}
            for tier in catalogue.get("tiers") or []:
                key = str(tier["id"])
                if key in known:
                    continue
                milestones: list[dict[str, Any]] = [
                    {"name": str(m["name"]), "days": int(m["days"])}
                    | ({} if m.get("percent") is None else {"percent": percent(m["percent"])})
                    for m in days.get(key) or []
                ]
                if Decimal(str(tier.get("deposit_percent") or 100)) < 100:
                    milestones.insert(0, {"booking": percent(tier["deposit_percent"])})
                values = {
                    "name": tier["name"],
                    "description": tier.get("description") or "",
                    "features": "\n".join(str(f) for f in tier.get("features") or []),
                    "price": main_unit(int(tier["price_cents"])),
                    "budget_from": main_unit(int(tier["min_budget_cents"])),
                    "budget_to": main_unit(
                        None if tier.get("max_budget_cents") is None else int(tier["max_budget_cents"])
                    ),
                    "routing": tier["routing"],
                    "active": tier.get("active", True),
                }
                blocks = [
                    paragraph(HOW_TO_LIST),
                    heading(MILESTONES),
                    *[
                        item(f"At booking: {m['booking']}%" if "booking" in m else milestone_line(m))
                        for m in milestones
                    ],
                ]
                terms = service_terms(key, values, milestones)
                self._make(SERVICE, key, values, blocks, short_hash(terms), deadline)
                say(f"notion: Services: wrote {tier['name']}")
                made += 1
        words = self._ports.words
        if self._source(MESSAGE) and words is not None:
            known = {str(v["key"]) for v in (self._ports.rpc.rpc("source_pages", p_source="message") or {}).values()}
            for name, title in words.names().items():
                if name in known:
                    continue
                subject, body = words.default(name)
                values = {
                    "title": title,
                    "subject": subject,
                    "in_use": True,
                    "placeholders": "You may use: " + ", ".join("{" + p + "}" for p in words.placeholders(name)),
                }
                blocks = [paragraph(p) for p in normal_body(body).split("\n\n")]
                self._make(MESSAGE, name, values, blocks, short_hash(message_terms(values, body)), deadline)
                say(f"notion: Messages: wrote {title}")
                made += 1
        return made

    def _make(
        self,
        entity: Entity,
        key: str,
        values: dict[str, Any],
        blocks: list[dict[str, Any]],
        hash_: str,
        deadline: float | None,
    ) -> None:
        ids = self._ports.ids(entity.name)
        props = {
            key_of(ids, f.property): to_property(f.kind, f.to_notion_value(values.get(f.column))) for f in entity.fields
        } | atelier_id_value(ids, entity.name, key)
        source = str(self._source(entity))
        page = self._ports.notion.create_page(
            source,
            f"{entity.name}:{key}",
            props,
            children=blocks,
            id_property=key_of(ids, "Atelier ID"),
            deadline=deadline,
        ).page
        self._ports.rpc.rpc(
            "link_source_page", p_source=entity.name, p_key=key, p_page_id=str(page["id"]), p_hash=hash_
        )

    # -- reading the team's edits --------------------------------------------------------------

    def poll(self, *, now: datetime, deadline: float | None = None) -> SourceReport:
        """The pages edited since each source was last read (less Notion's rounding), applied."""
        report = SourceReport()
        watermarks = self._ports.rpc.rpc("sync_watermarks") or {}
        for entity in (SERVICE, MESSAGE):
            source = self._source(entity)
            if not source:
                continue
            last = watermarks.get(source)
            since = (datetime.fromisoformat(last) if last else datetime(2020, 1, 1, tzinfo=now.tzinfo)) - LAG
            pages = self._ports.notion.edited_between(source, since, now + timedelta(minutes=1), deadline=deadline)
            self.apply(entity.name, pages, report, deadline=deadline)
            self._ports.rpc.rpc(
                "note_source_watermark", p_entity=entity.name, p_data_source_id=source, p_watermark=now.isoformat()
            )
        return report

    def entity_of(self, page: dict[str, Any]) -> str | None:
        parent = str((page.get("parent") or {}).get("data_source_id") or "").replace("-", "")
        for entity in (SERVICE, MESSAGE):
            if parent and str(self._source(entity) or "").replace("-", "") == parent:
                return entity.name
        return None

    def apply(
        self, entity: str, pages: list[dict[str, Any]], report: SourceReport, *, deadline: float | None = None
    ) -> None:
        """Apply what the edited pages show (a service edit reads the whole catalogue: bands are checked together)."""
        if not pages:
            return
        bot = self._ports.notion.bot_id(deadline=deadline)
        if entity == "service":
            source = str(self._source(SERVICE))
            every = [p for p in self._ports.notion.query(source, deadline=deadline) if not p.get("in_trash")]
            self._services(every, bot, report, deadline)
        else:
            for page in pages:
                if not page.get("in_trash"):
                    self._message(page, bot, report, deadline)

    def _known(self, source: str) -> dict[str, dict[str, Any]]:
        return {str(k): v for k, v in (self._ports.rpc.rpc("source_pages", p_source=source) or {}).items()}

    def _refuse(
        self,
        source: str,
        key: str,
        page: dict[str, Any],
        hash_: str,
        reason: str,
        author: dict[str, str] | None,
        report: SourceReport,
    ) -> None:
        report.refused += 1
        self._ports.rpc.rpc(
            "refuse_source_edit",
            p_source=source,
            p_key=key[:100],
            p_page_id=str(page["id"]),
            p_hash=hash_,
            p_reason=reason,
            p_author=author,
        )

    def _services(self, pages: list[dict[str, Any]], bot: str, report: SourceReport, deadline: float | None) -> None:
        known, ids = self._known("service"), self._ports.ids("service")
        given, fresh, author = [], False, None
        for page in pages:
            report.read += 1
            page_id = str(page["id"])
            key = page_record_id(SERVICE, page, ids) or str((known.get(page_id) or {}).get("key") or "")
            who = author_of(self._ports, page, bot, deadline)
            if not key.isdigit():
                self._refuse(
                    "service",
                    page_id,
                    page,
                    "unknown",
                    (
                        "Atelier's services are the pages `atelier notion setup` wrote, one per tier; a new service is "
                        "added by an admin in Supabase first, then appears here"
                    ),
                    who,
                    report,
                )
                continue
            blocks = self._ports.notion.list_blocks(page_id, deadline=deadline)
            milestones = milestones_of(blocks)
            values = SERVICE.values(page, ids=ids)
            terms = service_terms(key, values, milestones if isinstance(milestones, list) else [])
            hash_ = short_hash(terms if isinstance(milestones, list) else {"terms": terms, "problem": milestones})
            state = known.get(page_id) or {}
            if hash_ == state.get("applied_hash"):
                continue
            if isinstance(milestones, str):
                if hash_ != state.get("refused_hash"):
                    self._refuse("service", key, page, hash_, milestones, who, report)
                continue
            fresh = fresh or hash_ != state.get("refused_hash")
            author = author or who
            given.append(terms | {"page_id": page_id, "hash": hash_})
        if not given or not fresh:
            return  # nothing new: what was refused stays refused, without a second comment
        outcome = self._ports.rpc.rpc("apply_services", p_tiers=given, p_author=author) or {}
        if outcome.get("refused"):
            report.refused += 1
        applied = [int(t) for t in outcome.get("applied") or []]
        report.applied += len(applied)
        if applied and self._ports.catalogue_changed is not None:
            self._ports.catalogue_changed(applied, deadline)  # Stripe's Product and Price, when Stripe is real

    def _message(self, page: dict[str, Any], bot: str, report: SourceReport, deadline: float | None) -> None:
        words = self._ports.words
        if words is None:
            return
        report.read += 1
        ids, page_id = self._ports.ids("message"), str(page["id"])
        known = self._known("message").get(page_id) or {}
        name = page_record_id(MESSAGE, page, ids) or str(known.get("key") or "")
        who = author_of(self._ports, page, bot, deadline)
        if name not in words.names():
            self._refuse(
                "message",
                name or page_id,
                page,
                "unknown",
                (
                    "Atelier sends no e-mail for this page: its e-mails are the pages `atelier notion setup` wrote, "
                    "one each"
                ),
                who,
                report,
            )
            return
        terms = message_terms(
            MESSAGE.values(page, ids=ids), message_body(self._ports.notion.list_blocks(page_id, deadline=deadline))
        )
        hash_ = short_hash(terms)
        if hash_ in (known.get("applied_hash"), known.get("refused_hash")):
            return
        problem = words.check(name, terms["subject"], terms["body"])
        if problem:
            self._refuse("message", name, page, hash_, problem, who, report)
            return
        self._ports.rpc.rpc(
            "apply_mail_template",
            p_name=name,
            p_subject=terms["subject"],
            p_body=terms["body"],
            p_in_use=terms["in_use"],
            p_page_id=page_id,
            p_hash=hash_,
            p_author=who,
        )
        report.applied += 1


def read_source_page(ports: SyncPorts, page: dict[str, Any], deadline: float | None) -> tuple[str | None, SourceReport]:
    """A webhook's page, if it is a Services or Messages page: applied now; returns its entity (None: not ours)
    and what became of it."""
    sources, report = SourceSync(ports), SourceReport()
    entity = sources.entity_of(page)
    if entity is not None:
        sources.apply(entity, [page], report, deadline=deadline)
    return entity, report
