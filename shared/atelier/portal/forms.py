"""What a client sends the portal: a form's fields (urlencoded, or multipart with one file), read strictly. A file is
taken only as what its bytes say it is (an image or a PDF), never as what the browser called it, and only within
the size the portal allows."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs

MAX_BODY_CHARS = 1800  # a message, as the team's Notion comment holds it whole
MAX_NOTE_CHARS = 2000
MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024  # within what one API Gateway request to Lambda can carry, base64 and all
MAX_FIELDS = 20
CSRF_FIELD = "csrf"
SCORES = frozenset(str(n) for n in range(11))
# The types a client may attach, by the bytes each begins with.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
_UNSAFE = re.compile(r"[^\w.\- ()]+")


class FormRefused(ValueError):
    """A form the portal cannot take as sent; the message says what to change."""


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str  # what the bytes are, from `sniff`
    data: bytes


def sniff(data: bytes) -> str | None:
    """The content type the bytes themselves declare, if it is one the portal takes."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)


def safe_filename(name: str) -> str:
    """A file name fit for a key and a header: its last part, printable, 1 to 120 characters."""
    last = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    cleaned = _UNSAFE.sub("_", last).strip(" .")[-120:]
    return cleaned or "attachment"


def read_form(body: bytes, content_type: str | None) -> tuple[dict[str, str], Upload | None, str | None]:
    """The fields (each one value, the first), the one file a form sent, and why that file was refused (its
    fields are kept, so that the page can say what to change with what the client typed still there)."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind != "multipart/form-data":
        try:
            sent = parse_qs(body.decode("utf-8", "replace"), max_num_fields=MAX_FIELDS)
        except ValueError:
            raise FormRefused("the form has more fields than any page of the portal sends") from None
        return {k: v[0] for k, v in sent.items()}, None, None
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + (content_type or "").encode() + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise FormRefused("the form could not be read: send it again from the page")
    fields: dict[str, str] = {}
    upload: Upload | None = None
    refused: str | None = None
    for part in list(message.iter_parts())[:MAX_FIELDS]:
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            fields.setdefault(name, data.decode("utf-8", "replace"))
        elif data and upload is None and refused is None:  # a file input left empty sends a part with no bytes
            try:
                upload = attachment(filename, data)
            except FormRefused as exc:
                refused = str(exc)
    return fields, upload, refused


def attachment(filename: str, data: bytes) -> Upload:
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise FormRefused(f"the file is {len(data) / 1048576:.1f} MB: attach one of 4 MB at most")
    kind = sniff(data)
    if kind is None:
        raise FormRefused("attach an image (PNG, JPEG, GIF or WebP) or a PDF")
    return Upload(safe_filename(filename), kind, data)


def message_body(fields: dict[str, str]) -> str:
    body = (fields.get("body") or "").replace("\r\n", "\n").strip()
    if not body:
        raise FormRefused("write a message before sending it")
    if len(body) > MAX_BODY_CHARS:
        raise FormRefused(f"a message is at most {MAX_BODY_CHARS} characters; this one is {len(body)}")
    if "\x00" in body:
        raise FormRefused("the message holds a character that cannot be sent")
    return body


def note(fields: dict[str, str], *, required: bool) -> str:
    text = (fields.get("note") or "").replace("\r\n", "\n").strip().replace("\x00", "")
    if required and not text:
        raise FormRefused("say what should change, so that the studio can revise it")
    if len(text) > MAX_NOTE_CHARS:
        raise FormRefused(f"a note is at most {MAX_NOTE_CHARS} characters")
    return text


def score(fields: dict[str, str]) -> int:
    raw = (fields.get("score") or "").strip()
    if raw not in SCORES:  # as the form's buttons send them: "0" to "10", nothing else
        raise FormRefused("choose a score from 0 to 10")
    return int(raw)
