"""The one declarative mapping between Postgres records and Notion pages, and who owns each field.

For each entity: its data source, and for each field the Notion property (name, type) and the side that owns it.
The sync pushes Postgres-owned fields and pulls Notion-owned ones; a person's edit to a field Postgres owns is put
back, with a comment saying where it is changed instead (`guide`)."""

from __future__ import annotations

from atelier.sync.fields import FROM_ATELIER as FROM_ATELIER
from atelier.sync.fields import Entity as Entity
from atelier.sync.fields import Field as Field
from atelier.sync.fields import Owner as Owner

# Where a field Postgres owns is changed, said once per kind of field (the comment a person's edit gets).
FROM_THE_FORM = (
    "it comes from the client's intake form and the studio's routing; to correct it, ask an admin to edit the lead "
    "in Supabase"
)
FROM_PAYMENT = (
    "it follows the client's payment in Stripe; a refund or a change of tier is made there or by an admin in Supabase"
)
FROM_UPLOAD = "it comes from the file uploaded to the deliverables bucket; upload a new version instead"
FROM_CLIENT = "the client gives it in the portal; it is their word, kept as they gave it"
APPROVALS = ("waiting", "approved", "changes_requested")
APPROVAL_WORDS = {"changes_requested": "Changes asked"}


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
        Field("balance_due", "Balance Due", "number", guide=FROM_PAYMENT),  # the instalments not yet paid
        Field("disputed", "Disputed", "number", guide=FROM_PAYMENT),  # under dispute or lost, in the main unit
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
        # Atelier's link to the file; a file the team drops here becomes a new deliverable (`sync.files`).
        Field("file_url", "File", "files", guide=FROM_UPLOAD),
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

TASK_STATUS_NAMES = {"open": "Not started", "in_progress": "In progress", "done": "Done"}
TASK_KINDS = ("contact_client", "review_quote", "prepare_kickoff", "team")
FROM_THE_PROCESS = "Atelier sets it when it makes the task; make a task of your own for other work"
TASK = Entity(
    "task",
    "tasks",
    "Tasks",
    (
        Field("title", "Name", "title", owner=Owner.notion),
        Field("status", "Status", "status", owner=Owner.notion, out=TASK_STATUS_NAMES),
        Field("due_date", "Due", "date", owner=Owner.notion),
        Field("assignee", "Assignee", "people", owner=Owner.notion),
        Field("completed_at", "Completed", "date", owner=Owner.notion),
        Field(
            "kind",
            "Kind",
            "select",
            options=TASK_KINDS,
            out=_words(TASK_KINDS, contact_client="Contact the client", team="The team's own"),
            guide=FROM_THE_PROCESS,
        ),
        Field("project_page", "Project", "relation", relation_to="project", synced_as="Tasks", guide=FROM_THE_PROCESS),
        Field("lead_page", "Lead", "relation", relation_to="lead", synced_as="Tasks", guide=FROM_THE_PROCESS),
    ),
)

# Parents before children: a relation needs the page it points at.
ENTITIES: tuple[Entity, ...] = (LEAD, CLIENT, PROJECT, MILESTONE, DELIVERABLE, TASK)

# The team's catalogue and words (`atelier.sync.sources`): every field is the team's; Postgres wrote the first pages.
ROUTINGS = ("auto", "conditional", "manual")
SERVICE = Entity(
    "service",
    "tiers",
    "Services",
    (
        Field("name", "Name", "title", owner=Owner.notion),
        Field("description", "Description", "rich_text", owner=Owner.notion),
        Field("features", "Features", "rich_text", owner=Owner.notion),  # one per line
        Field("price", "Price", "number", owner=Owner.notion),  # in the currency's main unit
        Field("budget_from", "Budget From", "number", owner=Owner.notion),
        Field("budget_to", "Budget To", "number", owner=Owner.notion),  # empty: no upper end
        Field(
            "routing",
            "Routing",
            "select",
            owner=Owner.notion,
            options=ROUTINGS,
            out={"auto": "Automatic", "conditional": "Conditional", "manual": "Team review"},
        ),
        Field("active", "Active", "checkbox", owner=Owner.notion),
    ),
)
MESSAGE = Entity(
    "message",
    "mail_templates",
    "Messages",
    (
        Field("title", "Name", "title", owner=Owner.notion),
        Field("subject", "Subject", "rich_text", owner=Owner.notion),
        Field("in_use", "In Use", "checkbox", owner=Owner.notion),
        Field("placeholders", "Placeholders", "rich_text", owner=Owner.notion),
    ),
)
SOURCES: tuple[Entity, ...] = (SERVICE, MESSAGE)
BY_NAME = {e.name: e for e in ENTITIES + SOURCES}


def synced_names(entity: str) -> set[str]:
    """The properties Notion keeps on an entity's data source for other entities' two-way relations (a project's
    Milestones and Deliverables, a client's Projects): Notion's to keep, not the team's own."""
    return {f.synced_as for e in ENTITIES for f in e.fields if f.relation_to == entity and f.synced_as}
