"""`notion setup` makes the owner's chart views on Projects (by status, by tier, amount paid by month), once; the
emulator checks what a view names against the data source; project pages carry the amount paid and its day."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway
from atelier.notion.errors import NotionError
from atelier.sync.setup import setup
from atelier.sync.views import VIEWS
from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.notion_emulator import NotionEmulator
from atelier_local.samples import paid_project, stored_lead
from atelier_local.stack import LocalStack, scheduled_event

Conn = psycopg.Connection[tuple[object, ...]]


def _views(gateway: NotionGateway, data_source_id: str) -> dict[str, dict[str, Any]]:
    return {str(v["name"]): v for v in gateway.list_views(data_source_id)}


def test_setup_makes_the_owners_charts_on_projects_once(
    gateway: NotionGateway, notion: NotionEmulator, rpc: PsycopgRpc
) -> None:
    first = setup(gateway, notion.parent_page_id, rpc=rpc, say=lambda _: None)
    source = first.ids["project"].data_source_id
    schema = gateway.retrieve_data_source(source)["properties"]
    views = _views(gateway, source)
    assert set(views) == {v.name for v in VIEWS if v.entity == "project"}
    by_status = views["Projects by status"]["configuration"]
    assert by_status["type"] == "chart"
    assert by_status["x_axis"]["property_id"] == schema["Status"]["id"]
    assert by_status["y_axis"] == {"aggregator": "count"}
    assert views["Projects by tier"]["configuration"]["x_axis"]["property_name"] == "Tier"
    money = views["Amount paid by month"]["configuration"]
    assert money["x_axis"] == {
        "type": "date",
        "property_id": schema["Paid On"]["id"],
        "group_by": "month",
        "sort": {"type": "ascending"},
        "property_name": "Paid On",
    }
    assert money["y_axis"] == {"aggregator": "sum", "property_id": schema["Amount Paid"]["id"]}

    # The team renames a property and a view: the second run makes nothing (the view is theirs now, by id)
    gateway.update_data_source(source, {schema["Amount Paid"]["id"]: {"name": "Paid"}})
    second = setup(gateway, notion.parent_page_id, rpc=rpc, say=lambda _: None)
    assert second.views_made == []
    assert len(_views(gateway, source)) == 4
    assert first.views_made == [v.name for v in VIEWS if v.entity == "project"] + [
        v.name for v in VIEWS if v.entity != "project"
    ]


def test_the_teams_boards_timeline_and_gallery(gateway: NotionGateway, notion: NotionEmulator, rpc: PsycopgRpc) -> None:
    ids = setup(gateway, notion.parent_page_id, rpc=rpc, say=lambda _: None).ids
    board = _views(gateway, ids["project"].data_source_id)["Projects board"]
    schema = gateway.retrieve_data_source(ids["project"].data_source_id)["properties"]
    assert board["type"] == "board"
    assert board["configuration"]["group_by"]["property_id"] == schema["Status"]["id"]
    assert board["configuration"]["sub_group_by"]["property_name"] == "Tier"  # a lane per tier
    timeline = _views(gateway, ids["milestone"].data_source_id)["Milestones timeline"]
    assert timeline["configuration"]["date_property_name"] == "Due"
    assert _views(gateway, ids["deliverable"].data_source_id)["Deliverables gallery"]["type"] == "gallery"
    leads = _views(gateway, ids["lead"].data_source_id)["Leads board"]["configuration"]
    assert leads["group_by"]["property_name"] == "Needs Review"
    assert leads["group_by"]["sort"] == {"type": "descending"}  # checked ("needs review") first


def test_the_emulator_refuses_a_view_that_names_what_is_not_there(
    gateway: NotionGateway, notion: NotionEmulator
) -> None:
    source = setup(gateway, notion.parent_page_id, say=lambda _: None).ids["project"].data_source_id
    schema = gateway.retrieve_data_source(source)["properties"]
    wrong: list[tuple[str, dict[str, Any]]] = [
        (
            "chart",
            {
                "type": "chart",
                "chart_type": "column",
                "x_axis": {"type": "select", "property_id": "nope", "sort": {"type": "manual"}},
            },
        ),
        (
            "chart",
            {
                "type": "chart",
                "chart_type": "column",
                "y_axis": {"aggregator": "sum", "property_id": schema["Tier"]["id"]},
            },
        ),
        (
            "board",
            {
                "type": "board",
                "group_by": {"type": "select", "property_id": schema["Paid On"]["id"], "sort": {"type": "manual"}},
            },
        ),
        ("board", {"type": "chart", "chart_type": "column"}),
        ("calendar", {"type": "calendar", "date_property_id": schema["Tier"]["id"]}),
    ]
    for view_type, configuration in wrong:
        with pytest.raises(NotionError) as refused:
            gateway.create_view(source, "Wrong", view_type, configuration)
        assert refused.value.code == "validation_error"
    assert gateway.list_views(source) == []


def test_a_paid_project_shows_its_amount_and_day_in_notion_and_a_refund_takes_it_back(
    stack: LocalStack, rpc: PsycopgRpc, db: Conn
) -> None:
    stack.setup_notion()
    project = paid_project(rpc, stored_lead(rpc))
    gateway = NotionGateway(stack.settings["NOTION_TOKEN"], base_url=stack.settings["NOTION_BASE_URL"])

    def shown() -> tuple[object, object]:
        LocalLambdas().invoke("notion_sync", scheduled_event(), timeout_seconds=60)
        row = db.execute("select notion_page_id from projects where id = %s", (project,)).fetchone()
        assert row is not None
        properties = gateway.retrieve_page(str(row[0]))["properties"]
        return properties["Amount Paid"]["number"], (properties["Paid On"]["date"] or {}).get("start")

    assert shown() == (7500, datetime.now(UTC).date().isoformat())
    intent = db.execute("select stripe_payment_intent_id from payments where project_id = %s", (project,)).fetchone()
    assert intent is not None
    rpc.rpc(
        "apply_stripe_event",
        p_event_id="evt_refund_views",
        p_event_type="charge.refunded",
        p_kind="refund",
        p_reason=None,
        p_lead_id=None,
        p_tier=None,
        p_checkout_session_id=None,
        p_payment_intent_id=intent[0],
        p_customer_id=None,
        p_email=None,
        p_amount=750000,
        p_amount_refunded=250000,
        p_currency="usd",
    )
    assert shown()[0] == 5000  # net of the partial refund, pushed because the payment changed
