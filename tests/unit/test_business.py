"""Which business a request or a run is for: the `/b/{slug}/` prefix, the directory, secrets by reference, and runs
side by side that never let one business's failure stop another's."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from atelier.kernel.business import Business, Directory, PerBusiness, current, for_each, resolve_ref, split_prefix
from atelier.kernel.errors import ConfigurationError, UnknownRecord
from atelier.web.business import under_prefix, unknown_business, unprefixed

ROWS = [
    {"id": "00000000-0000-4000-8000-000000000001", "slug": "studio", "name": "The Studio"},
    {"id": "00000000-0000-4000-8000-000000000002", "slug": "kaa", "name": "KAA", "domain": "kaa.example"},
]


class FakeRpc:
    def __init__(self) -> None:
        self.calls = 0

    def rpc(self, function: str, /, **args: Any) -> Any:
        assert function == "business_directory"
        self.calls += 1
        return ROWS


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/b/kaa/intake", ("kaa", "/intake")),
        ("/b/kaa/portal/projects/1", ("kaa", "/portal/projects/1")),
        ("/b/kaa", ("kaa", "/")),
        ("/intake", (None, "/intake")),
        ("/bee/intake", (None, "/bee/intake")),
        ("", (None, "")),
    ],
)
def test_a_prefix_names_a_business_and_comes_off_the_path(path: str, expected: tuple[str | None, str]) -> None:
    assert split_prefix(path) == expected


def test_the_routes_see_the_event_without_its_prefix() -> None:
    event = {
        "rawPath": "/b/kaa/portal/projects/7",
        "routeKey": "GET /b/{slug}/portal/projects/{id}",
        "requestContext": {"http": {"method": "GET", "path": "/b/kaa/portal/projects/7"}},
        "pathParameters": {"slug": "kaa", "id": "7"},
    }
    seen, slug = unprefixed(event)
    assert slug == "kaa"
    assert seen["rawPath"] == seen["requestContext"]["http"]["path"] == "/portal/projects/7"
    assert seen["routeKey"] == "GET /portal/projects/{id}"
    assert seen["pathParameters"] == {"id": "7"}
    assert event["rawPath"] == "/b/kaa/portal/projects/7"  # the caller's event is left as it was


def test_redirects_and_cookies_get_the_prefix_back_and_absolute_ones_are_left() -> None:
    answer = {
        "statusCode": 303,
        "headers": {"Location": "/portal", "Set-Cookie": "atelier_portal=x; Path=/portal; HttpOnly"},
        "cookies": ["a=b; Path=/"],
    }
    moved = under_prefix(answer, "/b/kaa")
    assert moved["headers"]["Location"] == "/b/kaa/portal"
    assert moved["headers"]["Set-Cookie"] == "atelier_portal=x; Path=/b/kaa/portal; HttpOnly"
    assert moved["cookies"] == ["a=b; Path=/b/kaa/"]
    away = under_prefix({"headers": {"Location": "https://s3.example/file"}}, "/b/kaa")
    assert away["headers"]["Location"] == "https://s3.example/file"


def test_an_unknown_business_is_a_404_that_says_so() -> None:
    answer = unknown_business({"headers": {"Accept": "application/json"}}, "nope")
    assert answer["statusCode"] == 404
    assert json.loads(answer["body"])["error"] == "unknown_business"
    page = unknown_business({"headers": {"accept": "text/html"}}, "<nope>")
    assert "&lt;nope&gt;" in page["body"]
    assert "<nope>" not in page["body"]


def test_the_directory_reads_once_a_minute_and_the_first_business_is_the_default() -> None:
    rpc = FakeRpc()
    directory = Directory(rpc)
    assert directory.default.slug == "studio"
    assert directory.default.prefix == ""
    assert directory.by_slug("kaa").prefix == "/b/kaa"
    assert rpc.calls == 1
    reached = directory.at_host("KAA.example:443")
    assert reached is not None
    assert (reached.slug, reached.prefix) == ("kaa", "")  # at its own domain, no prefix
    assert directory.at_host("other.example") is None
    with pytest.raises(UnknownRecord, match="no business is called 'nope'"):
        directory.by_slug("nope")
    assert rpc.calls == 2  # one fresh read before saying no
    assert directory.named(None).slug == "studio"


def test_runs_side_by_side_each_as_its_business_and_a_failure_stays_its_own() -> None:
    businesses = [Business.from_row(r, default=i == 0) for i, r in enumerate(ROWS)]
    seen: dict[str, tuple[str | None, str]] = {}

    def work(business: Business) -> dict[str, int]:
        now = current()
        seen[business.slug] = (now.slug if now else None, threading.current_thread().name)
        if business.slug == "kaa":
            raise RuntimeError("its Notion is down")
        return {"sent": 2}

    runs = for_each(businesses, work)
    assert {slug: slug_seen for slug, (slug_seen, _) in seen.items()} == {"studio": "studio", "kaa": "kaa"}
    assert list(runs.done) == ["studio"]
    assert isinstance(runs.failed["kaa"], RuntimeError)
    assert runs.settled().answer(dict) == {
        "sent": 2,
        "businesses": {"studio": {"sent": 2}},
        "failed": {"kaa": "RuntimeError"},
    }
    with pytest.raises(RuntimeError):
        for_each(businesses[1:], work).settled()  # nothing ran: the function fails, as it always did
    assert for_each(businesses[:1], work).answer(dict) == {"sent": 2}  # one business: its answer, as before


def test_a_factory_builds_once_per_business() -> None:
    from atelier.kernel.business import working_for

    built: list[str | None] = []

    @PerBusiness
    def thing() -> str | None:
        now = current()
        built.append(now.slug if now else None)
        return built[-1]

    kaa = Business.from_row(ROWS[1], default=False)
    assert thing() is None
    with working_for(kaa):
        assert thing() == "kaa"
        assert thing() == "kaa"
    assert thing() is None
    assert built == [None, "kaa"]


def test_a_dev_json_reference_reads_the_local_state_and_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "dev.json"
    state.write_text(json.dumps({"businesses": {"kaa": {"stripe_webhook_secret": "whsec_x"}}}))
    monkeypatch.setenv("ATELIER_DEV_STATE", str(state))
    assert resolve_ref("dev.json:businesses.kaa.stripe_webhook_secret") == "whsec_x"
    with pytest.raises(ConfigurationError, match=r"businesses\.kaa\.notion_token"):
        resolve_ref("dev.json:businesses.kaa.notion_token")
    monkeypatch.setenv("ATELIER_DEV_STATE", str(tmp_path / "missing.json"))
    with pytest.raises(ConfigurationError, match="is `make dev` running"):
        resolve_ref("dev.json:businesses.kaa.stripe_webhook_secret")


def test_a_named_business_while_the_database_is_down_is_a_503_to_retry() -> None:
    from atelier.kernel.errors import DatabaseUnavailable
    from atelier.web.business import serve

    class Down:
        def rpc(self, function: str, /, **args: Any) -> Any:
            raise DatabaseUnavailable("cannot connect")

    class NeverRouted:
        def resolve(self, event: Any, context: Any) -> Any:
            raise AssertionError("no route runs for a business that could not be looked up")

    answer = serve(NeverRouted(), {"rawPath": "/b/kaa/intake"}, None, lambda: Directory(Down()))  # type: ignore[arg-type]
    assert answer["statusCode"] == 503
    assert answer["headers"]["Retry-After"] == "60"
