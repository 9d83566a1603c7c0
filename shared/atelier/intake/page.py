"""The intake form and its result page: plain HTML that works without JavaScript.

Every value a client typed is escaped before it is shown, so markup in a field stays text.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from html import escape
from typing import Any

from atelier.intake.form import HONEYPOT_FIELD, SUBMISSION_KEY_FIELD
from atelier.intake.models import ProjectType
from atelier.kernel.business import whose
from atelier.kernel.page import Page

PROJECT_TYPE_LABELS = {
    ProjectType.simple_renovation: "Simple renovation",
    ProjectType.standard_renovation: "Standard renovation",
    ProjectType.small_addition: "Small addition",
    ProjectType.standard_addition: "Standard addition",
    ProjectType.major_renovation: "Major renovation",
    ProjectType.new_build: "New build",
    ProjectType.complex_project: "Complex project",
    ProjectType.multiple_properties: "Multiple properties",
}

LABELS = {
    "name": "Your name",
    "email": "Email",
    "project_address": "Project address",
    "budget": "Budget",
    "timeline_weeks": "Timeline in weeks",
    "project_type": "Project type",
    "notes": "Notes",
    "has_survey": "Survey",
    "has_drawings": "Drawings",
}


def shown_errors(errors: Mapping[str, str]) -> dict[str, str]:
    """Each error as a client reads it: naming its field, in words (never an internal code)."""
    shown = {}
    order = list(LABELS)
    for name, message in sorted(errors.items(), key=lambda e: order.index(e[0]) if e[0] in order else len(order)):
        if name == "project_type" and message != "This field is required.":
            message = "Choose the type of project from the list."
        label = LABELS.get(name)
        shown[name] = f"{label}: {message}" if label else message
    return shown


def _error(name: str, errors: Mapping[str, str]) -> tuple[str, str]:
    """The attributes and the message element for a field's error, if it has one."""
    if name not in errors:
        return "", ""
    attrs = f' aria-invalid="true" aria-describedby="{name}-error"'
    return attrs, f'<p class="error" id="{name}-error">{escape(errors[name])}</p>'


def _text_field(
    name: str,
    label: str,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    *,
    kind: str = "text",
    required: bool = False,
    hint: str = "",
    extra: str = "",
) -> str:
    attrs, message = _error(name, errors)
    if hint:  # the hint is read with the field (and the error, when there is one)
        attrs = (
            attrs.replace('aria-describedby="', f'aria-describedby="{name}-hint ')
            if "aria-describedby" in attrs
            else f'{attrs} aria-describedby="{name}-hint"'
        )
    marker = ' <span class="req">(required)</span>' if required else ""
    req = " required" if required else ""
    value = escape(str(values.get(name) or ""))
    hint_html = f'<p class="hint" id="{name}-hint">{escape(hint)}</p>' if hint else ""
    return (
        f'<label for="{name}">{escape(label)}{marker}</label>{hint_html}'
        f'<input type="{kind}" id="{name}" name="{name}" value="{value}"{req}{attrs}{extra}>{message}'
    )


