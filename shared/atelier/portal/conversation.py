"""The client's side of the conversation: a message (with a file or none), a decision on a deliverable, the answer
to the question at delivery. Each is written as the client, so row-level security is the wall; what the team must
hear goes to Notion at once (`bell`), and the outbox behind it sends it later if Notion does not answer now."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from atelier.kernel.errors import InvalidData, PermissionDenied
from atelier.portal import forms
from atelier.portal.forms import FormRefused, Upload
from atelier.portal.service import PortalService

if TYPE_CHECKING:
    from atelier.portal.session import Claims

logger = logging.getLogger(__name__)
BELL_SECONDS = 4.0  # how long a client's request waits for Notion to take the team's comment
DECISIONS = {"approve": "approved", "changes": "changes_requested"}


@dataclass(frozen=True)
class Outcome:
    status: int  # 303 on success (to `location`); 404, 409, 422 or 429 otherwise
    location: str = ""
    problem: str | None = None  # what the client is told, on the page the form was on
    project_id: str = ""
    metric: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Files(Protocol):
    """Where a client's attachment is kept (the deliverables' `ObjectStore`, given by the wiring)."""

    def put(self, bucket: str, key: str, data: bytes, content_type: str) -> None: ...

    def delete(self, bucket: str, key: str) -> None: ...

    def download_url(self, file: dict[str, Any]) -> str: ...


# (project id, message id, file name) -> the file's key: beside the project's deliverables, never among them
KeyOf = Callable[[str, str, str], str]


def _thread(project_id: str, done: str, anchor: str) -> str:
    return f"/portal/projects/{project_id}?done={done}#{anchor}"


class Conversation:
    def __init__(
        self,
        service: PortalService,
        store: Files,
        bucket: Callable[[], str],
        bell: Callable[[float], None],
        key_of: KeyOf,
    ) -> None:
        self._service, self._store, self._bucket, self._bell = service, store, bucket, bell
        self._key_of = key_of

    def _ring(self) -> None:
        """The team's comment now; the comment outbox is the guarantee, so a failure here only delays it."""
        try:
            self._bell(BELL_SECONDS)
        except Exception:
            logger.warning("the team's comment waits for the next sync run", exc_info=True)

    def post(self, claims: Claims, project_id: str, fields: dict[str, str], upload: Upload | None) -> Outcome:
        try:
            body = forms.message_body(fields)
        except FormRefused as exc:
            return Outcome(422, problem=str(exc), project_id=project_id)
        if self._service.project(claims, project_id) is None:  # the handler's own check; RLS is the wall behind it
            return Outcome(404, project_id=project_id)
        message_id = str(uuid.uuid4())
        attachment = self._store_file(project_id, message_id, upload) if upload else None
        try:
            posted = self._service.post_message(claims, project_id, body, attachment, message_id)
        except (PermissionDenied, InvalidData) as exc:
            self._forget(attachment)
            if isinstance(exc, PermissionDenied):
                return Outcome(404, project_id=project_id)
            return Outcome(422, problem="the message could not be taken as written: shorten it", project_id=project_id)
        except Exception:
            self._forget(attachment)
            raise
        if posted.get("limited"):
            self._forget(attachment)
            wait = int(posted.get("retry_after") or 60)
            return Outcome(
                429,
                problem=f"You have sent many messages just now: send this one in {max(1, wait // 60)} minute(s).",
                project_id=project_id,
                metric="PortalMessageLimited",
                headers={"Retry-After": str(wait)},
            )
        self._ring()
        return Outcome(303, _thread(project_id, "message", "messages"), project_id=project_id, metric="PortalMessage")

    def _store_file(self, project_id: str, message_id: str, upload: Upload) -> dict[str, Any]:
        key = self._key_of(project_id, message_id, upload.filename)
        self._store.put(self._bucket(), key, upload.data, upload.content_type)
        return {"key": key, "name": upload.filename, "type": upload.content_type, "size": len(upload.data)}

    def _forget(self, attachment: dict[str, Any] | None) -> None:
        """A stored file whose message was not written: removed, so nothing is left that no record holds."""
        if attachment:
            try:
                self._store.delete(self._bucket(), str(attachment["key"]))
            except Exception:
                logger.warning("could not remove %s", attachment["key"], exc_info=True)

    def decide(self, claims: Claims, deliverable_id: str, fields: dict[str, str]) -> Outcome:
        decision = DECISIONS.get(fields.get("decision", ""))
        if decision is None:
            return self._refused_decision(claims, deliverable_id, "choose Approve or Ask for changes")
        try:
            note = forms.note(fields, required=decision == "changes_requested")
        except FormRefused as exc:
            return self._refused_decision(claims, deliverable_id, str(exc))
        try:
            result = self._service.decide(claims, deliverable_id, decision, note)
        except PermissionDenied:
            return Outcome(404)
        outcome, project_id = str(result.get("outcome")), str(result.get("project_id") or "")
        if outcome == "not_found":
            return Outcome(404)
        problems = {
            "already": "You have decided on this version already. A new version starts a new round.",
            "superseded": "A newer version of this file is waiting for you: decide on that one.",
            "not_asked": "This file does not need your approval.",
        }
        if outcome in problems:
            return Outcome(409, problem=problems[outcome], project_id=project_id)
        self._ring()
        done = "approved" if decision == "approved" else "changes"
        return Outcome(303, _thread(project_id, done, "files"), project_id=project_id, metric="PortalDecision")

    def _refused_decision(self, claims: Claims, deliverable_id: str, problem: str) -> Outcome:
        """A decision the form got wrong: shown on its own project's page, when the file is the client's."""
        found = self._service.deliverable(claims, deliverable_id)
        return Outcome(422, problem=problem, project_id=str(found["project_id"])) if found else Outcome(404)

    def answer(self, claims: Claims, project_id: str, fields: dict[str, str]) -> Outcome:
        try:
            score = forms.score(fields)
            comment = forms.note({"note": fields.get("comment", "")}, required=False)
        except FormRefused as exc:
            return Outcome(422, problem=str(exc), project_id=project_id)
        project = self._service.project(claims, project_id)
        if project is None:
            return Outcome(404, project_id=project_id)
        if project.get("status") not in ("delivered", "closed"):
            return Outcome(409, problem="The studio asks this once your project is delivered.", project_id=project_id)
        try:
            result = self._service.answer(claims, project_id, score, comment)
        except PermissionDenied:
            return Outcome(404, project_id=project_id)
        if result.get("outcome") == "already":
            return Outcome(303, _thread(project_id, "answered", "feedback"), project_id=project_id)
        self._ring()
        return Outcome(303, _thread(project_id, "thanks", "feedback"), project_id=project_id, metric="PortalFeedback")

    def attachment_url(self, claims: Claims, message_id: str) -> str | None:
        found = self._service.attachment(claims, message_id)
        if found is None:
            return None
        return self._store.download_url({"bucket": self._bucket(), "key": found["key"]})
