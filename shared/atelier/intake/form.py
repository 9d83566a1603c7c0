"""A posted lead, parsed: the body as JSON or a form, each field checked (and named when it needs attention), the
honeypot and the submission key; and the `POST /leads` event as API Gateway delivers it. Bad input is refused
(`MalformedRequest`, `WrongMediaType`, `ValidationFailed`) before anything is written."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from pydantic import ValidationError

from atelier.intake.models import LeadAnswers, LeadForm, ProjectType
from atelier.kernel.body import header, json_object, media_type, raw_body
from atelier.kernel.business import named
from atelier.kernel.errors import MalformedRequest, Refusal, ValidationFailed, WrongMediaType

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
HONEYPOT_FIELD = "leave_blank"
SUBMISSION_KEY_FIELD = "submission_key"
_KEY = re.compile(r"^[A-Za-z0-9._:\-]{8,200}$")
_DOMAIN = re.compile(r"[A-Za-z0-9.-]{1,253}")  # the API's host name, as API Gateway gives it


@dataclass(frozen=True)
class LeadSubmission:
    form: LeadAnswers
    submission_key: str
    source_ip: str | None = None
    site: str | None = None  # the API's public address, as the request reached it: where /thanks lives

    @property
    def request_hash(self) -> str:
        return form_hash(self.form)


def form_hash(form: LeadAnswers) -> str:
    """A fingerprint of what the client asked for, to tell a replay from a different form."""
    canonical = json.dumps(form.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def read_fields(body: bytes, content_type: str | None) -> dict[str, Any]:
    """The posted fields, from JSON or a form; 415 for other types, 400 for a body that does not parse."""
    kind = media_type(content_type)
    if kind == JSON:
        return json_object(body, what="form fields")
    if kind == FORM:
        try:
            text = body.decode("utf-8")
            pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedRequest("The form body is not valid UTF-8 form encoding.", code="invalid_form") from exc
        fields: dict[str, Any] = {}
        for name, value in pairs:
            fields.setdefault(name, value)  # the first of repeated names wins
        return fields
    shown = kind or "no Content-Type"
    raise WrongMediaType(f"Send {JSON} or {FORM}, not {shown}.")


_MESSAGES = {
    "missing": "This field is required.",
    "string_too_short": "This field is required.",
    "string_too_long": "Use at most {max_length} characters.",
    "int_parsing": "Enter a whole number of weeks.",
    "int_from_float": "Enter a whole number of weeks.",
    "int_type": "Enter a whole number of weeks.",
    "greater_than_equal": "Enter at least {ge}.",
    "less_than_equal": "Enter at most {le}.",
    "bool_parsing": "Answer yes or no.",
    "bool_type": "Answer yes or no.",
    "string_type": "Enter text.",
    "enum": "Choose one of: " + ", ".join(t.value for t in ProjectType) + ".",
}


def field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "body"
        template = _MESSAGES.get(error["type"])
        if template:
            message = template.format(**(error.get("ctx") or {}))
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            message = message[:1].upper() + message[1:]
            message = message if message.endswith(".") else message + "."
        errors.setdefault(name, message)
    return errors


def parse_submission(
    body: bytes, content_type: str | None, *, idempotency_key: str | None = None, source_ip: str | None = None
) -> LeadSubmission:
    """Validate a posted lead, or refuse it (400, 415, 422), naming each field that needs attention."""
    fields = read_fields(body, content_type)
    problems: dict[str, str] = {}
    if str(fields.get(HONEYPOT_FIELD) or "").strip():
        problems[HONEYPOT_FIELD] = "Leave this field empty."
    try:
        form = LeadForm.model_validate(fields)
    except ValidationError as exc:
        problems = {**field_errors(exc), **problems}
        form = None
    key = (idempotency_key or str(fields.get(SUBMISSION_KEY_FIELD) or "")).strip()
    if key and not _KEY.match(key):
        problems[SUBMISSION_KEY_FIELD] = "Use 8 to 200 letters, digits or . _ : - (a UUID is ideal)."
    if problems or form is None:
        raise ValidationFailed("Some fields need attention.", fields=problems)
    # Without a key, identical content is the same submission: a double click files one lead.
    return LeadSubmission(form, key or f"auto:{form_hash(form)[:40]}", source_ip)


def parse_event(event: APIGatewayProxyEventV2) -> LeadSubmission:
    """`POST /leads` as API Gateway delivers it: the raw body, its type, the idempotency key and the source."""
    submission = parse_submission(
        raw_body(event.body, event.is_base64_encoded),
        header(event.headers, "content-type"),
        idempotency_key=header(event.headers, "idempotency-key"),
        source_ip=event.request_context.http.source_ip,
    )
    domain = event.request_context.domain_name
    business = named()  # its pages (/thanks, /cancelled) are under its prefix
    site = f"https://{domain}{business.prefix if business else ''}"
    return replace(submission, site=site) if domain and _DOMAIN.fullmatch(domain) else submission


def wants_html(event: APIGatewayProxyEventV2) -> bool:
    """A browser posting the form without JavaScript: it gets a page back, not JSON."""
    accept = header(event.headers, "accept") or ""
    return media_type(header(event.headers, "content-type")) == FORM and "text/html" in accept


def posted_fields(event: APIGatewayProxyEventV2) -> dict[str, Any]:
    """What the client typed, to show the form again with it; {} when the body cannot be read."""
    try:
        return read_fields(raw_body(event.body, event.is_base64_encoded), header(event.headers, "content-type"))
    except Refusal:
        return {}
