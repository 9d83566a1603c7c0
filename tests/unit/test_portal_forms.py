"""What the portal takes from a form: its fields, one file taken only as its bytes say, and a clear refusal for the
rest; for any body at all, a refusal is the worst that happens."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atelier.portal import forms
from atelier.portal.forms import FormRefused, read_form, safe_filename, sniff

PNG = b"\x89PNG\r\n\x1a\n0000"
BOUNDARY = "----atelier"


def multipart(fields: dict[str, str], file: tuple[str, bytes, str] | None = None) -> tuple[bytes, str]:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    if file:
        name, data, kind = file
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachment"; filename="{name}"\r\n'
        parts.append(head.encode() + f"Content-Type: {kind}\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode(), f"multipart/form-data; boundary={BOUNDARY}"


def test_a_multipart_form_gives_its_fields_and_its_file_as_its_bytes_say() -> None:
    body, kind = multipart({"csrf": "t", "body": "Wider, please"}, ("../../etc/site plan.png", PNG, "text/html"))
    fields, upload, refused = read_form(body, kind)
    assert fields == {"csrf": "t", "body": "Wider, please"}
    assert refused is None
    assert upload is not None
    assert (upload.filename, upload.content_type, upload.data) == ("site plan.png", "image/png", PNG)


def test_a_file_of_another_kind_is_refused_and_the_fields_are_kept() -> None:
    body, kind = multipart({"csrf": "t", "body": "see attached"}, ("plan.png", b"MZ\x90\x00", "image/png"))
    fields, upload, refused = read_form(body, kind)
    assert upload is None
    assert refused == "attach an image (PNG, JPEG, GIF or WebP) or a PDF"
    assert fields["body"] == "see attached"


def test_a_file_past_the_cap_is_refused_with_its_size() -> None:
    big = PNG + b"0" * forms.MAX_ATTACHMENT_BYTES
    refused = read_form(*multipart({"csrf": "t"}, ("big.png", big, "image/png")))[2]
    assert refused is not None
    assert "attach one of 4 MB at most" in refused


def test_an_empty_file_input_sends_no_file() -> None:
    assert read_form(*multipart({"body": "x"}, ("", b"", "application/octet-stream")))[1:] == (None, None)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"GIF89a", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7", "application/pdf"),
        (b"<svg onload=alert(1)>", None),
        (b"", None),
    ],
)
def test_sniff_knows_the_types_the_portal_takes_and_no_other(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"body": "   "}, "write a message before sending it"),
        ({"body": "x" * (forms.MAX_BODY_CHARS + 1)}, "a message is at most 1800 characters"),
        ({}, "write a message before sending it"),
    ],
)
def test_a_message_body_says_what_to_change(fields: dict[str, str], problem: str) -> None:
    with pytest.raises(FormRefused, match=problem):
        forms.message_body(fields)


@pytest.mark.parametrize("raw", ["", "-1", "11", "5.5", "ten", "\uff11", "07"])
def test_a_score_is_a_whole_number_from_0_to_10(raw: str) -> None:
    with pytest.raises(FormRefused, match="choose a score from 0 to 10"):
        forms.score({"score": raw})
    assert forms.score({"score": " 7 "}) == 7


def test_a_note_is_required_only_for_changes() -> None:
    assert forms.note({}, required=False) == ""
    with pytest.raises(FormRefused, match="say what should change"):
        forms.note({"note": "  "}, required=True)


@given(st.text(max_size=300))
def test_a_safe_filename_is_printable_short_and_never_a_path(name: str) -> None:
    safe = safe_filename(name)
    assert 0 < len(safe) <= 120
    assert "/" not in safe
    assert "\\" not in safe
    assert safe.isprintable()
    assert safe not in (".", "..")


@settings(max_examples=200)
@given(st.binary(max_size=2000), st.sampled_from(["multipart/form-data; boundary=x", "text/plain", None, ""]))
def test_any_body_is_read_or_refused_never_raised_on(body: bytes, kind: str | None) -> None:
    try:
        fields, _, _ = read_form(body, kind)
    except FormRefused:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())
