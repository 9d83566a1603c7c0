"""The deliverables bucket's key convention and the download links' tokens."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atelier.deliverables.keys import CATEGORIES, DeliverableKey, KeyOutsideConvention, category_of, decode_key
from atelier.deliverables.links import NEVER, DownloadLinks
from atelier.deliverables.store import content_disposition
from atelier.kernel.errors import ConfigurationError

PROJECT = "5f1c3a9e-2b7d-4c1e-9a0b-3d2e1f4a5b6c"


def test_a_key_in_the_convention_names_project_category_and_file() -> None:
    key = DeliverableKey.parse(f"projects/{PROJECT}/Photo/site/north wall.jpg")
    assert key == DeliverableKey(PROJECT, "Photo", "site/north wall.jpg")


@pytest.mark.parametrize(
    ("folder", "category"),
    [
        ("Photo", "Photo"),
        ("photos", "Photo"),
        ("DRAWINGS", "Drawing"),
        ("invoice", "Invoice"),
        ("misc", "Other"),
        ("", "Other"),
    ],
)
def test_categories_are_matched_loosely_and_anything_else_is_other(folder: str, category: str) -> None:
    assert category_of(folder) == category


@pytest.mark.parametrize(
    "key",
    [
        "uploads/plan.png",
        f"projects/{PROJECT}/plan.png",
        f"projects/{PROJECT}/Photo/",
        f"projects/{PROJECT}/Photo/   ",
        "projects/not-a-uuid/Photo/plan.png",
        "projects//Photo/plan.png",
        "",
    ],
)
def test_keys_outside_the_convention_are_refused(key: str) -> None:
    with pytest.raises(KeyOutsideConvention):
        DeliverableKey.parse(key)


def test_event_keys_are_decoded_as_s3_encodes_them() -> None:
    assert decode_key("projects/x/Photo/Fa%C3%A7ade+view+%281%29.png") == "projects/x/Photo/Façade view (1).png"
    assert decode_key("projects%2Fx%2FPhoto%2Fa%2Bb.png") == "projects/x/Photo/a+b.png"


@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60).filter(
        lambda s: s.strip() and not s.endswith("/")
    )
)
def test_any_file_name_round_trips_through_a_key(name: str) -> None:
    from urllib.parse import quote_plus

    parsed = DeliverableKey.parse(decode_key(quote_plus(DeliverableKey.make(PROJECT, "Render", name), safe="/")))
    assert (parsed.project_id, parsed.category) == (PROJECT, "Render")
    import unicodedata

    assert parsed.name == unicodedata.normalize("NFC", name).strip()


def test_the_category_list_matches_the_database_enum() -> None:
    from pathlib import Path

    sql = (Path(__file__).resolve().parents[2] / "infra/supabase/migrations/20261121000100_core_schema.sql").read_text()
    enum = sql.split("create type public.deliverable_category as enum", 1)[1].split(";", 1)[0]
    assert tuple(part.strip().strip("()'\n ") for part in enum.split(",")) == CATEGORIES


# --- tokens -------------------------------------------------------------------------------------

KEY = b"0123456789abcdef0123456789abcdef"


def test_a_link_without_expiry_is_good_for_its_deliverable_only() -> None:
    links = DownloadLinks(KEY, "https://api.example/")
    one, two = str(uuid.uuid4()), str(uuid.uuid4())
    url = links.url(one)
    assert url.startswith(f"https://api.example/deliverables/{one}/download?token={NEVER}.")
    token = url.split("token=", 1)[1]
    assert links.check(one, token) is None
    assert links.check(two, token) == "the token does not match this deliverable"


def test_expired_tampered_malformed_and_missing_tokens_are_refused() -> None:
    now = 1_800_000_000.0
    links = DownloadLinks(KEY, "https://api.example", clock=lambda: now)
    one = str(uuid.uuid4())
    assert links.check(one, links.token(one, expires=int(now) + 5)) is None
    assert links.check(one, links.token(one, expires=int(now) - 5)) == "the link has expired"
    expires, signature = links.token(one, expires=int(now) - 5).split(".")
    assert links.check(one, f"{int(expires) + 10_000}.{signature}") == "the token does not match this deliverable"
    assert links.check(one, "garbage") == "the token is malformed"
    assert links.check(one, "0.") == "the token is malformed"
    assert links.check(one, None) == "the link has no token"
    assert DownloadLinks(b"another key of 32 characters....", "x").check(one, links.token(one)) is not None
    # A signature that is not ASCII (a mangled paste) is refused, not an error
    assert links.check(one, f"{int(now) + 5}.{signature[:-1]}é") == "the token does not match this deliverable"


def test_a_short_signing_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="DOWNLOAD_TOKEN_KEY"):
        DownloadLinks(b"short", "https://api.example")


def test_content_disposition_keeps_a_unicode_name_and_an_ascii_fallback() -> None:
    header = content_disposition('projects/x/Photo/Façade "north".png')
    assert header == ("attachment; filename=\"Fa_ade 'north'.png\"; filename*=UTF-8''Fa%C3%A7ade%20%22north%22.png")
