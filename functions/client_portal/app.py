"""client_portal: `GET /portal` (sign in, or the client's projects), `POST /portal/login` (a sign-in link by e-mail)
and `GET /portal/projects/{id}`. Every read runs as the client, with their JWT's claims: row-level security is the
wall between clients (`atelier.portal`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from atelier import wiring
from atelier.http import answer_problems, header, raw_body
from atelier.portal import pages
from atelier.portal.service import is_address
from atelier.portal.session import cookie, read_cookie
from atelier.settings import PortalSettings
from atelier.telemetry import count

HTML = "text/html; charset=utf-8"
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}

settings = wiring.settings(PortalSettings)  # validated at cold start
logger, metrics = Logger(service="atelier-client_portal"), Metrics()
app = APIGatewayHttpResolver()


def _html(status: int, body: str, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(status, HTML, body, headers=PRIVATE | (headers or {}))


def _signed_in() -> Any:
    """The session in the request's cookies (API Gateway v2 hands them over as a list, not as a header)."""
    event = app.current_event
    return wiring.portal().session(read_cookie("; ".join(event.cookies or []) or header(event.headers, "cookie")))


@app.get("/portal")
def portal() -> Response[str]:
    event, service = app.current_event, wiring.portal()
    if event.get_query_string_value("signout"):
        signed_out = cookie("", secure=settings.secure, max_age=0)
        return _html(*pages.sign_in("You are signed out."), {"Set-Cookie": signed_out})
    if event.get_query_string_value("token") is not None:
        opened = service.open(event.get_query_string_value("token"))
        count(metrics, "PortalSignIn" if opened else "PortalLinkRefused")
        if opened is None:
            return _html(*pages.sign_in("That link has expired or was used already: ask for a new one below."))
        session = cookie(opened.session, secure=settings.secure)
        return Response(303, HTML, "", headers=PRIVATE | {"Location": "/portal", "Set-Cookie": session})
    session = _signed_in()
    if session is None:
        return _html(*pages.sign_in())
    claims, jwt = session
    return _html(200, pages.projects(service.projects(claims, jwt), claims.email, settings.contact()))


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
        busy = pages.sign_in(f"Too many sign-in requests: try again in {max(1, round(wait / 60))} minute(s).")[1]
        return _html(429, busy, {"Retry-After": str(wait)})
    return _html(200, pages.link_sent())


@app.get("/portal/projects/<project_id>")
def project(project_id: str) -> Response[str]:
    session = _signed_in()
    if session is None:
        return _html(*pages.sign_in(status=401))
    claims, jwt = session
    found = wiring.portal().project(claims, jwt, project_id)
    if found is None:  # not theirs, or no such project: the same answer
        return _html(404, pages.not_found(claims.email))
    return _html(200, pages.project(found, claims.email, settings.contact(), wiring.download_links().url))


answer_problems(app, logger, metrics, refused_metric="PortalRefused",
                unavailable="The portal cannot reach its records just now. Please try again in a minute.")  # fmt: skip


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
