"""The portal's routes as the client meets them. A request is parsed at the edge (`parse_portal_request`); the desk
decides what it gets (a page, a redirect, a cookie) as an `Answer`, which the handler only sends. Every read runs
as the client, with their claims: row-level security is the wall between clients."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from atelier.kernel.body import header, raw_body
from atelier.kernel.errors import in_minutes
from atelier.kernel.page import Page
from atelier.portal import pages
from atelier.portal.conversation import Conversation, Outcome
from atelier.portal.forms import CSRF_FIELD, FormRefused, Upload, read_form
from atelier.portal.service import PortalService, is_address
from atelier.portal.session import Claims, cookie, read_cookie

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

# The portal's routes: (method, rule, the desk's method); each path parameter is passed on in order.
ROUTES = (
    ("GET", "/portal", "home"),
    ("POST", "/portal/login", "login"),
    ("GET", "/portal/projects/<project_id>", "project"),
    ("GET", "/portal/deliverables/<deliverable_id>", "deliverable"),
    ("POST", "/portal/projects/<project_id>/messages", "message"),
    ("POST", "/portal/deliverables/<deliverable_id>/decision", "decision"),
    ("POST", "/portal/projects/<project_id>/feedback", "feedback"),
    ("GET", "/portal/messages/<message_id>/attachment", "attachment"),
    ("GET", "/portal/documents/<number>", "document"),
)
UNAVAILABLE = "The portal cannot reach its records just now. Please try again in a minute."
DOWNLOAD_LINK_SECONDS = 300  # the link a signed-in client is sent on to: long enough to start the download


@dataclass(frozen=True)
class PortalRequest:
    cookie: str | None  # the session cookie, as sent
    token: str | None = None  # a sign-in link's token
    signout: bool = False
    email: str = ""  # the sign-in form's address
    source_ip: str | None = None
    fields: dict[str, str] = field(default_factory=dict)  # a form's fields
    upload: Upload | None = None  # the one file a form may carry
    refused: str | None = None  # why the form could not be read (too large a file, a type the portal refuses)
    notice: str | None = None  # `?done=`: what the last form did, said once on the page it led back to

    @property
    def form_token(self) -> str | None:
        return self.fields.get(CSRF_FIELD)


def parse_portal_request(event: APIGatewayProxyEventV2) -> PortalRequest:
    """API Gateway v2 hands cookies over as a list, not as a header; a form is urlencoded, or multipart with a file."""
    refused, upload, fields = None, None, dict[str, str]()
    try:
        fields, upload, refused = read_form(
            raw_body(event.body, event.is_base64_encoded), header(event.headers, "content-type")
        )
    except FormRefused as exc:
        refused = str(exc)
    return PortalRequest(
        cookie=read_cookie("; ".join(event.cookies or []) or header(event.headers, "cookie")),
        token=event.get_query_string_value("token"),
        signout=bool(event.get_query_string_value("signout")),
        email=(fields.get("email") or "").strip(),
        source_ip=event.request_context.http.source_ip,
        fields=fields,
        upload=upload,
        refused=refused,
        notice=event.get_query_string_value("done"),
    )


@dataclass(frozen=True)
class Answer:
    status: int
    page: Page | None = None  # None: a redirect, with its Location in `headers` (or a file)
    headers: dict[str, str] = field(default_factory=dict)
    metric: str | None = None
    file: tuple[str, str, bytes] | None = None  # (filename, content type, bytes): a document served as it is


def _page(shown: tuple[int, Page], headers: dict[str, str] | None = None, metric: str | None = None) -> Answer:
    return Answer(shown[0], shown[1], headers or {}, metric)


class DownloadLinks(Protocol):
    """The deliverables' signed links (`deliverables.links.DownloadLinks`), as the portal uses them."""

    def url(self, deliverable_id: str, *, expires: int) -> str: ...


