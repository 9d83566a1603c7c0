"""The client-facing pages' frame: one plain style, readable from 320 px wide up, with a visible keyboard focus.
Capabilities write a `kernel.page.Page`; the handler renders it here and answers with it."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from atelier.kernel.page import Page

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response

HTML = "text/html; charset=utf-8"
# A page for one person (the portal, the owner's report): never cached, never framed, never named to another site.
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}

_STYLE = """
*,*::before,*::after{box-sizing:border-box}
body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
label{display:block;font-weight:600;margin-top:1rem}
input[type=text],input[type=email],input[type=number],select,textarea{width:100%;padding:.5rem;font:inherit}
.req{color:#a00}.hint{color:#555;font-size:.9rem;margin:0}
.error{color:#a00;font-weight:600;margin:.25rem 0 0}
[aria-invalid=true]{border:2px solid #a00}
.summary{border:2px solid #a00;padding:.5rem 1rem;margin:1rem 0}
.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
button,.button{margin-top:1.5rem;padding:.6rem 1.2rem;font:inherit;background:#1d1d1f;color:#fff;border:0;
text-decoration:none;display:inline-block}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,
.summary:focus{outline:3px solid #0a5cd5;outline-offset:2px}
.milestones{padding-left:1.2rem}.muted{color:#555}
"""


def render(page: Page) -> str:
    """A client-facing page in the studio's plain style, readable from 320 px wide up."""
    title, body, head = page.title, page.body, page.head
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style>{head}</head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def html_response(status: int, page: Page, headers: dict[str, str] | None = None) -> Response[str]:
    """The page as a handler answers with it."""
    from aws_lambda_powertools.event_handler import Response

    return Response(status, HTML, render(page), headers=headers)
