"""Page content both ways: the blocks Atelier writes (headings, paragraphs, list items), and the blocks a person
wrote read back, as plain text or as Markdown (one level deep: a block's own children are not fetched)."""

from __future__ import annotations

import re
from typing import Any

from atelier.notion.codec import rich_text

HEADINGS = {"heading_1": "#", "heading_2": "##", "heading_3": "###"}
TEXT_BLOCKS = (
    "paragraph",
    "heading_1",
    "heading_2",
    "heading_3",
    "bulleted_list_item",
    "numbered_list_item",
    "to_do",
    "quote",
    "callout",
    "toggle",
    "code",
)


def block(kind: str, text: str) -> dict[str, Any]:
    """A block of text, as `blocks.children.append` and `pages.create` take it."""
    return {"type": kind, kind: {"rich_text": rich_text(text)}}


def heading(text: str) -> dict[str, Any]:
    return block("heading_2", text)


def paragraph(text: str) -> dict[str, Any]:
    return block("paragraph", text)


def item(text: str) -> dict[str, Any]:
    return block("bulleted_list_item", text)


def text_of(b: dict[str, Any]) -> str:
    """A block's text as typed, without styling ("" for a block without text: a divider, an image)."""
    content = b.get(str(b.get("type"))) or {}
    return "".join(
        str(part.get("plain_text") or (part.get("text") or {}).get("content") or "")
        for part in content.get("rich_text") or []
        if isinstance(part, dict)
    )


def _styled(parts: list[dict[str, Any]]) -> str:
    out = []
    for part in parts:
        text = str(part.get("plain_text") or (part.get("text") or {}).get("content") or "")
        if not text:
            continue
        style = part.get("annotations") or {}
        if style.get("code"):
            text = f"`{text}`"
        if style.get("bold"):
            text = f"**{text}**"
        if style.get("italic"):
            text = f"_{text}_"
        if style.get("strikethrough"):
            text = f"~~{text}~~"
        link = part.get("href") or ((part.get("text") or {}).get("link") or {}).get("url")
        out.append(f"[{text}]({link})" if link else text)
    return "".join(out)


def markdown_of(b: dict[str, Any]) -> str:
    """One block as a line (or lines) of Markdown."""
    kind = str(b.get("type"))
    content = b.get(kind) or {}
    text = _styled(content.get("rich_text") or [])
    if kind in HEADINGS:
        return f"{HEADINGS[kind]} {text}"
    if kind == "bulleted_list_item":
        return f"- {text}"
    if kind == "numbered_list_item":
        return f"1. {text}"
    if kind == "to_do":
        return f"- [{'x' if content.get('checked') else ' '}] {text}"
    if kind in ("quote", "callout"):
        return "\n".join(f"> {line}" for line in text.splitlines() or [""])
    if kind == "code":
        return f"```{content.get('language') or ''}\n{text_of(b)}\n```"
    if kind == "divider":
        return "---"
    return text


def is_heading(b: dict[str, Any]) -> bool:
    return str(b.get("type")) in HEADINGS


def to_markdown(blocks: list[dict[str, Any]]) -> str:
    """Blocks as Markdown: list items kept together, other blocks a blank line apart."""
    lines: list[str] = []
    previous = ""
    for b in blocks:
        line = markdown_of(b)
        kind = str(b.get("type"))
        listed = kind in ("bulleted_list_item", "numbered_list_item", "to_do")
        if lines and not (listed and previous == "list"):
            lines.append("")
        lines.append(line)
        previous = "list" if listed else kind
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