class PortalDesk:
    def __init__(
        self,
        service: PortalService,
        links: DownloadLinks,
        *,
        secure: bool,
        contact: str,
        conversation: Conversation,
        documents: Callable[[Mapping[str, Any]], tuple[str, bytes]] | None = None,
    ) -> None:
        self._service, self._links, self._secure, self._contact = service, links, secure, contact
        self._conversation = conversation
        self._documents = documents  # a receipt's or invoice's PDF: (filename, bytes) from `money_document`

    def _claims(self, request: PortalRequest) -> Claims | None:
        return self._service.session(request.cookie)

    def home(self, request: PortalRequest) -> Answer:
        """Sign out, open a sign-in link, or show the signed-in client's projects (else the sign-in form)."""
        if request.signout:
            self._service.sign_out(request.cookie)  # ended on the server: a copy of the cookie opens nothing now
            return _page(
                pages.sign_in("You are signed out."), {"Set-Cookie": cookie("", secure=self._secure, max_age=0)}
            )
        if request.token is not None:
            opened = self._service.open(request.token, request.source_ip)
            if opened is None:
                expired = "That link has expired or was used already: ask for a new one below."
                return _page(pages.sign_in(expired), metric="PortalLinkRefused")
            session = cookie(opened.session, secure=self._secure)
            return Answer(303, None, {"Location": "/portal", "Set-Cookie": session}, "PortalSignIn")
        claims = self._claims(request)
        if claims is None:
            return _page(pages.sign_in())
        quotes = self._service.open_quotes(claims)
        return Answer(200, pages.projects(self._service.projects(claims), claims.email, self._contact, quotes))

    def login(self, request: PortalRequest) -> Answer:
        """A sign-in link by e-mail, within the limits per address and per source."""
        if not is_address(request.email):
            return _page(pages.sign_in("Enter the e-mail address you paid with, such as name@example.com.", status=422))
        wait = self._service.request_sign_in(request.email, request.source_ip)
        if wait:
            busy = pages.sign_in(f"Too many sign-in requests: try again in {in_minutes(wait)}.")[1]
            return Answer(429, busy, {"Retry-After": str(wait)}, "PortalSignInLimited")
        return Answer(200, pages.link_sent(), metric="PortalSignInRequested")

    def project(
        self, request: PortalRequest, project_id: str, *, status: int = 200, problem: str | None = None
    ) -> Answer:
        claims = self._claims(request)
        if claims is None:
            return _page(pages.sign_in(status=401))
        found = self._service.project(claims, project_id)
        if found is None:  # not theirs, or no such project: the same answer
            return Answer(404, pages.not_found(claims.email))
        shown = pages.Shown(
            form_token=self._service.form_token(request.cookie) or "",
            notice=pages.NOTICES.get(request.notice or "") if problem is None else None,
            problem=problem,
            draft=request.fields.get("body", "") if problem else "",
        )
        return Answer(status, pages.project(found, claims.email, self._contact, pages.deliverable_path, shown))

    def _form(self, request: PortalRequest) -> tuple[Claims | None, Answer | None]:
        """The signed-in client behind a form, or the answer that refuses it: no session (401), or a form that is
        not the session's own (403: a page of another site, or one left open past a sign-out)."""
        claims = self._claims(request)
        if claims is None:
            return None, _page(pages.sign_in("Sign in again: your session has ended.", status=401))
        if not self._service.form_token_ok(request.cookie, request.form_token):
            return None, Answer(403, pages.stale_form(claims.email), metric="PortalFormRefused")
        return claims, None

    def _write(self, request: PortalRequest, act: Callable[[Claims], Outcome]) -> Answer:
        """A form that writes as the client: back to the page it came from (303), or that page again saying what to
        change (its status: 409, 422, 429); another's record, or none, is 404 as for reads."""
        claims, refusal = self._form(request)
        if claims is None:
            return refusal or _page(pages.sign_in(status=401))
        outcome = act(claims)
        if outcome.status == 404:
            return Answer(404, pages.not_found(claims.email), metric="PortalWriteRefused")
        if outcome.problem:
            shown = self.project(request, outcome.project_id, status=outcome.status, problem=outcome.problem)
            return Answer(shown.status, shown.page, shown.headers | outcome.headers, outcome.metric)
        return Answer(303, None, {"Location": outcome.location}, outcome.metric)

    def message(self, request: PortalRequest, project_id: str) -> Answer:
        """A client's message on their project, with a file or none; back to the thread, which shows it."""
        if request.refused:  # the file: what the client typed is shown again with what to change
            return self._write(request, lambda _: Outcome(422, problem=request.refused, project_id=project_id))
        return self._write(request, lambda c: self._conversation.post(c, project_id, request.fields, request.upload))

    def decision(self, request: PortalRequest, deliverable_id: str) -> Answer:
        """ "Approve", or "Ask for changes" with a note, on one version of a deliverable."""
        return self._write(request, lambda c: self._conversation.decide(c, deliverable_id, request.fields))

    def feedback(self, request: PortalRequest, project_id: str) -> Answer:
        """The answer to the question asked at delivery (0-10, and a comment if the client likes)."""
        return self._write(request, lambda c: self._conversation.answer(c, project_id, request.fields))

    def attachment(self, request: PortalRequest, message_id: str) -> Answer:
        """A file attached to a message in the client's thread: a fresh link that lasts minutes."""
        claims = self._claims(request)
        if claims is None:
            return _page(pages.sign_in("Sign in to open the files in your messages.", status=401))
        link = self._conversation.attachment_url(claims, message_id)
        if link is None:
            return Answer(404, pages.not_found(claims.email))
        return Answer(302, None, {"Location": link}, "PortalDownload")

    def deliverable(self, request: PortalRequest, deliverable_id: str) -> Answer:
        """A file, for its client only: a fresh link that lasts minutes. The e-mails and the project page link here,
        so a link that leaks from an e-mail opens nothing without the client's sign-in."""
        claims = self._claims(request)
        if claims is None:
            return _page(pages.sign_in("Sign in to download the studio's files.", status=401))
        found = self._service.deliverable(claims, deliverable_id)
        if found is None:  # not theirs, deleted, or their project was refunded: the same answer
            return Answer(404, pages.not_found(claims.email))
        link = self._links.url(str(found["id"]), expires=int(time.time()) + DOWNLOAD_LINK_SECONDS)
        return Answer(302, None, {"Location": link}, "PortalDownload")

    def document(self, request: PortalRequest, number: str) -> Answer:
        """A receipt or an invoice of the client's own, as a PDF (another client's number: not found)."""
        claims = self._claims(request)
        if claims is None:
            return _page(pages.sign_in("Sign in to download your receipts and invoices.", status=401))
        found = self._service.document(claims, number) if self._documents else None
        if found is None or self._documents is None:
            return Answer(404, pages.not_found(claims.email))
        name, data = self._documents(found)
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Answer(200, None, headers, "PortalDocument", file=(name, "application/pdf", data))
