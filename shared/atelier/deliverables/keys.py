"""The bucket's key convention: `projects/<project_id>/<category>/<file name>`, under `b/<slug>/` for a business
other than the default, which S3 sends URL-encoded in its events; the categories a folder may name, and a file's
type from its name."""

from __future__ import annotations

import mimetypes
import unicodedata
import uuid
from dataclasses import dataclass
from urllib.parse import unquote_plus

from atelier.kernel.errors import AtelierError

PREFIX = "projects/"
BUSINESS_PREFIX = "b/"
CATEGORIES = ("Document", "Photo", "Drawing", "Render", "Invoice", "Contract", "Other")
MESSAGES = "messages"  # `projects/<project_id>/messages/<message_id>/<file>`: a client's attachment, not a deliverable
DOCUMENTS = "documents"  # `projects/<project_id>/documents/<number>.pdf`: a receipt or an invoice, not a deliverable
MAX_NAME_CHARS = 500


class KeyOutsideConvention(AtelierError):
    """An object key that is not `projects/<project_id>/<category>/<file name>`."""


@dataclass(frozen=True)
class DeliverableKey:
    project_id: str
    category: str  # one of CATEGORIES
    name: str  # the file's name: what follows the category, sub-folders included

    @classmethod
    def parse(cls, key: str) -> DeliverableKey:
        """A decoded key, checked against the convention; the category is matched loosely ("photos")."""
        key = business_of_key(key)[1]
        if not key.startswith(PREFIX):
            raise KeyOutsideConvention(f"{key!r} is not under {PREFIX}")
        parts = key[len(PREFIX) :].split("/", 2)
        if len(parts) < 3 or not parts[2].strip() or key.endswith("/"):
            raise KeyOutsideConvention(f"{key!r} is not projects/<project_id>/<category>/<file name>")
        try:
            project_id = str(uuid.UUID(parts[0]))
        except ValueError:
            raise KeyOutsideConvention(f"{key!r}: {parts[0]!r} is not a project id") from None
        if parts[1] == MESSAGES:
            raise KeyOutsideConvention(f"{key!r} is a client's attachment to a message, kept with the message")
        if parts[1] == DOCUMENTS:
            raise KeyOutsideConvention(f"{key!r} is a receipt or an invoice, kept with the project's payments")
        name = unicodedata.normalize("NFC", parts[2]).strip()[:MAX_NAME_CHARS]
        return cls(project_id, category_of(parts[1]), name)

    @staticmethod
    def make(project_id: str, category: str, filename: str, *, business: str | None = None) -> str:
        """The key of a file; `business`: the slug of a business other than the default."""
        key = f"{PREFIX}{project_id}/{category}/{filename}"
        return f"{BUSINESS_PREFIX}{business}/{key}" if business else key


def attachment_key(project_id: str, message_id: str, filename: str, *, business: str | None = None) -> str:
    """Where a client's attachment is kept: in the project's folder, beside (never among) its deliverables."""
    return DeliverableKey.make(project_id, MESSAGES, f"{message_id}/{filename}", business=business)


def document_key(project_id: str, number: str, *, business: str | None = None) -> str:
    """Where a receipt's or an invoice's PDF is kept: in the project's folder, beside its deliverables."""
    return DeliverableKey.make(project_id, DOCUMENTS, f"{number}.pdf", business=business)


def business_of_key(key: str) -> tuple[str | None, str]:
    """(the slug a `b/<slug>/...` key names, the rest of it), or (None, key) for the default business's."""
    if key.startswith(BUSINESS_PREFIX):
        slug, _, rest = key[len(BUSINESS_PREFIX) :].partition("/")
        if slug and rest:
            return slug, rest
    return None, key


def category_of(folder: str) -> str:
    """The category a key's folder names: exact, any case, or plural; anything else is Other."""
    wanted = folder.strip().lower()
    for category in CATEGORIES:
        if wanted in (category.lower(), f"{category.lower()}s"):
            return category
    return "Other"


def decode_key(raw: str) -> str:
    """S3 event keys are URL-encoded with `+` for spaces."""
    return unquote_plus(raw)


def guess_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"
