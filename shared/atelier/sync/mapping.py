"""The one declarative mapping between Postgres records and Notion pages, and who owns each field.

For each entity: its data source, and for each field the Notion property (name, type) and the side that owns it.
The sync pushes Postgres-owned fields and pulls Notion-owned ones; a person's edit to a field Postgres owns is put
back, with a comment saying where it is changed instead (`guide`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from atelier.notion.codec import (
    ATELIER_ID,
    LAST_SYNCED,
    NO_IDS,
    Ids,
    find_property,
    from_property,
    key_of,
    select_name,
    to_property,
)

# Where a field Postgres owns is changed, said once per kind of field (the comment a person's edit gets).
FROM_THE_FORM = (
    "it comes from the client's intake form and the studio's routing; to correct it, ask an admin to edit the lead "
    "in Supabase"
)
FROM_PAYMENT = (
    "it follows the client's payment in Stripe; a refund or a change of tier is made there or by an admin in Supabase"
)
FROM_ATELIER = "Atelier sets it; ask an admin to change it in Supabase, and Notion follows within a minute"
FROM_UPLOAD = "it comes from the file uploaded to the deliverables bucket; upload a new version instead"
FROM_CLIENT = "the client gives it in the portal; it is their word, kept as they gave it"
APPROVALS = ("waiting", "approved", "changes_requested")
APPROVAL_WORDS = {"changes_requested": "Changes asked"}


class Owner(StrEnum):
    postgres = "postgres"
    notion = "notion"  # Notion owns the field once the page exists; Postgres sets its first value
    # The team decides it in Notion, and Atelier writes it too when its own state moves it (a payment converts a
    # lead): pulled like Notion's, pushed like Postgres' whenever Postgres' value is not the one last pushed.
    shared = "shared"


@dataclass(frozen=True)
class Field:
    column: str  # the record's key
    property: str  # the Notion property name
    kind: str  # a key of TYPES
    owner: Owner = Owner.postgres
    options: tuple[str, ...] = ()  # select/status option names
    relation_to: str | None = None  # the entity a relation points at
    # Postgres value <-> Notion value, where they differ (e.g. milestone status names)
    out: dict[str, str] = field(default_factory=dict)
    # For a field Postgres owns: why, and where the team changes it instead (the comment a hand edit gets)
    guide: str = ""
    # For a relation: the name of its other side, which Notion keeps on the page it points at (two-way)
    synced_as: str | None = None
    # The options are the catalogue's tier names (Postgres' `tiers`), not the mapping's
    tier_names: bool = False

    def to_notion_value(self, value: Any) -> Any:
        """The studio's word for a code ("in_progress" is "In progress"); each item of a list alike."""
        if self.out and isinstance(value, list):
            return [self.out.get(str(item), item) for item in value]
        if self.out and value is not None:
            value = self.out.get(str(value), value)
        return value

    def from_notion_value(self, value: Any) -> Any:
        """Back to the code; a code typed as it is (a page from before the labels) reads as itself."""
        if self.out and value is not None:
            back = {v: k for k, v in self.out.items()}
            if isinstance(value, list):
                return [back.get(str(item), item) for item in value]
            value = back.get(str(value), value)
        return value

    def labels(self, tiers: tuple[str, ...] = ()) -> tuple[str, ...]:
        """The option names Notion shows for this field: the labels of its codes, in the mapping's order; for a tier
        field, the catalogue's tier names (`tiers`, none when the catalogue cannot be read)."""
        return (
            tuple(select_name(name) for name in tiers)
            if self.tier_names
            else tuple(select_name(self.out.get(o, o)) for o in self.options)
        )


