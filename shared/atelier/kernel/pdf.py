"""A plain PDF of text lines, written by hand: PDF 1.4, A4, the standard Helvetica fonts (no font files, nothing to
install), a line wrapped at the page's width and pages added as the text runs on. For the documents a function
serves where a PDF library would outweigh it (a receipt, an invoice); richer PDFs (the report) use fpdf2."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from atelier.kernel.format import latin1

WIDTH, HEIGHT, MARGIN = 595, 842, 56  # A4 in points
SIZES = {"title": 16, "heading": 12, "bold": 10, "text": 10}
CHARS = {"title": 52, "heading": 70, "bold": 90, "text": 95}  # what fits the width at each size, roughly


def _escape(text: str) -> str:
    return latin1(text).replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(title: str, lines: Sequence[tuple[str, str]]) -> bytes:
    """A PDF of `lines`, each (style, text) with style one of title, heading, bold and text; `title` is its name."""
    pages: list[list[str]] = [[]]
    y: float = HEIGHT - MARGIN
    for style, text in lines:
        size = SIZES.get(style, 10)
        for part in textwrap.wrap(text, CHARS.get(style, 95)) or [""]:
            if y - size * 1.4 < MARGIN:
                pages.append([])
                y = HEIGHT - MARGIN
            y -= size * 1.4
            font = "F2" if style in ("title", "heading", "bold") else "F1"
            pages[-1].append(f"BT /{font} {size} Tf {MARGIN} {y:.1f} Td ({_escape(part)}) Tj ET")
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [{kids}] /Count {count} >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        f"<< /Title ({_escape(title)}) /Creator (Atelier) >>",
    ]
    kids = []
    for page in pages:
        stream = "\n".join(page).encode("latin-1")
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream.decode('latin-1')}\nendstream")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] /Contents {len(objects)} 0 R "
            "/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>"
        )
        kids.append(f"{len(objects)} 0 R")
    objects[1] = objects[1].format(kids=" ".join(kids), count=len(kids))
    out, offsets = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
