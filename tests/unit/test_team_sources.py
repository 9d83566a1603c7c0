"""The pure parts of the team's catalogue and words: a Services page's milestones and terms, a Messages page's
wording checked and written, a project page's team content as Markdown (its Internal section kept back), and the
portal's rendering of it."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from atelier.mail.wording import CLIENT_MAIL, check, default, placeholders, written
from atelier.portal.notes import studio_notes
from atelier.sync.blocks import block, heading, item, paragraph, to_markdown
from atelier.sync.notes import team_part
from atelier.sync.source_terms import cents, main_unit, message_body, milestones_of, normal_body, service_terms

BOT, PERSON = "bot-id", "person-id"


def _by(author: str, b: dict[str, Any]) -> dict[str, Any]:
    kind = b["type"]
    text = b[kind]["rich_text"]
    return {
        **b,
        kind: {"rich_text": [{**t, "plain_text": t["text"]["content"]} for t in text]},
        "created_by": {"id": author},
    }


def test_milestones_are_read_under_their_heading_with_their_days() -> None:
    blocks = [
        paragraph("How to list them: Name: day N"),
        heading("Milestones"),
        item("Concept design: day 14"),
        item("Revisions - day 21"),
        item("Final package (28 days)"),
        heading("Notes"),
        item("Not one: day 3"),
    ]
    assert milestones_of([_by(BOT, b) for b in blocks]) == [
        {"name": "Concept design", "days": 14},
        {"name": "Revisions", "days": 21},
        {"name": "Final package", "days": 28},
    ]


def test_a_milestone_line_without_its_day_is_refused_saying_how_to_write_it() -> None:
    said = milestones_of([_by(PERSON, heading("Milestones")), _by(PERSON, item("Site visit"))])
    assert isinstance(said, str)
    assert "Site visit" in said
    assert "day 14" in said


def test_no_milestones_listed_is_an_empty_list_for_the_database_to_refuse() -> None:
    assert milestones_of([_by(PERSON, heading("Milestones"))]) == []


@given(st.integers(min_value=0, max_value=10**12))
def test_cents_and_the_main_unit_round_trip(value: int) -> None:
    assert cents(main_unit(value)) == value


def test_service_terms_read_notions_values_as_the_catalogue_holds_them() -> None:
    values = {
        "name": " The Concept ",
        "features": "- Discovery call\n\n• One revision round",
        "price": 2900,
        "budget_from": 2500,
        "budget_to": None,
        "routing": "auto",
        "active": True,
        "description": None,
    }
    terms = service_terms("1", values, [{"name": "Call", "days": 0}])
    assert terms["name"] == "The Concept"
    assert terms["features"] == ["Discovery call", "One revision round"]
    assert (terms["price_cents"], terms["min_budget_cents"], terms["max_budget_cents"]) == (290000, 250000, None)
    assert service_terms("1", {**values, "price": None}, [])["price_cents"] is None


def test_every_default_wording_passes_its_own_check_and_reads_back_as_written() -> None:
    for name in CLIENT_MAIL:
        subject, body = default(name)
        assert check(name, subject, body) is None, name
        blocks = [_by(BOT, paragraph(p)) for p in normal_body(body).split("\n\n")]
        assert message_body(blocks) == normal_body(body)
        assert "$" not in subject + body  # the files' `$name` became `{name}`


def test_an_unknown_placeholder_is_refused_naming_the_ones_that_may_be_used() -> None:
    said = check("milestone_completed", "Done: {milestone}", "Dear {client_name}")
    assert said is not None
    assert "{milestone}" in said
    assert "{milestone_name}" in said
    assert check("milestone_completed", "", "x") is not None
    assert check("milestone_completed", "x", "  ") is not None
    assert set(placeholders("portal_sign_in")) >= {"sign_in_url", "client_name", "signature"}


def test_the_teams_wording_is_written_with_values_escaped_and_blocks_in_their_own_html() -> None:
    subject, text, html = written(
        "Done: {milestone_name}",
        "Dear {client_name},\n\nSee {portal_url}\n\n{milestones}",
        {
            "milestone_name": "Concept\nSecond line",
            "client_name": "Ann <b>",
            "portal_url": "https://x.example/p",
            "milestones_text": "- Concept: done",
        },
        {"milestones_html": "<ul><li>Concept</li></ul>"},
    )
    assert subject == "Done: Concept Second line"  # a subject is one line
    assert "Dear Ann <b>," in text
    assert "Ann &lt;b&gt;" in html
    assert '<a href="https://x.example/p">' in html
    assert "<ul><li>Concept</li></ul>" in html


def test_the_teams_part_of_a_project_page_leaves_atelier_out_and_its_internal_section_back() -> None:
    blocks = [
        _by(BOT, heading("Brief")),
        _by(BOT, item("Tier: The Builder")),
        _by(PERSON, heading("Our brief")),
        _by(PERSON, paragraph("Open the kitchen to the garden.")),
        _by(PERSON, block("heading_2", "Internal")),
        _by(PERSON, paragraph("Hold the fee.")),
        _by(PERSON, block("heading_3", "Still internal")),
        _by(PERSON, block("heading_2", "Schedule")),
        _by(PERSON, item("Survey in May")),
        _by(BOT, item("2026-12-04: Paid")),
    ]
    team, shown = team_part(blocks, BOT)
    everything, public = to_markdown(team), to_markdown(shown)
    assert "Tier: The Builder" not in everything
    assert "Hold the fee." in everything
    assert public == "## Our brief\n\nOpen the kitchen to the garden.\n\n## Schedule\n\n- Survey in May"


def test_the_portal_shows_the_studios_notes_as_safe_html() -> None:
    html = studio_notes(
        "## Plan\n\n**Oak** <script>x</script> [site](https://x.example) [no](javascript:alert(1))\n\n- a"
    )
    assert "<h4>Plan</h4>" in html
    assert "<strong>Oak</strong>" in html
    assert "<script>" not in html
    assert 'href="https://x.example"' in html
    assert 'href="javascript' not in html
    assert "<ul>\n<li>a</li>\n</ul>" in html
    assert studio_notes("   ") == ""


class _Stripe:
    """Stripe's v1 products and prices, as far as the catalogue uses them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.v1 = self
        self.products = self.prices = self

    def create(self, params: dict[str, Any]) -> Any:
        kind = "price" if "unit_amount" in params else "product"
        self.calls.append((f"{kind}.create", params))
        return type("Made", (), {"id": f"{kind}_{len(self.calls)}"})()

    def update(self, product: str, params: dict[str, Any]) -> None:
        self.calls.append(("product.update", (product, params)))