def render_form(
    values: Mapping[str, Any] | None = None, errors: Mapping[str, str] | None = None, *, action: str = "/leads"
) -> Page:
    values = values or {}
    errors = shown_errors(errors or {})
    key = str(values.get(SUBMISSION_KEY_FIELD) or uuid.uuid4())
    summary = ""
    if errors:
        items = "".join(f'<li><a href="#{escape(name)}">{escape(message)}</a></li>' for name, message in errors.items())
        summary = (
            '<div class="summary" role="alert" tabindex="-1" id="error-summary" autofocus '
            'aria-labelledby="error-summary-title">'
            f'<h2 id="error-summary-title">Some answers need attention</h2><ul>{items}</ul></div>'
            "<script>document.getElementById('error-summary').focus()</script>"
        )
    type_attrs, type_message = _error("project_type", errors)
    options = "".join(
        f'<option value="{t.value}"{" selected" if values.get("project_type") == t.value else ""}>{label}</option>'
        for t, label in PROJECT_TYPE_LABELS.items()
    )
    notes_attrs, notes_message = _error("notes", errors)
    checks = ""
    for name, label in (
        ("has_survey", "I have a survey of the property"),
        ("has_drawings", "I have existing drawings"),
    ):
        checked = " checked" if str(values.get(name, "")).lower() in ("on", "true", "yes", "1") else ""
        checks += (
            f'<p><input type="checkbox" id="{name}" name="{name}"{checked}> <label for="{name}" '
            f'style="display:inline;font-weight:400">{label}</label></p>'
        )
    body = f"""
<h1>Start a project with {escape(whose())}</h1>
<p>Tell us about your project. We will recommend the right service tier straight away.</p>
{summary}
<form method="post" action="{escape(action)}" novalidate>
<input type="hidden" name="{SUBMISSION_KEY_FIELD}" value="{escape(key)}">
{_text_field("name", "Your name", values, errors, required=True, extra=' autocomplete="name"')}
{_text_field("email", "Email", values, errors, kind="email", required=True, extra=' autocomplete="email"')}
{_text_field("project_address", "Project address", values, errors, extra=' autocomplete="street-address"')}
{_text_field("budget", "Budget", values, errors, hint="A figure or a range, such as 12000 or $10k-15k.")}
{_text_field("timeline_weeks", "Timeline in weeks", values, errors, kind="number", extra=' min="1" max="520"')}
<label for="project_type">Project type <span class="req">(required)</span></label>
<select id="project_type" name="project_type" required{type_attrs}>
<option value="">Choose one</option>{options}</select>{type_message}
<fieldset style="margin-top:1rem"><legend>What do you already have?</legend>{checks}</fieldset>
<label for="notes">Anything else we should know?</label>
<textarea id="notes" name="notes" rows="4"{notes_attrs}>{escape(str(values.get("notes") or ""))}</textarea>
{notes_message}
<div class="hp" aria-hidden="true"><label for="{HONEYPOT_FIELD}">Leave this field empty</label>
<input type="text" id="{HONEYPOT_FIELD}" name="{HONEYPOT_FIELD}" tabindex="-1" autocomplete="off"></div>
{_error(HONEYPOT_FIELD, errors)[1]}
<button type="submit">Get my recommendation</button>
</form>"""
    return Page("Start a project", body)


def _offer(answer: Mapping[str, Any]) -> str:
    """The tier's price and what it includes, as the studio's catalogue says now."""
    if not answer.get("price_text"):
        return ""
    what = "".join(f"<li>{escape(str(f))}</li>" for f in answer.get("features") or [])
    about = answer.get("tier_description")
    paying = (answer.get("next_step") or {}).get("checkout_url")
    price = str(answer["price_text"]) if paying else f"From {answer['price_text']}: the team confirms it with you"
    return (
        f'<p id="price"><strong>{escape(price)}</strong>'
        + (f" &middot; {escape(str(about))}" if about else "")
        + "</p>"
        + (f'<ul id="features">{what}</ul>' if what else "")
    )


def render_result(answer: Mapping[str, Any]) -> Page:
    step = answer.get("next_step") or {}
    url = step.get("checkout_url")
    action = f'<p><a class="button" href="{escape(url)}">Continue to payment</a></p>' if url else ""
    body = f"""
<h1>Thank you. We recommend {escape(str(answer["tier_name"]))}.</h1>
<p id="reason">{escape(str(answer["reason"]))}</p>
{_offer(answer)}
<h2>Next step</h2>
<p id="next-step">{escape(str(step.get("message", "")))}</p>
{action}
<p class="hint">Your reference: {escape(str(answer["lead_id"]))}</p>"""
    return Page(f"We recommend {answer['tier_name']}", body)
