"""Input an attacker or a careless system sends, parsed strictly: each case answered, never raised on (issue 29,
items 8, 13 and 17)."""

from __future__ import annotations

import pytest

from atelier.deliverables.links import DownloadLinks
from atelier.kernel.errors import NotPermitted
from atelier.kernel.signing import expiry
from atelier.mail.events import suppressions
from atelier.mail.render import Studio, render
from atelier.notion.webhook import BadDelivery, Delivery
from atelier.portal.service import is_address
from atelier.portal.session import PortalKeys
from atelier.reports.links import ReportLinks

KEY = b"k" * 32
DELIVERABLE = "5f1c3a9e-2b7d-4c1e-9a0b-3d2e1f4a5b6c"


class NoDatabase:
    """A link whose shape is wrong is refused before any database is asked."""

    def rpc(self, function: str, /, **args: object) -> object:
        raise AssertionError(f"{function} was called for a malformed token")


# Digits `str.isdigit` admits and `int()` refuses (a superscript), and more digits than `int()` will read.
NOT_AN_EXPIRY = ["²", "1²", "٣", "9" * 4400, "", "-1", "1e9", "12345678901234"]


@pytest.mark.parametrize("text", NOT_AN_EXPIRY)
def test_an_expiry_is_only_ascii_digits_of_bounded_length(text: str) -> None:
    assert expiry(text) is None


def test_an_expiry_of_plain_digits_is_its_number() -> None:
    assert expiry("1767225600") == 1767225600


@pytest.mark.parametrize("text", NOT_AN_EXPIRY)
def test_a_download_token_with_a_strange_expiry_is_malformed_not_an_error(text: str) -> None:
    assert DownloadLinks(KEY, "http://x").check(DELIVERABLE, f"{text}.c2lnbmF0dXJl") == "the token is malformed"


@pytest.mark.parametrize("text", NOT_AN_EXPIRY)
def test_a_report_key_with_a_strange_expiry_is_forbidden_not_an_error(text: str) -> None:
    with pytest.raises(NotPermitted):
        ReportLinks(KEY, "http://x", NoDatabase()).check(f"{DELIVERABLE}.{text}.c2lnbmF0dXJl")


@pytest.mark.parametrize("text", NOT_AN_EXPIRY)
def test_a_sign_in_link_with_a_strange_expiry_is_refused(text: str) -> None:
    assert PortalKeys(KEY).read_sign_in(f"{DELIVERABLE}.{text}.c2lnbmF0dXJl") is None


@pytest.mark.parametrize("field", ["id", "type"])
@pytest.mark.parametrize("text", ["\ud800", "evt\x00", "a\nb"])
def test_a_notion_delivery_with_text_no_ledger_can_hold_is_refused(field: str, text: str) -> None:
    payload = {"id": "e1", "type": "page.created", "entity": {"id": "1d2e3f40"}} | {field: text}
    with pytest.raises(BadDelivery, match=field):
        Delivery.parse(payload)


def test_a_notion_delivery_drops_a_timestamp_it_cannot_store_but_is_still_read() -> None:
    payload = {"id": "e1", "type": "page.created", "entity": {"id": "1d2e3f40", "type": "\ud800"}, "timestamp": "\x00"}
    delivery = Delivery.parse(payload)
    assert (delivery.event_id, delivery.entity_type, delivery.timestamp) == ("e1", "", "")


@pytest.mark.parametrize("text", ["ada\x00@example.com", "ada@example.com\x00", "ada@exa\ud800mple.com"])
def test_an_address_with_an_unprintable_character_is_not_an_address(text: str) -> None:
    assert not is_address(text)


def _ses(kind: str, recipients: list[str], **extra: object) -> dict[str, object]:
    key = {"Bounce": "bounce", "Complaint": "complaint"}[kind]
    listed = {"Bounce": "bouncedRecipients", "Complaint": "complainedRecipients"}[kind]
    return {"notificationType": kind, key: {listed: [{"emailAddress": r} for r in recipients], **extra}}


def test_a_recipient_named_with_a_display_name_is_matched_by_its_bare_address() -> None:
    message = _ses("Complaint", ['"Ada Lovelace" <Ada@Example.com>', "Bob <bob@example.com>"])
    assert [(a, r) for a, r, _ in suppressions(message)] == [
        ("ada@example.com", "complaint"),
        ("bob@example.com", "complaint"),
    ]


def test_a_nul_in_an_ses_event_is_skipped_never_raised_on() -> None:
    message = _ses("Bounce", ["a\x00@example.com", "ok@example.com"], bounceType="Permanent", bounceSubType="\x00")
    assert suppressions(message) == [("ok@example.com", "bounce", {"type": "Permanent"})]


def test_a_line_break_in_a_project_name_never_reaches_the_subject_header() -> None:
    context = {"project_name": "12 Row\r\nBcc: everyone@example.com", "payment": {"amount": 100, "currency": "usd"}}
    message = render("refund_confirmed", context, Studio("Atelier", "The studio"))
    assert "\r" not in message.subject
    assert "\n" not in message.subject
    assert "12 Row Bcc: everyone@example.com" in message.subject
