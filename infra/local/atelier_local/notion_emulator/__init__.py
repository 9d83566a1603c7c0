"""A stateful stand-in for Notion's API (version 2025-09-03), for tests and the local run.

It keeps databases, data sources, pages, blocks, file uploads and views in memory and behaves as Notion does
where Atelier depends on it: `last_edited_time` rounded down to the minute, `last_edited_by` the bot for
API writes and a person for writes made with the human token, cursors and `page_size` <= 100, the size
limits (2,000 characters per rich text item, 100 items or blocks per array), Notion's error JSON, and a
rate limit answered with 429 and Retry-After. Faults can be injected: 5xx (500/503/529), timeouts, and
"commit then fail" (the write takes effect, the caller gets a 500).

One process, in parts: `server` (HTTP, auth, control, the route table), `store` (pages, databases, data
sources), `content` (blocks, file uploads), `query` (filters, sorts, search, cursors), `schema` (property
validation), `views` (views of a data source, checked against its schema), `faults` (rate limit, injected
errors), `webhooks` (signed events for a person's changes) and
`state` (what is kept, and Notion's id and time rules).

Control endpoints under /_control: POST /_control/faults, POST /_control/reset, GET /_control/requests,
POST /_control/edit-as-human {page_id, properties} (as do API writes made with the human token), and the webhooks
(`webhooks`): POST /_control/webhooks {url, delay_seconds} subscribes (the handshake first), GET lists the
deliveries, DELETE unsubscribes, POST /_control/webhooks/flush delivers what is queued now.
`POST /v1/databases` and the file-upload endpoints are not in Notion's published OpenAPI file; they follow
https://developers.notion.com/reference/database-create and .../reference/create-a-file-upload.
"""

from atelier_local.notion_emulator.content import MAX_UPLOAD_BYTES
from atelier_local.notion_emulator.faults import Faults
from atelier_local.notion_emulator.schema import ARRAY_LIMIT, RICH_TEXT_LIMIT
from atelier_local.notion_emulator.server import NotionEmulator, Validator
from atelier_local.notion_emulator.state import BOT_ID, PERSON_ID, ApiError, NotionState

__all__ = [
    "ARRAY_LIMIT",
    "BOT_ID",
    "MAX_UPLOAD_BYTES",
    "PERSON_ID",
    "RICH_TEXT_LIMIT",
    "ApiError",
    "Faults",
    "NotionEmulator",
    "NotionState",
    "Validator",
]
