"""`GET /_local/notion`: the emulated Notion workspace, read-only, as the team would see it. Each database as a table
and as its board (grouped as its board view says), and each page with its properties, its body and its comments.
Plain HTML, for a newcomer and for the demo; served by the local front door only, never shipped."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any
from urllib.parse import urlsplit

from atelier_local.mail_local import send_html
from atelier_local.notion_emulator import NotionEmulator

PAGE = "/_local/notion"
STYLE = (
    "*{box-sizing:border-box}body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:80rem;padding:1rem;"
    "color:#37352f}a{color:#0b6bcb}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}td,th{border:1px "
    "solid #e3e2de;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f7f6f3;font-weight:600}"
    ".board{display:flex;gap:.75rem;overflow-x:auto;padding-bottom:1rem}.lane{flex:0 0 15rem;background:#f7f6f3;"
    "border-radius:6px;padding:.5rem}.card{background:#fff;border-radius:4px;box-shadow:0 1px 2px #0002;"
    "padding:.5rem;margin:.4rem 0}.muted{color:#787774;font-size:.9rem}.note{background:#fbf3db;padding:.2rem .5rem}"
    ".wrap{overflow-x:auto}td:first-child{min-width:12rem}.comment{border-left:3px solid #e3e2de;"
    "padding:.2rem .6rem;margin:.5rem 0}"
)


def _text(items: Any) -> str:
    return "".join(str(i.get("plain_text") or "") for i in items or [] if isinstance(i, dict))


def value(prop: dict[str, Any]) -> str:
    """A property's value as Notion shows it in a cell."""
    kind = prop.get("type")
    raw = prop.get(kind) if isinstance(kind, str) else None
    if kind in ("title", "rich_text"):
        return _text(raw)
    if kind in ("select", "status"):
        return str((raw or {}).get("name") or "")
    if kind == "multi_select":
        return ", ".join(str(o.get("name")) for o in raw or [])
    if kind == "date":
        return str((raw or {}).get("start") or "")
    if kind == "checkbox":
        return "yes" if raw else "no"
    if kind == "relation":
        return f"{len(raw or [])} linked"
    return "" if raw is None else str(raw)


