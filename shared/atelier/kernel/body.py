"""A request body as the capabilities read it: bytes within a limit, strict JSON, one JSON object, a header by
name. Pure functions over what API Gateway hands a handler; they raise `kernel.errors` types, never a status."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from atelier.kernel.errors import BodyTooLarge, MalformedRequest

MAX_BODY_BYTES = 16 * 1024


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
            raise MalformedRequest("The body is marked base64 but is not valid base64.", code="invalid_body") from exc
    else:
        data = body.encode("utf-8")
    if len(data) > limit:
        raise too_large(limit)
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def strict_json(body: bytes | str) -> Any:
    """JSON as the standard has it: NaN and Infinity refused. Raises ValueError (bad JSON, not UTF-8, an
    integer past Python's digit limit) or RecursionError (nested too deeply)."""
    return json.loads(body, parse_constant=_no_constant)


def json_object(body: bytes, *, what: str) -> dict[str, Any]:
    """A request body that must be one JSON object (`what` says of what), or `MalformedRequest` saying why not."""
    try:
        data = strict_json(body)
    except ValueError as exc:  # not JSON, not UTF-8, or an integer past Python's digit limit
        raise MalformedRequest(f"The body is not valid JSON: {str(exc)[:200]}.", code="invalid_json") from None
    except RecursionError:
        raise MalformedRequest("The body is not valid JSON: nested too deeply.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise MalformedRequest(f"The body must be a JSON object of {what}.", code="invalid_json")
    return data


def too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"The body is larger than {limit // 1024} KB; send less.")


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
