"""HTTP answers to bad input: one exception type that carries its status, a stable code and a fix.

Handlers raise `HttpProblem` from anywhere in parsing; the handler turns it into the JSON body
`{"error": code, "message": text, "fields": {name: text}}`, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

MAX_BODY_BYTES = 16 * 1024


@dataclass
class HttpProblem(Exception):
    status: int
    code: str
    message: str
    fields: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return body

    def json(self) -> str:
        return json.dumps(self.body())


def raw_body(body: str | None, is_base64: bool | None, *, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body as bytes, exactly as the client sent it, refusing what is too large."""
    if body is None:
        return b""
    if is_base64:
        # Base64 is 4/3 of the bytes; refuse early, before decoding something huge.
        if len(body) > (limit * 4) // 3 + 4:
            raise too_large(limit)
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise HttpProblem(400, "invalid_body", "The body is marked base64 but is not valid base64.") from exc
    else:
        data = body.encode("utf-8")
    if len(data) > limit:
        raise too_large(limit)
    return data


def too_large(limit: int) -> HttpProblem:
    return HttpProblem(413, "payload_too_large", f"The body is larger than {limit // 1024} KB; send less.")


def media_type(content_type: str | None) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def header(headers: dict[str, str] | None, name: str) -> str | None:
    """A header by case-insensitive name (API Gateway v2 lower-cases them; tests and tools may not)."""
    wanted = name.lower()
    for key, value in (headers or {}).items():
        if key.lower() == wanted:
            return value
    return None
