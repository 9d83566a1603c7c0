"""Owns Notion itself: the port, its gateway, errors, budget, paging, the property mapping, the workspace set-up.
May import: kernel."""

from atelier.notion.budget import DEFAULT_RATE, PROCESS_BUDGET, RequestBudget
from atelier.notion.errors import Failure, NotionError, RetryLater, classify
from atelier.notion.gateway import (
    ENDPOINTS,
    MAX_BLOCKS_PER_APPEND,
    MAX_PAGE_SIZE,
    NotionGateway,
    gateway_from_settings,
)
from atelier.notion.paging import CursorPaginator
from atelier.notion.port import Created, NotionPort
from atelier.notion.transport import NOTION_VERSION, SINGLE_PART_UPLOAD_BYTES

__all__ = [
    "DEFAULT_RATE",
    "ENDPOINTS",
    "MAX_BLOCKS_PER_APPEND",
    "MAX_PAGE_SIZE",
    "NOTION_VERSION",
    "PROCESS_BUDGET",
    "SINGLE_PART_UPLOAD_BYTES",
    "Created",
    "CursorPaginator",
    "Failure",
    "NotionError",
    "NotionGateway",
    "NotionPort",
    "RequestBudget",
    "RetryLater",
    "classify",
    "gateway_from_settings",
]