class _Rpc:
    def __init__(self, tiers: list[dict[str, Any]]) -> None:
        self.tiers = tiers
        self.set: list[dict[str, Any]] = []

    def rpc(self, name: str, **args: Any) -> Any:
        if name == "catalogue":
            return {"tiers": self.tiers}
        self.set.append(args)
        return {}


def test_a_changed_tier_gets_a_new_stripe_price_and_its_product_follows_its_name() -> None:
    from atelier.payments.stripe_catalogue import StripeCatalogue

    tiers = [
        {
            "id": 1,
            "name": "The Concept",
            "description": "",
            "price_cents": 290000,
            "currency": "usd",
            "stripe_product_id": "prod_1",
            "stripe_price_id": None,
        },
        {
            "id": 2,
            "name": "The Builder",
            "description": "",
            "price_cents": 750000,
            "currency": "usd",
            "stripe_product_id": "prod_2",
            "stripe_price_id": "price_2",
        },
    ]
    stripe, rpc = _Stripe(), _Rpc(tiers)
    assert StripeCatalogue(rpc, lambda: stripe)([1], None) == 1  # type: ignore[arg-type]
    assert [name for name, _ in stripe.calls] == ["product.update", "price.create"]
    assert stripe.calls[1][1] == {"product": "prod_1", "unit_amount": 290000, "currency": "usd"}
    assert rpc.set == [{"p_tier": 1, "p_product_id": "prod_1", "p_price_id": "price_2", "p_price_cents": 290000}]
