"""The views `atelier notion setup` makes for the team and the owner: boards, tables and charts over the mapping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Group:
    """How a board or a chart groups pages: by a property (the mapping's key), of a kind Notion can group by."""

    key: str
    kind: str  # "select", "status", "checkbox" or "date" (by month)
    sort: str = "manual"  # "manual" keeps the options' order; "descending" puts a checked box first

    def configuration(self, ids: Mapping[str, str]) -> dict[str, Any]:
        group: dict[str, Any] = {"type": self.kind, "property_id": ids[self.key], "sort": {"type": self.sort}}
        if self.kind == "date":
            group["group_by"] = "month"
        elif self.kind == "status":
            group["group_by"] = "option"
        return group


@dataclass(frozen=True)
class View:
    """A view of one entity's data source. View filters cannot be sent in a form the API's own types accept (they
    are typed as empty objects), so a view shows every page and splits them by groups instead."""

    entity: str
    name: str
    type: str  # "chart", "board", "timeline" or "gallery"
    group: Group | None = None  # a board's columns, a chart's x axis
    lanes: Group | None = None  # a board's rows
    date: str | None = None  # a timeline's date
    total: str | None = None  # the number property a chart sums; None counts pages
    chart_type: str = "column"

    def configuration(self, ids: Mapping[str, str]) -> dict[str, Any]:
        if self.type == "board" and self.group is not None:
            board: dict[str, Any] = {"type": "board", "group_by": self.group.configuration(ids)}
            if self.lanes is not None:
                board["sub_group_by"] = self.lanes.configuration(ids)
            return board
        if self.type == "timeline" and self.date is not None:
            return {"type": "timeline", "date_property_id": ids[self.date], "show_table": True}
        if self.type == "gallery":
            return {"type": "gallery", "cover": {"type": "page_content"}, "card_layout": "list"}
        if self.type == "chart" and self.group is not None:
            total = {"aggregator": "sum", "property_id": ids[self.total]} if self.total else {"aggregator": "count"}
            return {
                "type": "chart",
                "chart_type": self.chart_type,
                "x_axis": self.group.configuration(ids),
                "y_axis": total,
                "show_data_labels": True,
            }
        raise ValueError(f"the view {self.name!r} is not one setup knows how to make")


VIEWS: tuple[View, ...] = (
    # The owner's charts.
    View("project", "Projects by status", "chart", Group("Status", "select")),
    View("project", "Projects by tier", "chart", Group("Tier", "select"), chart_type="donut"),
    View("project", "Amount paid by month", "chart", Group("Paid On", "date", sort="ascending"), total="Amount Paid"),
    # The team's boards: the design's Kanban per tier is a board by status with a lane for each tier.
    View("project", "Projects board", "board", Group("Status", "select"), lanes=Group("Tier", "select")),
    View("milestone", "Milestones timeline", "timeline", date="Due"),
    View("deliverable", "Deliverables gallery", "gallery"),
    View(
        "lead",
        "Leads board",
        "board",
        Group("Needs Review", "checkbox", sort="descending"),
        lanes=Group("Status", "select"),
    ),
)
