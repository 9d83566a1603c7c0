"""A client-facing page as a capability writes it: a title, the markup inside the frame, and anything the page
adds to the head. The frame itself (the studio's style around it) is `web.frame`'s, applied at the edge."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    title: str
    body: str
    head: str = ""
