"""Page content: blocks appended in batches of 100 and listed by cursor, and single-part file uploads that an
image, PDF or file block can show."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from atelier_local.notion_emulator.query import paginate
from atelier_local.notion_emulator.schema import ARRAY_LIMIT, check_value
from atelier_local.notion_emulator.state import ApiError, NotionState, new_id, norm

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def add_blocks(state: NotionState, parent_id: str, children: list[dict[str, Any]], actor: str) -> list[dict[str, Any]]:
    added = []
    for child in children:
        kind = child.get("type") or next((k for k in child if k not in ("object", "type")), None)
        if not kind or kind not in child:
            raise ApiError(400, "validation_error", "Each block needs a type and its content.")
        content = dict(child[kind])
        if "rich_text" in content:
            content["rich_text"] = check_value(state, kind, "rich_text", content["rich_text"])
            content.setdefault("color", "default")
            if kind == "paragraph":
                content.setdefault("icon", None)
            if kind.startswith("heading_"):
                content.setdefault("is_toggleable", False)
        if "caption" in content:  # answered as rich text is, not as it was sent
            content["caption"] = check_value(state, kind, "rich_text", content["caption"])
        if content.get("type") == "file_upload":
            upload = state.uploads.get(norm(str(content["file_upload"]["id"])))
            if upload is None or upload["status"] != "uploaded":
                raise ApiError(400, "validation_error", "The file upload does not exist or was not sent.")
            content = {
                "type": "file",
                "caption": content.get("caption", []),
                "file": {
                    "url": f"https://files.notion.emulator/{upload['id']}/{upload['filename']}",
                    "expiry_time": "2099-01-01T00:00:00.000Z",
                },
            }
        block_id, stamp = new_id(), state.stamp()
        block = {
            "object": "block",
            "id": block_id,
            "parent": {"type": "page_id", "page_id": parent_id},
            "created_time": stamp,
            "last_edited_time": stamp,
            "created_by": state.user_ref(actor),
            "last_edited_by": state.user_ref(actor),
            "has_children": False,
            "archived": False,
            "in_trash": False,
            "type": kind,
            kind: content,
        }
        state.blocks[block_id] = block
        state.children.setdefault(parent_id, []).append(block_id)
        added.append(block)
    return added


def page_of(state: NotionState, block_id: str) -> str | None:
    """The page a block is in (a page is its own), following parents up."""
    seen: set[str] = set()
    current: str | None = norm(block_id)
    while current and current not in seen:
        if current in state.pages:
            return current
        seen.add(current)
        current = str(((state.blocks.get(current) or {}).get("parent") or {}).get("page_id") or "") or None
    return None


def _touch(state: NotionState, block_id: str, actor: str) -> None:
    """An edit to a page's content is an edit to the page: its last edited time and author move."""
    page = state.pages.get(page_of(state, block_id) or "")
    if page is not None:
        page["last_edited_time"], page["last_edited_by"] = state.stamp(), state.user_ref(actor)


def append(state: NotionState, block_id: str, body: dict[str, Any], actor: str) -> dict[str, Any]:
    if block_id not in state.pages and block_id not in state.blocks:
        raise ApiError(404, "object_not_found", f"Could not find block with ID: {block_id}.")
    children = body.get("children") or []
    if len(children) > ARRAY_LIMIT:
        raise ApiError(400, "validation_error", f"body.children.length should be <= {ARRAY_LIMIT}.")
    added = add_blocks(state, block_id, children, actor)
    _touch(state, block_id, actor)
    return {
        "object": "list",
        "results": added,
        "next_cursor": None,
        "has_more": False,
        "type": "block",
        "block": {},
    }


def _block(state: NotionState, block_id: str) -> dict[str, Any]:
    block = state.blocks.get(block_id)
    if block is None or block.get("in_trash"):
        raise ApiError(404, "object_not_found", f"Could not find block with ID: {block_id}.")
    return block


def update_block(state: NotionState, block_id: str, body: dict[str, Any], actor: str) -> dict[str, Any]:
    """A block's text changed (its type stays), or the block put in the trash (`in_trash`)."""
    block = _block(state, block_id)
    kind = block["type"]
    if body.get("in_trash") or body.get("archived"):
        return delete_block(state, block_id, actor)
    if kind in body and "rich_text" in (body[kind] or {}):
        block[kind]["rich_text"] = check_value(state, kind, "rich_text", body[kind]["rich_text"])
    elif kind in body and "checked" in (body[kind] or {}):
        block[kind]["checked"] = bool(body[kind]["checked"])
    else:
        raise ApiError(400, "validation_error", f"body.{kind} should be given, with the block's new content.")
    block["last_edited_time"], block["last_edited_by"] = state.stamp(), state.user_ref(actor)
    _touch(state, block_id, actor)
    return block


def delete_block(state: NotionState, block_id: str, actor: str) -> dict[str, Any]:
    block = _block(state, block_id)
    block["in_trash"] = block["archived"] = True
    _touch(state, block_id, actor)
    return block


def list_children(state: NotionState, block_id: str, query: dict[str, str]) -> dict[str, Any]:
    if block_id not in state.children:
        raise ApiError(404, "object_not_found", f"Could not find block with ID: {block_id}.")
    items = [state.blocks[b] for b in state.children[block_id] if b in state.blocks and not state.blocks[b]["in_trash"]]
    return paginate(items, query.get("start_cursor"), query.get("page_size")) | {"type": "block", "block": {}}


def create_upload(state: NotionState, body: dict[str, Any], *, base_url: str) -> dict[str, Any]:
    if body.get("mode", "single_part") != "single_part":
        raise ApiError(400, "validation_error", "Only single_part uploads are emulated.")
    upload_id = new_id()
    upload = {
        "object": "file_upload",
        "id": upload_id,
        "status": "pending",
        "filename": body.get("filename"),
        "content_type": body.get("content_type"),
        "content_length": None,
        "upload_url": f"{base_url}/v1/file_uploads/{upload_id}/send",
        "created_time": state.stamp(),
        "expiry_time": None,
        "in_trash": False,
    }
    state.uploads[upload_id] = upload
    return upload


def send_upload(state: NotionState, upload_id: str, raw: bytes, content_type: str) -> dict[str, Any]:
    upload_info(state, upload_id)  # 404 when unknown
    upload = state.uploads[upload_id]
    if upload["status"] != "pending":
        raise ApiError(400, "validation_error", "This file upload was already sent.")
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
    data = None
    for part in message.iter_parts() if message.is_multipart() else []:
        if part.get_param("name", header="content-disposition") == "file":
            data = part.get_payload(decode=True)
    if data is None:
        raise ApiError(400, "validation_error", "The request has no `file` part.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ApiError(400, "validation_error", f"A single-part upload is at most {MAX_UPLOAD_BYTES} bytes.")
    upload.update(status="uploaded", content_length=len(data))
    upload["data"] = data
    return {k: v for k, v in upload.items() if k != "data"}


def upload_info(state: NotionState, upload_id: str) -> dict[str, Any]:
    if upload_id not in state.uploads:
        raise ApiError(404, "object_not_found", f"Could not find file_upload with ID: {upload_id}.")
    return {k: v for k, v in state.uploads[upload_id].items() if k != "data"}