class NotionWindow:
    def __init__(self, emulator: Callable[[], NotionEmulator | None]) -> None:
        self._emulator = emulator

    def handle(self, request: Any, method: str, body: bytes) -> bool:
        path = urlsplit(request.path).path.rstrip("/")
        if method != "GET" or not (path == PAGE or path.startswith(PAGE + "/")):
            return False
        emulator = self._emulator()
        if emulator is None:
            self._send(request, 404, "Notion", "<p>This stack uses real Notion (NOTION_TOKEN): open it there.</p>")
            return True
        state = emulator.state
        rest = path.removeprefix(PAGE).strip("/").split("/")
        if rest[0] == "databases" and len(rest) == 2 and rest[1] in state.data_sources:
            title, html = self._database(state, rest[1])
        elif rest[0] == "pages" and len(rest) == 2 and _norm(rest[1]) in state.pages:
            title, html = self._page(state, _norm(rest[1]))
        elif rest == [""]:
            title, html = self._home(state)
        else:
            self._send(request, 404, "Not found", f'<p>Nothing at {escape(path)}. <a href="{PAGE}">Back</a></p>')
            return True
        self._send(request, 200, title, html)
        return True

    def _home(self, state: Any) -> tuple[str, str]:
        rows = "".join(
            f'<li><a href="{PAGE}/databases/{escape(i)}">{escape(_text(s.get("title")) or i)}</a> '
            f'<span class="muted">{sum(1 for p in state.pages.values() if _source(p) == i and not p.get("in_trash"))} '
            "pages</span></li>"
            for i, s in state.data_sources.items()
        )
        intro = (
            '<p class="note">The local Notion emulator, read-only: what the team sees. Edit it through the API with '
            "the human token (dev.json's <code>notion_human_token</code>).</p>"
        )
        return (
            "Notion (local)",
            f"<h1>Atelier's Notion workspace</h1>{intro}<ul>{rows or '<li>No databases yet</li>'}</ul>",
        )

    def _database(self, state: Any, source_id: str) -> tuple[str, str]:
        source = state.data_sources[source_id]
        title = _text(source.get("title")) or source_id
        pages = [p for p in state.pages.values() if _source(p) == source_id and not p.get("in_trash")]
        schema = source.get("properties") or {}
        # As the team sees the table: the title first, Atelier's bookkeeping last.
        names = sorted(schema, key=lambda n: (schema[n].get("type") != "title", n in ("Atelier ID", "Last Synced")))
        head = "".join(f"<th>{escape(n)}</th>" for n in names)
        rows = "".join("<tr>" + "".join(f"<td>{self._cell(p, n)}</td>" for n in names) + "</tr>" for p in pages)
        boards = [v for v in state.views.values() if v.get("data_source_id") == source_id and v.get("type") == "board"]
        board = self._board(boards[0], pages, schema) if boards else ""
        html = (
            f'<p><a href="{PAGE}">Workspace</a></p><h1>{escape(title)}</h1>{board}<h2>Table</h2>'
            f'<div class="wrap"><table><tr>{head}</tr>{rows}</table></div>'
        )
        return title, html

    def _cell(self, page: dict[str, Any], name: str) -> str:
        prop = (page.get("properties") or {}).get(name) or {}
        shown = escape(value(prop))
        if prop.get("type") == "title":
            return f'<a href="{PAGE}/pages/{escape(str(page["id"]))}">{shown or "Untitled"}</a>'
        return shown

    def _board(self, view: dict[str, Any], pages: list[dict[str, Any]], schema: dict[str, Any]) -> str:
        group = str(((view.get("configuration") or {}).get("group_by") or {}).get("property_name") or "")
        kind = str((schema.get(group) or {}).get("type") or "")
        options = ((schema.get(group) or {}).get(kind) or {}).get("options") or []
        lanes: dict[str, list[dict[str, Any]]] = {str(o.get("name")): [] for o in options}  # every lane, in order
        for page in pages:
            lanes.setdefault(value((page.get("properties") or {}).get(group) or {}) or "No value", []).append(page)
        columns = "".join(
            f'<section class="lane"><h3>{escape(lane)} <span class="muted">{len(items)}</span></h3>'
            + "".join(f'<div class="card">{self._cell(p, _title_name(p))}</div>' for p in items)
            + "</section>"
            for lane, items in lanes.items()
        )
        heading = f'<h2>{escape(str(view.get("name")))} <span class="muted">by {escape(group)}</span></h2>'
        return f'{heading}<div class="board">{columns}</div>'

    def _page(self, state: Any, page_id: str) -> tuple[str, str]:
        page = state.pages[page_id]
        props = "".join(
            f"<tr><th>{escape(n)}</th><td>{escape(value(p))}</td></tr>"
            for n, p in (page.get("properties") or {}).items()
        )
        blocks = [state.blocks[b] for b in state.children.get(page_id, []) if b in state.blocks]
        content = "".join(f"<p>{escape(_block(b))}</p>" for b in blocks) or '<p class="muted">No content</p>'
        comments = (
            "".join(
                f'<div class="comment"><span class="muted">{escape(str(c.get("created_time"))[:16])}</span><br>'
                f"{escape(_text(c.get('rich_text')))}</div>"
                for c in state.comments.get(page_id, [])
            )
            or '<p class="muted">No comments</p>'
        )
        title = value(next((p for p in (page.get("properties") or {}).values() if p.get("type") == "title"), {}))
        back = _source(page)
        link = (
            f'<a href="{PAGE}/databases/{escape(back)}">Back to the database</a>'
            if back
            else f'<a href="{PAGE}">Back</a>'
        )
        html = (
            f"<p>{link}</p><h1>{escape(title or 'Untitled')}</h1><table>{props}</table><h2>Content</h2>{content}"
            f"<h2>Comments</h2>{comments}"
        )
        return title or "Page", html

    @staticmethod
    def _send(request: Any, status: int, title: str, body: str) -> None:
        send_html(
            request,
            status,
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-'
            f'width, initial-scale=1"><title>{escape(title)} - Notion (local)</title><style>{STYLE}</style></head>'
            f"<body>{body}</body></html>",
        )


def _norm(page_id: str) -> str:
    from atelier_local.notion_emulator.state import norm

    return norm(page_id)


def _source(page: dict[str, Any]) -> str:
    return str((page.get("parent") or {}).get("data_source_id") or "")


def _title_name(page: dict[str, Any]) -> str:
    return next((n for n, p in (page.get("properties") or {}).items() if p.get("type") == "title"), "Name")


def _block(block: dict[str, Any]) -> str:
    kind = str(block.get("type"))
    detail = block.get(kind) or {}
    text = _text(detail.get("rich_text")) if isinstance(detail, dict) else ""
    prefix = {"bulleted_list_item": "- ", "heading_1": "# ", "heading_2": "## ", "heading_3": "### "}.get(kind, "")
    return prefix + (text or f"({kind})")
