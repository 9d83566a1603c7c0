"""The businesses one deployment serves, as the code reads them: the directory (`business_directory` rpc, kept
for a minute), which business a request is for (its `/b/{slug}/` prefix, else its host, else the default), and
where each business's secrets are (`*_ref`: a Secrets Manager ARN or `ssm:/parameter` in AWS, a `dev.json:` key
locally).

The default business is the first one. It never needs naming: a deployment with one business has no slug
anywhere, and its secrets are the deployment's own settings, as before there were businesses."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, copy_context
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from atelier.kernel.errors import ConfigurationError, UnknownRecord

if TYPE_CHECKING:
    from atelier.kernel.rpc import Rpc

FRESH_SECONDS = 60.0
BRAND_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")  # the only colours a page or an e-mail is given
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
PREFIX = re.compile(r"^/b/([^/]+)(/.*)?$")
DEV_REF = "dev.json:"


@dataclass(frozen=True)
class Business:
    id: str
    slug: str
    name: str
    default: bool
    currency: str = "usd"
    brand_colour: str = "#1f3a5f"
    domain: str | None = None
    logo_key: str | None = None
    legal_name: str | None = None
    contact_email: str | None = None
    address: str | None = None
    time_zone: str = "UTC"
    ses_sender: str | None = None
    notion_parent_page_id: str | None = None
    notion_base_url: str | None = None
    refs: Mapping[str, str] | None = None  # stripe_secret_key, stripe_webhook_secret, notion_token, ...
    by_host: bool = False  # this request reached it at its own domain: its routes there have no prefix

    @classmethod
    def from_row(cls, row: Mapping[str, Any], *, default: bool) -> Business:
        refs = {k.removesuffix("_ref"): str(v) for k, v in row.items() if k.endswith("_ref") and v}

        def text(key: str) -> str | None:
            return str(row[key]) if row.get(key) else None

        return cls(
            id=str(row["id"]),
            slug=str(row["slug"]),
            name=str(row["name"]),
            default=default,
            currency=str(row.get("currency") or "usd"),
            brand_colour=str(row.get("brand_colour") or "#1f3a5f"),
            time_zone=str(row.get("time_zone") or "UTC"),
            refs=refs,
            domain=text("domain"),
            logo_key=text("logo_key"),
            legal_name=text("legal_name"),
            contact_email=text("contact_email"),
            address=text("address"),
            ses_sender=text("ses_sender"),
            notion_parent_page_id=text("notion_parent_page_id"),
            notion_base_url=text("notion_base_url"),
        )

    @property
    def prefix(self) -> str:
        """The URL prefix of its public routes: none for the default, nor at its own domain."""
        return "" if self.default or self.by_host else f"/b/{self.slug}"

    def secret(self, name: str) -> str | None:
        """The value of one of its secrets (`stripe_webhook_secret`, `notion_token`, ...), or None when it has no
        reference to one (the default business then uses the deployment's own setting)."""
        ref = (self.refs or {}).get(name)
        return None if ref is None else resolve_ref(ref)


def resolve_ref(ref: str) -> str:
    """A secret reference's value: `dev.json:businesses.<slug>.<key>` locally, else a Secrets Manager id or
    `ssm:/parameter` (kernel.settings.fetch_secret)."""
    if ref.startswith(DEV_REF):
        from atelier.kernel.settings import dev_state_path

        path = dev_state_path()
        try:
            value: Any = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read {path} for {ref!r}: is `make dev` running?") from exc
        for key in ref[len(DEV_REF) :].split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, str) or not value:
            raise ConfigurationError(f"{path} has no value at {ref[len(DEV_REF) :]!r}: restart `make dev`")
        return value
    from atelier.kernel.settings import fetch_secret

    return fetch_secret(ref)


class Directory:
    """The businesses, read from Postgres at most once a minute per warm function."""

    def __init__(self, rpc: Rpc, *, fresh_seconds: float = FRESH_SECONDS) -> None:
        self._rpc = rpc
        self._fresh = fresh_seconds
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._all: tuple[Business, ...] = ()

    def all(self) -> tuple[Business, ...]:
        with self._lock:
            if time.monotonic() - self._read_at >= self._fresh or not self._all:
                rows = self._rpc.rpc("business_directory") or []
                if not rows:
                    raise ConfigurationError("there is no business: run `atelier db migrate`")
                self._all = tuple(Business.from_row(r, default=i == 0) for i, r in enumerate(rows))
                self._read_at = time.monotonic()
            return self._all

    def forget(self) -> None:
        with self._lock:
            self._read_at = float("-inf")

    @property
    def default(self) -> Business:
        return self.all()[0]

    def by_slug(self, slug: str) -> Business:
        for business in self.all():
            if business.slug == slug:
                return business
        self.forget()  # added a moment ago? one fresh read before saying no
        for business in self.all():
            if business.slug == slug:
                return business
        raise UnknownRecord(f"no business is called {slug!r}: check the address")

    def at_host(self, host: str | None) -> Business | None:
        """The business whose own domain `host` is, as reached there (no prefix)."""
        host = (host or "").split(":")[0].lower()
        found = next((b for b in self.all() if host and b.domain == host), None)
        return None if found is None else replace(found, by_host=True)

    def named(self, slug: str | None) -> Business:
        """`--business SLUG`, or the default when none is named."""
        return self.default if not slug else self.by_slug(slug)

    def has(self, slug: str | None) -> bool:
        return slug is None or any(b.slug == slug for b in self.all())

    def slug_of(self, business_id: str | None) -> str | None:
        """The slug of the business with this id (None: the default). Raises UnknownRecord for an unknown id."""
        if business_id is None:
            return None
        for business in self.all():
            if business.id == business_id:
                return business.slug
        raise UnknownRecord("the record names a business this deployment does not have")


