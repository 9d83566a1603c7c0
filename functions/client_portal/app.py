"""client_portal: `GET /portal` (sign in, or the client's projects), `POST /portal/login` (a sign-in link by e-mail),
`GET /portal/projects/{id}` and `GET /portal/deliverables/{id}` (a file, through a link that lasts minutes). Every
read runs as the client, with their claims: row-level security is the wall between clients (`atelier.portal`)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from atelier import wiring
from atelier.kernel.body import header, raw_body
from atelier.kernel.errors import in_minutes
from atelier.kernel.page import Page
from atelier.kernel.settings import PortalSettings
from atelier.kernel.telemetry import count
from atelier.portal import pages
from atelier.portal.service import is_address
from atelier.portal.session import Claims, cookie, read_cookie
from atelier.web.frame import html_response
from atelier.web.http import answer_problems

PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
DOWNLOAD_LINK_SECONDS = 300  # the link a signed-in client is sent on to: long enough to start the download

settings = wiring.settings(PortalSettings)  # validated at cold start
logger, metrics = Logger(service="atelier-client_portal"), Metrics()
app = APIGatewayHttpResolver()


def _html(status: int, page: Page, headers: dict[str, str] | None = None) -> Response[str]:
    return html_response(status, page, PRIVATE | (headers or {}))


def _cookie() -> str | None:
    """The session cookie (API Gateway v2 hands cookies over as a list, not as a header)."""
    event = app.current_event
    return read_cookie("; ".join(event.cookies or []) or header(event.headers, "cookie"))


def _signed_in() -> Claims | None:
    return wiring.portal().session(_cookie())


@app.get("/portal")
def portal() -> Response[str]:
    event, service = app.current_event, wiring.portal()
    if event.get_query_string_value("signout"):
        service.sign_out(_cookie())  # ended on the server: a copy of the cookie opens nothing now
        signed_out = cookie("", secure=settings.secure, max_age=0)
        return _html(*pages.sign_in("You are signed out."), {"Set-Cookie": signed_out})
    if event.get_query_string_value("token") is not None:
        opened = service.open(event.get_query_string_value("token"))
        count(metrics, "PortalSignIn" if opened else "PortalLinkRefused")
        if opened is None:
            return _html(*pages.sign_in("That link has expired or was used already: ask for a new one below."))
        session = cookie(opened.session, secure=settings.secure)
        return Response(303, "text/plain", "", headers=PRIVATE | {"Location": "/portal", "Set-Cookie": session})
    claims = _signed_in()
    if claims is None:
        return _html(*pages.sign_in())
    return _html(200, pages.projects(service.projects(claims), claims.email, settings.contact()))


@app.post("/portal/login")
def login() -> Response[str]:
    event = app.current_event

    fields = parse_qs(raw_body(event.body, event.is_base64_encoded).decode("utf-8", "replace"))
    email = (fields.get("email") or [""])[0].strip()
    if not is_address(email):
        return _html(*pages.sign_in("Enter the e-mail address you paid with, such as name@example.com.", status=422))
    wait = wiring.portal().request_sign_in(email, event.request_context.http.source_ip)
    count(metrics, "PortalSignInLimited" if wait else "PortalSignInRequested")
    if wait:
        busy = pages.sign_in(f"Too many sign-in requests: try again in {in_minutes(wait)}.")[1]
        return _html(429, busy, {"Retry-After": str(wait)})
    return _html(200, pages.link_sent())


@app.get("/portal/projects/<project_id>")
def project(project_id: str) -> Response[str]:
    claims = _signed_in()
    if claims is None:
        return _html(*pages.sign_in(status=401))
    found = wiring.portal().project(claims, project_id)
    if found is None:  # not theirs, or no such project: the same answer
        return _html(404, pages.not_found(claims.email))
    return _html(200, pages.project(found, claims.email, settings.contact(), pages.deliverable_path))


@app.get("/portal/deliverables/<deliverable_id>")
def deliverable(deliverable_id: str) -> Response[str]:
    """A file, for its client only: a fresh link that lasts minutes. The e-mails and the project page link here, so
    a link that leaks from an e-mail opens nothing without the client's sign-in."""
    claims = _signed_in()
    if claims is None:
        return _html(*pages.sign_in("Sign in to download the studio's files.", status=401))
    found = wiring.portal().deliverable(claims, deliverable_id)
    if found is None:  # not theirs, deleted, or their project was refunded: the same answer
        return _html(404, pages.not_found(claims.email))
    count(metrics, "PortalDownload")
    link = wiring.download_links().url(str(found["id"]), expires=int(time.time()) + DOWNLOAD_LINK_SECONDS)
    return Response(302, "text/plain", "", headers=PRIVATE | {"Location": link})


answer_problems(
    app,
    logger,
    metrics,
    refused_metric="PortalRefused",
    unavailable="The portal cannot reach its records just now. Please try again in a minute.",
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
