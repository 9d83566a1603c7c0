"""The emulator's responses, type-checked with `tsc --strict` against @notionhq/client's response types.

Notion's OpenAPI file describes requests but not responses, so the official JS SDK's types are the
reference here. Each kind of response the gateway reads is recorded and declared as its full type.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from atelier.notion import NotionGateway
from atelier.notion.codec import ATELIER_ID, rich_text
from atelier.sync.setup import ensure_views, setup
from atelier.sync.views import VIEWS
from atelier_local.notion_emulator import NotionEmulator
from atelier_local.notion_emulator.state import PERSON_ID

TS_DIR = Path(__file__).resolve().parents[1] / "spec" / "ts"
TSC = TS_DIR / "node_modules" / ".bin" / "tsc"
PNG = bytes.fromhex("89504e470d0a1a0a")


def _tsc() -> Path:
    if TSC.exists():
        return TSC
    if os.environ.get("CI") == "true":
        pytest.fail(f"no tsc at {TSC}: `make test` runs `npm ci --prefix tests/spec/ts` first")
    pytest.skip(f"no tsc at {TSC}: run `npm ci --prefix tests/spec/ts` (needs node and npm)")


def test_every_response_the_gateway_reads_has_notions_own_type(
    gateway: NotionGateway, notion: NotionEmulator, tmp_path: Path
) -> None:
    tsc = _tsc()
    ids = setup(gateway, notion.parent_page_id, say=lambda _: None).ids
    source = ids["milestone"].data_source_id
    props = {
        "Name": {"title": rich_text("Design")},
        ATELIER_ID: {"rich_text": rich_text("m-1")},
        "Status": {"status": {"name": "Not started"}},
        "Due": {"date": {"start": "2026-12-01"}},
        "Order": {"number": 1},
    }
    upload = gateway.upload_file("p.png", "image/png", PNG)
    link = [{"type": "text", "text": {"content": "the site", "link": {"url": "https://example.com/site"}}}]
    created = gateway.create_page(
        source,
        "m-1",
        props,
        children=[
            {"type": "heading_2", "heading_2": {"rich_text": rich_text("Brief")}},
            {"type": "paragraph", "paragraph": {"rich_text": rich_text("Notes") + link}},
            {
                "type": "image",
                "image": {"type": "file_upload", "file_upload": {"id": upload}, "caption": rich_text("A caption")},
            },
            {
                "type": "image",
                "image": {"type": "external", "external": {"url": "https://example.com/p.png"}, "caption": link},
            },
            {
                "type": "file",
                "file": {
                    "type": "external",
                    "external": {"url": "https://example.com/a.pdf"},
                    "caption": rich_text("The plan"),
                    "name": "a.pdf",
                },
            },
            {"type": "bulleted_list_item", "bulleted_list_item": {"rich_text": link}},
        ],
    ).page
    recorded: dict[str, tuple[str, Any]] = {
        "me": ("UserObjectResponse", gateway.me()),
        "created": ("PageObjectResponse", created),
        "retrieved": ("PageObjectResponse", gateway.retrieve_page(created["id"])),
        "updated": ("PageObjectResponse", gateway.update_page(created["id"], {"Order": {"number": 2}})),
        "database": ("DatabaseObjectResponse", gateway.retrieve_database(ids["milestone"].database_id)),
        "dataSource": ("DataSourceObjectResponse", gateway.retrieve_data_source(source)),
        "updatedSource": ("DataSourceObjectResponse", gateway.update_data_source(source, {"Notes": {"rich_text": {}}})),
        "query": ("QueryDataSourceResponse & { results: PageObjectResponse[] }", gateway.query_page(source)),
        "blocks": (
            "ListBlockChildrenResponse & { results: BlockObjectResponse[] }",
            {
                "object": "list",
                "results": gateway.list_blocks(created["id"]),
                "next_cursor": None,
                "has_more": False,
                "type": "block",
                "block": {},
            },
        ),
        "search": (
            "SearchResponse",
            {
                "object": "list",
                "results": gateway.search("Design"),
                "next_cursor": None,
                "has_more": False,
                "type": "page_or_data_source",
                "page_or_data_source": {},
            },
        ),
    }
    paragraph = next(b["id"] for b in gateway.list_blocks(created["id"]) if b["type"] == "paragraph")
    dropped = gateway.create_page(
        ids["deliverable"].data_source_id,
        "d-1",
        {
            "Name": {"title": rich_text("plan.png")},
            "File": {
                "files": [
                    {"type": "file_upload", "file_upload": {"id": gateway.upload_file("p.png", "image/png", PNG)}},
                    {"name": "Download", "type": "external", "external": {"url": "https://example.com/d"}},
                ]
            },
        },
    ).page
    requests, made = [], []
    for entity in dict.fromkeys(v.entity for v in VIEWS):
        on = ids[entity].data_source_id
        by_key = {name: str(p["id"]) for name, p in gateway.retrieve_data_source(on)["properties"].items()}
        requests += [
            {"data_source_id": on, "name": v.name, "type": v.type, "configuration": v.configuration(by_key)}
            for v in VIEWS
            if v.entity == entity
        ]
        ensure_views(gateway, entity, on, by_key, say=lambda _: None)
        made += gateway.list_views(on)
    projects = ids["project"].data_source_id
    recorded |= {
        "viewRequests": ("CreateViewParameters[]", requests),
        "views": ("GetViewResponse[]", made),
        "viewList": ("ListDatabaseViewsResponse", gateway._client.views.list(data_source_id=projects)),
        "listRequest": ("ListDatabaseViewsParameters", {"data_source_id": projects, "page_size": 100}),
        "comment": ("CommentObjectResponse", gateway.create_comment(created["id"], "Atelier put back the tier")),
        # Who made an edit; a block a person changed or deleted; a file dropped into a files property.
        "person": ("UserObjectResponse", gateway._client.users.retrieve(user_id=PERSON_ID)),
        "users": ("ListUsersResponse", gateway._client.users.list()),
        "blockUpdated": (
            "BlockObjectResponse",
            gateway._client.blocks.update(block_id=paragraph, paragraph={"rich_text": rich_text("Changed")}),
        ),
        "blockDeleted": ("BlockObjectResponse", gateway._client.blocks.delete(block_id=paragraph)),
        "withFiles": ("PageObjectResponse", gateway.retrieve_page(dropped["id"])),
        "comments": ("ListCommentsResponse", gateway._client.comments.list(block_id=created["id"])),
    }
    types = sorted(
        {t.split(" ")[0].removesuffix("[]") for t, _ in recorded.values()}
        | {"PageObjectResponse", "BlockObjectResponse"}
    )
    lines = [f"import type {{ {', '.join(types)} }} from '@notionhq/client';"]
    lines += [
        f"export const {name}: {kind} = {json.dumps(value, indent=1)};" for name, (kind, value) in recorded.items()
    ]
    source_file = tmp_path / "responses.ts"
    source_file.write_text("\n".join(lines) + "\n")
    shutil.copy(TS_DIR / "tsconfig.json", tmp_path / "tsconfig.json")
    (tmp_path / "node_modules").symlink_to(TS_DIR / "node_modules")
    result = subprocess.run([str(tsc), "-p", str(tmp_path)], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-4000:]