def split_prefix(path: str) -> tuple[str | None, str]:
    """(`slug`, the path without `/b/{slug}`) for a prefixed path, else (None, path)."""
    match = PREFIX.match(path or "")
    if match is None:
        return None, path
    return match.group(1), match.group(2) or "/"


_CURRENT: ContextVar[Business | None] = ContextVar("atelier_business", default=None)


def current() -> Business | None:
    """The business this request or command is for; None where nothing named one (the default's settings)."""
    return _CURRENT.get()


def whose() -> str:
    """Whose page or message this is, in words: the current business's name, else "the studio"."""
    business = _CURRENT.get()
    return business.name if business is not None else "the studio"


def named() -> Business | None:
    """The current business when it is not the default: the one that must be named to the database."""
    business = _CURRENT.get()
    return None if business is None or business.default else business


def enter(business: Business | None) -> Any:
    """Make `business` current; returns the token `leave` takes."""
    return _CURRENT.set(business)


def leave(token: Any) -> None:
    _CURRENT.reset(token)


@contextmanager
def working_for(business: Business | None) -> Iterator[Business | None]:
    """`business` is current until the block ends."""
    token = enter(business)
    try:
        yield business
    finally:
        leave(token)


class PerBusiness[T]:
    """A factory's product, built once per business (the wiring's `lru_cache`, keyed by the current business)."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._built: dict[str, T] = {}
        self._lock = threading.RLock()
        self.__doc__ = factory.__doc__
        self.__name__ = factory.__name__

    def __call__(self) -> T:
        business = named()
        key = "" if business is None else repr(business)  # as read now: a changed setting builds afresh
        with self._lock:
            if key not in self._built:
                self._built[key] = self._factory()
            return self._built[key]

    def cache_clear(self) -> None:
        with self._lock:
            self._built.clear()


@dataclass(frozen=True)
class Runs[T]:
    """What `for_each` did: each business's result, and each one's failure."""

    done: Mapping[str, T]
    failed: Mapping[str, Exception]

    def settled(self, log: Any = None) -> Runs[T]:
        """These runs, each failure logged (`log.error`), or the first failure raised when nothing ran (the
        function then fails, as it always did)."""
        for slug, exc in self.failed.items():
            if log is not None:
                log.error("a business's run failed", extra={"business": slug}, exc_info=exc)
        if self.failed and not self.done:
            raise next(iter(self.failed.values()))
        return self

    def answer(self, counts: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
        """The function's answer: the one business's counts, or (several) the sums, then each business's."""
        each = {slug: counts(result) for slug, result in self.done.items()}
        if len(each) == 1 and not self.failed:
            return next(iter(each.values()))
        keys = {k for c in each.values() for k, v in c.items() if isinstance(v, int) and not isinstance(v, bool)}
        total = {k: sum(int(c.get(k) or 0) for c in each.values()) for k in sorted(keys)}
        failed = {slug: type(exc).__name__ for slug, exc in self.failed.items()}
        return {**total, "businesses": each, "failed": failed}


def for_each[T](businesses: Iterable[Business], work: Callable[[Business], T]) -> Runs[T]:
    """`work` for each business, each as the current one, side by side (one thread each, up to 20 at once):
    each has its own Notion limit, so one business's backlog never waits behind another's. One business's
    failure is its result, and never stops another's. A deployment with one business runs it in this thread."""
    listed = list(businesses)

    def one(business: Business) -> T | Exception:
        with working_for(business):
            try:
                return work(business)
            except Exception as exc:  # the caller reports it, per business
                return exc

    if len(listed) <= 1:
        results = {b.slug: one(b) for b in listed}
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(len(listed), 20), thread_name_prefix="business") as pool:
            futures = {b.slug: pool.submit(copy_context().run, one, b) for b in listed}
            results = {slug: future.result() for slug, future in futures.items()}
    done = {slug: r for slug, r in results.items() if not isinstance(r, Exception)}
    return Runs(done, {slug: r for slug, r in results.items() if isinstance(r, Exception)})
