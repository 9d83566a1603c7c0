"""What the studio wrote for the client on the project's Notion page ("From the studio"), from the Markdown kept in
Postgres to HTML: headings, paragraphs, lists, quotes, bold, italic, code and links (web and mail links only).
Everything else is text, escaped."""

from __future__ import annotations

import re
from html import escape

_LINK = re.compile(r"\[([^\]]+)\]\(((?:https?://|mailto:)[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])_(.+?)_(?![\w*])")
_CODE = re.compile(r"`([^`]+)`")
_STRIKE = re.compile(r"~~(.+?)~~")


def _inline(text: str) -> str:
    out = escape(text, quote=False)
    out = _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", out)
    out = _LINK.sub(lambda m: f'<a href="{escape(m.group(2))}" rel="noopener">{m.group(1)}</a>', out)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    out = _ITALIC.sub(r"<em>\1</em>", out)
    return _STRIKE.sub(r"<s>\1</s>", out)


def studio_notes(markdown: str | None) -> str:
    """The section's HTML; "" when the studio wrote nothing for the client."""
    if not markdown or not markdown.strip():
        return ""
    html: list[str] = []
    listing: str | None = None
    for raw in markdown.splitlines():
        line = raw.rstrip()
        bullet = re.match(r"^(?:- \[( |x)\] |- |\* |\d+\. )(.*)$", line)
        kind = "ol" if re.match(r"^\d+\. ", line) else "ul"
        if listing and (not bullet or kind != listing):
            html.append(f"</{listing}>")
            listing = None
        if bullet:
            if listing is None:
                html.append(f"<{kind}>")
                listing = kind
            box = {"x": "&#9745; ", " ": "&#9744; "}.get(bullet.group(1) or "", "")
            html.append(f"<li>{box}{_inline(bullet.group(2))}</li>")
        elif not line.strip() or line.strip() == "---":
            continue
        elif heading := re.match(r"^(#{1,3}) (.*)$", line):
            level = min(len(heading.group(1)) + 2, 5)  # the page's own h1 and h2 come first
            html.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif line.startswith(">"):
            html.append(f"<blockquote>{_inline(line.lstrip('> '))}</blockquote>")
        elif line.startswith("```"):
            continue
        else:
            html.append(f"<p>{_inline(line)}</p>")
    if listing:
        html.append(f"</{listing}>")
    return '<h2 id="studio">From the studio</h2><div class="studio-notes">' + "\n".join(html) + "</div>"
