"""Which business an HTTP request is for: its `/b/{slug}/` prefix (taken off before the routes see the path), else
its host (one custom domain per business, as API Gateway maps them), else the default. An unknown slug is a 404
that says so."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING, Any

from atelier.kernel.business import Business, Directory, split_prefix, working_for
from atelier.kernel.errors import ConfigurationError, DatabaseError, UnknownRecord
from atelier.kernel.page import Page
from atelier.web.frame import HTML, render
from atelier.web.http import Problem

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

_OWN_HOSTS = ("localhost", "127.0.0.1", "[::1]")
_COOKIE_PATH = re.compile(r"Path=/(?!b/)")


def unprefixed(event: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The event as the routes expect it (no `/b/{slug}`), and the slug it named (None: none)."""
    slug, path = split_prefix(str(event.get("rawPath") or ""))
    if slug is None:
        return event, None
    event = dict(event)
    event["rawPath"] = path
    context = dict(event.get("requestContext") or {})
    http = dict(context.get("http") or {})
    if http:
        http["path"] = path
        context["http"] = http
    event["requestContext"] = context
    route = str(event.get("routeKey") or "")
    if " /b/{slug}/" in route:  # "GET /b/{slug}/intake" -> "GET /intake"
        event["routeKey"] = route.replace(" /b/{slug}/", " /", 1)
    parameters = {k: v for k, v in (event.get("pathParameters") or {}).items() if k != "slug"}
    event["pathParameters"] = parameters or None
    return event, slug


def business_for(event: dict[str, Any], slug: str | None, directory: Callable[[], Directory]) -> Business | None:
    """The request's business. Raises UnknownRecord for a slug no business has. Where the directory cannot be
    read and nothing was named, None: the route answers as it would (its own database error, if any)."""
    if slug is not None:
        return directory().by_slug(slug)
    host = str((event.get("requestContext") or {}).get("domainName") or "").lower()
    try:
        found = directory()
        if host and ".execute-api." not in host and not host.startswith(_OWN_HOSTS):
            at_host = found.at_host(host)
            if at_host is not None:
                return at_host
        return found.default
    except (DatabaseError, ConfigurationError):
        return None


def unknown_business(event: dict[str, Any], slug: str) -> dict[str, Any]:
    """The 404 for a `/b/{slug}/` no business has: a page for a browser, else the refusal JSON."""
    problem = Problem(404, "unknown_business", f"There is no studio at /b/{slug}/. Check the address you were given.")
    accept = str({k.lower(): v for k, v in (event.get("headers") or {}).items()}.get("accept") or "")
    if "text/html" in accept:
        page = Page("Not found", f"<h1>Not found</h1><p>{escape(problem.message)}</p>")
        return {"statusCode": 404, "headers": {"Content-Type": HTML}, "body": render(page)}
    return {"statusCode": 404, "headers": {"Content-Type": "application/json"}, "body": problem.json()}


def under_prefix(answer: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A business's answer, with its redirects and its cookies' paths under its `/b/{slug}` prefix."""
    headers = dict(answer.get("headers") or {})
    for name, value in list(headers.items()):
        if name.lower() == "location" and str(value).startswith("/") and not str(value).startswith(("//", "/b/")):
            headers[name] = prefix + str(value)
    answer = dict(answer, headers=headers)
    cookies = answer.get("cookies")
    if cookies:
        answer["cookies"] = [_COOKIE_PATH.sub(f"Path={prefix}/", str(c)) for c in cookies]
    for name, value in list(headers.items()):
        if name.lower() == "set-cookie":
            headers[name] = _COOKIE_PATH.sub(f"Path={prefix}/", str(value))
    return answer


def serve(
    app: APIGatewayHttpResolver, event: dict[str, Any], context: Any, directory: Callable[[], Directory]
) -> dict[str, Any]:
    """The resolver's answer, for the business the request names (`/b/{slug}/`, its host, else the default): the
    routes see the path without the prefix, and the answer's redirects and cookies get it back."""
    event, slug = unprefixed(event)
    try:
        business = business_for(event, slug, directory)
    except UnknownRecord:
        return unknown_business(event, slug or "")
    except DatabaseError:  # a named business cannot be looked up while the database is down: later
        problem = Problem(503, "unavailable", "Database unavailable; retry in a minute.")
        headers = {"Content-Type": "application/json", "Retry-After": "60"}
        return {"statusCode": problem.status, "headers": headers, "body": problem.json()}
    with working_for(business):
        answer: dict[str, Any] = app.resolve(event, context)
    return answer if business is None or not business.prefix else under_prefix(answer, business.prefix)