@dataclass(frozen=True)
class Entity:
    name: str  # as in sync_outbox.entity
    table: str
    data_source_title: str
    fields: tuple[Field, ...]

    @property
    def title_field(self) -> Field:
        return next(f for f in self.fields if f.kind == "title")

    def put_back(self, properties: list[str]) -> str:
        """The comment a person's edit to fields Postgres owns gets: what was put back, why, and where to change it."""
        fields = [f for f in self.fields if f.property in properties]
        names = ", ".join(f'"{f.property}"' for f in fields) or "a field"
        reasons = list(dict.fromkeys(f.guide or FROM_ATELIER for f in fields))
        return (
            f"Atelier put back {names} on this page: Atelier keeps {'these' if len(fields) > 1 else 'it'} in "
            f"step with its records, so an edit here would not last. Why, and where to change it: "
            + "; ".join(reasons)
            + "."
        )

    def owned_by(self, owner: Owner) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.owner is owner)

    def team_fields(self) -> tuple[Field, ...]:
        """The fields a person's edit is read back from: Notion's and the shared ones."""
        return tuple(f for f in self.fields if f.owner in (Owner.notion, Owner.shared))

    def pushed_fields(self) -> tuple[Field, ...]:
        """The fields a push sends when Postgres' value moves: Postgres' and the shared ones."""
        return tuple(f for f in self.fields if f.owner in (Owner.postgres, Owner.shared))

    def kinds(self) -> dict[str, str]:
        """Every property the sync needs, by key: the mapped fields, "Atelier ID" and "Last Synced"."""
        return {f.property: f.kind for f in self.fields} | {ATELIER_ID: "rich_text", LAST_SYNCED: "date"}

    def written_options(self, tiers: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
        """The select and status options Atelier writes, by key: each must exist in Notion."""
        out: dict[str, tuple[str, ...]] = {}
        for f in self.fields:
            if f.kind in ("select", "multi_select") and (f.options or (f.tier_names and tiers)):
                out[f.property] = f.labels(tiers)
            elif f.kind == "status" and f.out:
                out[f.property] = tuple(f.out.values())
        return out

    def schema(self, data_source_ids: Mapping[str, str], tiers: tuple[str, ...] = ()) -> dict[str, Any]:
        """The data source's properties as `databases.create` takes them, by key (`tiers`: the catalogue's names)."""
        props: dict[str, Any] = {ATELIER_ID: {"rich_text": {}}, LAST_SYNCED: {"date": {}}}
        for f in self.fields:
            if f.kind in ("select", "status", "multi_select") and (f.options or f.tier_names):
                config: dict[str, Any] = {"options": [{"name": name} for name in f.labels(tiers)]}
            elif f.kind == "relation":
                target = data_source_ids.get(f.relation_to or "")
                config = (
                    (
                        {"data_source_id": target}
                        | (
                            {"dual_property": {"synced_property_name": f.synced_as}}
                            if f.synced_as
                            else {"single_property": {}}
                        )
                    )
                    if target
                    else {}
                )
            else:
                config = {}
            props[f.property] = {f.kind: config}
        return props

    def properties(
        self, record: dict[str, Any], *, fields: tuple[Field, ...] | None = None, ids: Ids = NO_IDS
    ) -> dict[str, Any]:
        """Notion property values for a record's fields (all, or the given ones), keyed by property id."""
        return {
            key_of(ids, f.property): to_property(f.kind, f.to_notion_value(record.get(f.column)))
            for f in fields or self.fields
        }

    def values(
        self, page: dict[str, Any], *, fields: tuple[Field, ...] | None = None, ids: Ids = NO_IDS
    ) -> dict[str, Any]:
        """A page's values by column, for the fields given (all by default); a property missing is left out."""
        out: dict[str, Any] = {}
        for f in fields or self.fields:
            prop = find_property(page, f.property, ids)
            if prop is not None:
                out[f.column] = f.from_notion_value(from_property(f.kind, prop))
        return out

    def missing(self, page: dict[str, Any], ids: Ids = NO_IDS) -> list[str]:
        """The keys of the properties the sync needs that a page does not show (deleted, say)."""
        return sorted(key for key in self.kinds() if find_property(page, key, ids) is None)


PROJECT_STATUSES = ("onboarding", "in_progress", "awaiting_feedback", "revisions", "delivered", "closed")


def _words(codes: tuple[str, ...], **special: str) -> dict[str, str]:
    """Each code as the studio says it ("awaiting_feedback" is "Awaiting feedback"), unless said otherwise."""
    return {code: special.get(code) or code.replace("_", " ").capitalize() for code in codes}


# The studio's words for Postgres' codes: Notion shows these, Postgres keeps the codes (`Field.out`).
LEAD_STATUSES = ("new", "qualified", "needs_review", "converted", "closed")
PROJECT_TYPES = (
    "simple_renovation",
    "standard_renovation",
    "small_addition",
    "standard_addition",
    "major_renovation",
    "new_build",
    "complex_project",
    "multiple_properties",
)
RED_FLAGS = (
    "budget_unclear",
    "timeline_unrealistic",
    "budget_timeline_mismatch",
    "no_assets_fast_timeline",
    "complex_low_budget",
    "multiple_properties",
    "project_type_unclear",
)
CONFIDENCES = ("high", "medium", "low")
CLIENT_STATUSES = ("onboarding", "active", "completed", "closed")
PAYMENT_STATUSES = ("pending", "paid", "refunded")
RED_FLAG_WORDS = _words(
    RED_FLAGS,
    budget_timeline_mismatch="Budget and timeline disagree",
    no_assets_fast_timeline="No survey or drawings on a fast timeline",
    complex_low_budget="Complex work on a low budget",
)
# Milestones use Notion's own status property, whose default options are these.
MILESTONE_STATUS_NAMES = {"pending": "Not started", "in_progress": "In progress", "completed": "Done"}

# The review loop: what the team decides on a lead page (each field's guide says what it does).
REVIEW_TIER = "the tier to quote; routing's recommendation until the team chooses another"
REVIEW_QUOTE = "the amount to quote, in the studio's currency; empty quotes the tier's price"
REVIEW_NOTE = "a note to the client, in the quote's e-mail; on a closed lead, the reason it was declined"
REVIEW_STATUS = (
    'set "Qualified" to send the quote (its e-mail and payment link), "Closed" to decline the lead with one short '
    'e-mail; "Converted" follows the client\'s payment'
)
FROM_THE_QUOTE = "Atelier writes where the lead's quote stands (sent, paid, expired); send a new quote to change it"

LEAD = Entity(
    "lead",
    "leads",
    "Leads",
    (
        Field("name", "Name", "title", guide=FROM_THE_FORM),
        Field("email", "Email", "email", guide=FROM_THE_FORM),
        Field("tier_name", "Tier", "select", owner=Owner.shared, tier_names=True, guide=REVIEW_TIER),
        Field(
            "status",
            "Status",
            "select",
            owner=Owner.shared,
            options=LEAD_STATUSES,
            out=_words(LEAD_STATUSES),
            guide=REVIEW_STATUS,
        ),
        Field("quote", "Quote", "number", owner=Owner.shared, guide=REVIEW_QUOTE),
        Field("quote_note", "Note to Client", "rich_text", owner=Owner.shared, guide=REVIEW_NOTE),
        Field("quote_state", "Quote State", "rich_text", guide=FROM_THE_QUOTE),
        Field("budget_range", "Budget", "rich_text", guide=FROM_THE_FORM),
        Field("timeline_weeks", "Timeline (weeks)", "number", guide=FROM_THE_FORM),
        Field(
            "project_type",
            "Project Type",
            "select",
            options=PROJECT_TYPES,
            out=_words(PROJECT_TYPES),
            guide=FROM_THE_FORM,
        ),
        Field("needs_review", "Needs Review", "checkbox", guide=FROM_THE_FORM),
        Field("routing_reason", "Reason", "rich_text", guide=FROM_THE_FORM),
        Field("confidence", "Confidence", "select", options=CONFIDENCES, out=_words(CONFIDENCES), guide=FROM_THE_FORM),
        Field("red_flags", "Red Flags", "multi_select", options=RED_FLAGS, out=RED_FLAG_WORDS, guide=FROM_THE_FORM),
    ),
)
CLIENT = Entity(
    "client",
    "clients",
    "Clients",
    (
        Field("name", "Name", "title", owner=Owner.notion),
        Field(
            "email",
            "Email",
            "email",
            guide="it is the address the client paid with and signs in to the portal with; "
            "ask an admin to change it in Supabase",
        ),
        Field("tier_name", "Tier", "select", tier_names=True, guide=FROM_PAYMENT),
        Field("status", "Status", "select", options=CLIENT_STATUSES, out=_words(CLIENT_STATUSES), guide=FROM_ATELIER),
        Field("project_address", "Project Address", "rich_text", owner=Owner.notion),
        Field("phone", "Phone", "phone_number", owner=Owner.notion),
        Field("company", "Company", "rich_text", owner=Owner.notion),
    ),
)
PROJECT = Entity(
    "project",
    "projects",
    "Projects",
    (
        Field("name", "Name", "title", owner=Owner.notion),
        Field("tier_name", "Tier", "select", tier_names=True, guide=FROM_PAYMENT),
        Field(
            "client_page",
            "Client",
            "relation",
            relation_to="client",
            synced_as="Projects",
            guide="the project belongs to the client who paid for it; ask an admin in Supabase if it was recorded "
            "against the wrong client",
        ),
        # The team sets it; the client's decisions move it too (awaiting feedback, revisions, back in progress).
        Field("status", "Status", "select", owner=Owner.shared, options=PROJECT_STATUSES, out=_words(PROJECT_STATUSES)),
        Field(
            "payment_status",
            "Payment",
            "select",
            options=PAYMENT_STATUSES,
            out=_words(PAYMENT_STATUSES),
            guide=FROM_PAYMENT,
        ),
        Field("needs_review", "Needs Review", "checkbox", guide=FROM_ATELIER),
        Field(
            "amount_paid", "Amount Paid", "number", guide=FROM_PAYMENT
        ),  # net of refunds, in the currency's main unit
        Field("paid_on", "Paid On", "date", guide=FROM_PAYMENT),
        # Who leads the project: the team sets it, and Atelier mentions them in each comment about the client.
        Field("owner", "Owner", "people", owner=Owner.notion),
        Field("nps", "Client Score", "number", guide=FROM_CLIENT),  # 0-10, asked once at delivery
        Field("client_feedback", "Client Feedback", "rich_text", guide=FROM_CLIENT),
    ),
)
MILESTONE = Entity(
    "milestone",
    "milestones",
    "Milestones",
    (
        Field("name", "Name", "title", guide=FROM_ATELIER),
        Field("project_page", "Project", "relation", relation_to="project", synced_as="Milestones", guide=FROM_ATELIER),
        Field("order", "Order", "number", guide=FROM_ATELIER),
        Field("due_date", "Due", "date", owner=Owner.notion),
        Field("status", "Status", "status", owner=Owner.notion, out=MILESTONE_STATUS_NAMES),
        Field("completed_at", "Completed", "date", owner=Owner.notion),
    ),
)
DELIVERABLE = Entity(
    "deliverable",
    "deliverables",
    "Deliverables",
    (
        Field("name", "Name", "title", guide=FROM_UPLOAD),
        Field(
            "project_page", "Project", "relation", relation_to="project", synced_as="Deliverables", guide=FROM_UPLOAD
        ),
        Field(
            "category",
            "Category",
            "select",
            options=("Document", "Photo", "Drawing", "Render", "Invoice", "Contract", "Other"),
            guide=FROM_UPLOAD,
        ),
        Field("uploaded_on", "Uploaded", "date", guide=FROM_UPLOAD),
        Field("file_url", "File", "url", guide=FROM_UPLOAD),
        Field(
            "approval",
            "Approval",
            "select",
            options=APPROVALS,
            out=_words(APPROVALS, **APPROVAL_WORDS),
            guide=FROM_CLIENT,
        ),
        Field("approval_note", "Client Note", "rich_text", guide=FROM_CLIENT),
    ),
)

# Parents before children: a relation needs the page it points at.
ENTITIES: tuple[Entity, ...] = (LEAD, CLIENT, PROJECT, MILESTONE, DELIVERABLE)
BY_NAME = {e.name: e for e in ENTITIES}


def synced_names(entity: str) -> set[str]:
    """The properties Notion keeps on an entity's data source for other entities' two-way relations (a project's
    Milestones and Deliverables, a client's Projects): Notion's to keep, not the team's own."""
    return {f.synced_as for e in ENTITIES for f in e.fields if f.relation_to == entity and f.synced_as}
