"""The client-facing pages' frame: one plain style, readable from 320 px wide up, with a visible keyboard focus.
Capabilities write a `kernel.page.Page`; the handler renders it here and answers with it."""

from __future__ import annotations

import re
from html import escape
from typing import TYPE_CHECKING

from atelier.kernel.business import BRAND_COLOUR, Business, current
from atelier.kernel.page import Page

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response

HTML = "text/html; charset=utf-8"
_ROOT_LINK = re.compile(r'\b(href|action|src)="/(?!/|b/)')
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
.brand{display:flex;align-items:center;gap:.75rem;padding:0 0 .5rem;margin-bottom:1rem}
.brand-name{font-weight:700;font-size:1.1rem}.logo{max-width:100%;height:auto}
"""


def render(page: Page) -> str:
    """A client-facing page in the studio's plain style, readable from 320 px wide up, under the name, colour and
    logo of the business it is for."""
    title, body, head = page.title, page.body, page.head
    business = current()
    brand = "" if business is None else _masthead(business)
    if business is not None and business.prefix:  # its routes are under /b/{slug}/: so are its links
        body = _ROOT_LINK.sub(rf'\1="{business.prefix}/', body)
    named = title if business is None or business.name in title else f"{title} · {business.name}"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(named)}</title><style>{_STYLE}</style>{head}</head>"
        f"<body>{brand}<main>{body}</main></body></html>\n"
    )


def _masthead(business: Business) -> str:
    """The business's name in its colour, over a rule of it, with its logo at the logo's own size (never wider
    than the page)."""
    colour = business.brand_colour if BRAND_COLOUR.match(business.brand_colour) else "#1f3a5f"
    logo = ""
    if business.logo_key and business.logo_key.startswith(("https://", "/")):
        logo = f'<img class="logo" src="{escape(business.logo_key)}" alt="">'
    return (
        f'<header class="brand" style="border-bottom:4px solid {colour}">{logo}'
        f'<span class="brand-name" style="color:{colour}">{escape(business.name)}</span></header>'
    )


def html_response(status: int, page: Page, headers: dict[str, str] | None = None) -> Response[str]:
    """The page as a handler answers with it."""
    from aws_lambda_powertools.event_handler import Response

    return Response(status, HTML, render(page), headers=headers)
