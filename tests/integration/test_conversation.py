"""The client conversation on the local stack: a client's message (with a file) becomes a comment on the project's
Notion page; the team's reply in Notion comes back to the portal and one e-mail; an internal note stays the team's;
decisions on deliverables move the project's status; the question at delivery is asked once and reported. And each
write the portal must refuse (another's project, no CSRF token, a bad file, too many messages) is refused with
nothing written."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from atelier.cli import main
from atelier.kernel.errors import PermissionDenied
from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway
from atelier.notion.budget import RequestBudget
from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.stack import LocalStack, scheduled_event
from tests.integration.test_client_portal import PNG, _browser, _client, _link, _sign_in, signed_in_as
from tests.integration.test_notion_webhooks import _eventually

Conn = psycopg.Connection[tuple[object, ...]]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _one(db: Conn, query: str, *params: object) -> Any:
    row = db.execute(query.encode(), params).fetchone()
    return None if row is None else (row[0] if len(row) == 1 else row)


def _count(db: Conn, table: str) -> int:
    return int(_one(db, f"select count(*) from {table}"))


def _sync() -> None:
    LocalLambdas().invoke("notion_sync", scheduled_event(), timeout_seconds=60)


def _token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, "the page has no form token"
    return found.group(1)


@pytest.fixture
def studio(stack: LocalStack, api: httpx.Client, db: Conn, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """Ann and Bob, each with a paid project whose page is in Notion, both signed in; the team's webhooks on."""
    stack.setup_notion()
    stack.connect_notion_webhooks(delay=0.2)
    a, b = _client(api, db, "Ann", "ann@example.com"), _client(api, db, "Bob", "bob@example.com")
    _sync()
    assert stack.notion is not None
    team = NotionGateway(stack.notion.state.human_token, base_url=stack.notion.url, budget=RequestBudget(rate=2000))
    return {
        "a": a,
        "b": b,
        "ann": _sign_in(stack, _link("ann@example.com", capsys)),
        "bob": _sign_in(stack, _link("bob@example.com", capsys)),
        "team": team,
        "page": str(_one(db, "select notion_page_id from projects where id = %s", a)),
    }


def _upload(project_id: str, path: Any, category: str) -> None:
    assert main(["deliverable", "upload", project_id, str(path), "--category", category]) == 0


def test_a_message_with_a_file_reaches_notion_and_the_teams_reply_reaches_the_portal_and_one_email(
    stack: LocalStack, studio: dict[str, Any], db: Conn
) -> None:
    ann, team, page_id = studio["ann"], studio["team"], studio["page"]
    project = f"/portal/projects/{studio['a']}"
    form = ann.get(project)
    assert 'action="/portal/projects/' in form.text
    assert 'name="body"' in form.text

    # Given the team has made a person the project's owner
    team.update_page(page_id, {"Owner": {"people": [{"object": "user", "id": team.me()["id"]}]}})

    # When Ann writes a message with a photo of the site
    sent = ann.post(
        f"{project}/messages",
        data={"csrf": _token(form.text), "body": "Could the kitchen window be <b>wider</b>?"},
        files={"attachment": ("site.png", PNG, "image/png")},
    )

    # Then she is back on her thread, which shows it (escaped), and the team has it as a comment on the page
    assert sent.status_code == 303, sent.text
    thread = ann.get(sent.headers["location"])
    assert "Your message is on its way" in thread.text
    assert "Could the kitchen window be &lt;b&gt;wider&lt;/b&gt;?" in thread.text
    comments = team.list_comments(page_id)
    (posted,) = [c for c in comments if "Ann wrote in the portal: Could the kitchen window" in _text(c)]
    assert posted["rich_text"][0]["type"] == "mention"  # the owner hears of it
    assert _text(posted).startswith("@Studio Team Ann wrote")
    assert any("site.png" in _text(c) for c in comments)
    message = _one(db, "select notion_comment_id, attachment_type, attachment_key from messages")
    assert message[0]
    assert message[1] == "image/png"
    assert "/messages/" in message[2]
    assert _one(db, "select count(*) from audit_log where action = 'message.posted'") == 1
    attachment = re.search(r'href="(/portal/messages/[0-9a-f-]{36}/attachment)"', thread.text)
    assert attachment is not None
    opened = ann.get(attachment.group(1))
    assert opened.status_code == 302
    assert httpx.get(opened.headers["location"]).content == PNG
    assert studio["bob"].get(attachment.group(1)).status_code == 404  # Bob cannot open Ann's file

    # When the team replies on the page, and writes an internal note
    team.create_comment(page_id, "Yes: we will widen it to 1.8 m.")
    team.create_comment(page_id, "internal: check the lintel with the engineer")
    _eventually(lambda: _count(db, "messages") == 3)
    _sync()  # the poll reads the same page again: nothing twice

    # Then Ann sees the reply and not the note, and exactly one e-mail is queued, for the reply
    shown = ann.get(project).text
    assert "we will widen it to 1.8 m" in shown
    assert shown.index("kitchen window") < shown.index("we will widen it")  # the reply after what it answers
    assert "lintel" not in shown
    assert _count(db, "messages") == 3
    mails = db.execute("select recipient, status::text from notifications where template = 'message_reply'").fetchall()
    assert [m[0] for m in mails] == ["ann@example.com"]
    LocalLambdas().invoke("client_mail", scheduled_event(), timeout_seconds=60)
    body = str(_one(db, "select body_text from notifications where template = 'message_reply'"))
    assert "we will widen it to 1.8 m" in body
    assert f"/portal/projects/{studio['a']}#messages" in body
    # Atelier's own comments (Ann's message) never came back as a reply
    assert _one(db, "select count(*) from messages where author_kind = 'team'") == 2


def _text(comment: dict[str, Any]) -> str:
    return "".join(str(item.get("plain_text") or "") for item in comment.get("rich_text") or [])


def test_decisions_move_the_project_through_feedback_revisions_and_back(
    stack: LocalStack, studio: dict[str, Any], db: Conn, tmp_path: Any
) -> None:
    ann, project_id = studio["ann"], studio["a"]
    plan = tmp_path / "plan.pdf"
    plan.write_bytes(PDF)
    photo = tmp_path / "site.png"
    photo.write_bytes(PNG)

    # A photo needs no decision; a drawing does, and puts the project in "awaiting feedback"
    _upload(project_id, photo, "Photo")
    assert stack.s3 is not None
    assert stack.s3.wait_idle()
    assert _one(db, "select status::text from projects where id = %s", project_id) == "onboarding"
    _upload(project_id, plan, "Drawing")
    assert stack.s3.wait_idle()
    assert _one(db, "select status::text from projects where id = %s", project_id) == "awaiting_feedback"
    page = ann.get(f"/portal/projects/{project_id}").text
    assert "1 file waits for your decision" in page
    first = str(_one(db, "select id from deliverables where category = 'Drawing'"))
    token = _token(page)

    # Asking for changes needs a note: without one, nothing is written
    empty = ann.post(f"/portal/deliverables/{first}/decision", data={"csrf": token, "decision": "changes"})
    assert empty.status_code == 422
    assert "say what should change" in empty.text
    assert _count(db, "approvals") == 0

    # With one, the project is in revisions, in Postgres and (after a sync) in Notion, with the client's note
    asked = ann.post(
        f"/portal/deliverables/{first}/decision",
        data={"csrf": token, "decision": "changes", "note": "Warmer wood in the hall"},
    )
    assert asked.status_code == 303
    assert _one(db, "select status::text from projects where id = %s", project_id) == "revisions"
    again = ann.post(f"/portal/deliverables/{first}/decision", data={"csrf": token, "decision": "approve"})
    assert again.status_code == 409
    assert "decided on this version already" in again.text
    _sync()
    team: NotionGateway = studio["team"]
    project_page = team.retrieve_page(studio["page"])
    assert project_page["properties"]["Status"]["select"]["name"] == "Revisions"
    drawing_page = team.retrieve_page(str(_one(db, "select notion_page_id from deliverables where id = %s", first)))
    assert drawing_page["properties"]["Approval"]["select"]["name"] == "Changes asked"
    assert "Warmer wood" in "".join(t["plain_text"] for t in drawing_page["properties"]["Client Note"]["rich_text"])
    assert any("asked for changes" in _text(c) for c in team.list_comments(studio["page"]))

    # A new version starts a new round; approving it brings the project back to work
    _upload(project_id, plan, "Drawing")
    assert stack.s3.wait_idle()
    assert _one(db, "select status::text from projects where id = %s", project_id) == "awaiting_feedback"
    second = str(_one(db, "select id from deliverables where category = 'Drawing' and version = 2"))
    stale = ann.post(f"/portal/deliverables/{first}/decision", data={"csrf": token, "decision": "approve"})
    assert stale.status_code == 409
    approved = ann.post(f"/portal/deliverables/{second}/decision", data={"csrf": token, "decision": "approve"})
    assert approved.status_code == 303
    assert _one(db, "select status::text from projects where id = %s", project_id) == "in_progress"
    decisions = db.execute("select decision, version, note from approvals order by created_at").fetchall()
    assert decisions == [("changes_requested", 1, "Warmer wood in the hall"), ("approved", 2, None)]
    history = [str(r[0]) for r in db.execute("select summary from project_history where kind = 'approval'")]
    assert len(history) == 2
    assert "Changes asked by Ann" in history[0]
    audit = db.execute(
        "select action from audit_log where action in ('deliverable.approved', 'deliverable.changes_requested')"
        " order by created_at"
    )
    assert [r[0] for r in audit.fetchall()] == ["deliverable.changes_requested", "deliverable.approved"]


def test_another_clients_project_a_missing_token_and_bad_input_are_refused_with_nothing_written(
    stack: LocalStack, studio: dict[str, Any], db: Conn, tmp_path: Any
) -> None:
    ann, bob = studio["ann"], studio["bob"]
    plan = tmp_path / "plan.pdf"
    plan.write_bytes(PDF)
    _upload(studio["a"], plan, "Drawing")
    assert stack.s3 is not None
    assert stack.s3.wait_idle()
    drawing = str(_one(db, "select id from deliverables"))
    bob_token = _token(bob.get(f"/portal/projects/{studio['b']}").text)
    ann_token = _token(ann.get(f"/portal/projects/{studio['a']}").text)
    before = (_count(db, "messages"), _count(db, "approvals"), _count(db, "notion_comments"))

    # Bob, with his own valid token, on Ann's project and Ann's drawing: 404, as for reads
    assert (
        bob.post(f"/portal/projects/{studio['a']}/messages", data={"csrf": bob_token, "body": "hi"}).status_code == 404
    )
    decided = bob.post(f"/portal/deliverables/{drawing}/decision", data={"csrf": bob_token, "decision": "approve"})
    assert decided.status_code == 404
    # Ann without the token, with Bob's token, or with a token for no session: 403
    for token in (None, bob_token, "forged"):
        data = {"body": "hello"} | ({"csrf": token} if token else {})
        refused = ann.post(f"/portal/projects/{studio['a']}/messages", data=data)
        assert refused.status_code == 403, token
        assert "form has expired" in refused.text
    # A file that is not an image or a PDF, whatever it calls itself; an empty message; an unknown decision
    exe = ann.post(
        f"/portal/projects/{studio['a']}/messages",
        data={"csrf": ann_token, "body": "see attached"},
        files={"attachment": ("plan.png", b"MZ\x90\x00not an image", "image/png")},
    )
    assert exe.status_code == 422
    assert "attach an image" in exe.text
    assert "see attached" in exe.text  # what she typed is kept
    blank = ann.post(f"/portal/projects/{studio['a']}/messages", data={"csrf": ann_token, "body": "   "})
    assert blank.status_code == 422
    odd = ann.post(f"/portal/deliverables/{drawing}/decision", data={"csrf": ann_token, "decision": "maybe"})
    assert odd.status_code == 422
    # Nobody signed in
    assert _browser(stack).post(f"/portal/projects/{studio['a']}/messages", data={"body": "x"}).status_code == 401

    assert (_count(db, "messages"), _count(db, "approvals"), _count(db, "notion_comments")) == before
    listed = stack.s3.s3().list_objects_v2(Bucket=stack.s3.bucket, Prefix=f"projects/{studio['a']}/messages/")
    assert listed.get("KeyCount") == 0


@pytest.mark.parametrize("role", ["authenticated", "service_role"])
def test_row_level_security_refuses_the_writes_when_the_handlers_check_is_gone(
    stack: LocalStack, studio: dict[str, Any], database_url: str, db: Conn, tmp_path: Any, role: str
) -> None:
    """The portal's writes called as Bob for Ann's project, past the handler's own check: RLS is what refuses."""
    plan = tmp_path / "plan.pdf"
    plan.write_bytes(PDF)
    _upload(studio["a"], plan, "Drawing")
    assert stack.s3 is not None
    assert stack.s3.wait_idle()
    service, bob = signed_in_as(database_url, "bob@example.com", role)
    rpc = PsycopgRpc(database_url)
    drawing = str(_one(db, "select id from deliverables"))
    if role == "authenticated":
        with pytest.raises(PermissionDenied):
            service.post_message(bob, studio["a"], "let me in", None, str(uuid.uuid4()))
        assert service.decide(bob, drawing, "approved", "")["outcome"] == "not_found"
        with pytest.raises(PermissionDenied):  # the insert itself, past the function's own look-up
            rpc.as_user("", bob.jwt_claims()).rpc(
                "portal_post_message", p_project_id=studio["a"], p_body="again", p_attachment=None, p_id=None
            )
        assert (_count(db, "messages"), _count(db, "approvals")) == (0, 0)
    else:  # the same calls as service_role would write into Ann's project: the policies are the wall
        service.post_message(bob, studio["a"], "let me in", None, str(uuid.uuid4()))
        assert _count(db, "messages") == 1


def test_delivered_asks_once_and_the_answer_is_in_the_report_and_its_workbook(
    stack: LocalStack, studio: dict[str, Any], db: Conn, api: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    ann, project_id = studio["ann"], studio["a"]
    token = _token(ann.get(f"/portal/projects/{project_id}").text)
    early = ann.post(f"/portal/projects/{project_id}/feedback", data={"csrf": token, "score": "9"})
    assert early.status_code == 409  # not delivered yet

    # When the team marks the project delivered in Notion (twice: the webhook and the poll see it)
    studio["team"].update_page(studio["page"], {"Status": {"select": {"name": "Delivered"}}})
    _eventually(lambda: _one(db, "select status::text from projects where id = %s", project_id) == "delivered")
    _sync()
    db.execute("update projects set status = 'in_progress' where id = %s", (project_id,))
    db.execute("update projects set status = 'delivered' where id = %s", (project_id,))

    # Then the client is asked once, by e-mail and on the page
    assert _one(db, "select count(*) from notifications where template = 'nps_request'") == 1
    page = ann.get(f"/portal/projects/{project_id}").text
    assert "How likely are you to recommend us" in page
    bad = ann.post(f"/portal/projects/{project_id}/feedback", data={"csrf": token, "score": "11"})
    assert bad.status_code == 422
    answered = ann.post(
        f"/portal/projects/{project_id}/feedback", data={"csrf": token, "score": "9", "comment": "Lovely"}
    )
    assert answered.status_code == 303
    twice = ann.post(f"/portal/projects/{project_id}/feedback", data={"csrf": token, "score": "2"})
    assert twice.status_code == 303
    assert "answered" in twice.headers["location"]
    assert db.execute("select score, comment from nps_answers").fetchall() == [(9, "Lovely")]
    assert "You gave us 9 of 10" in ann.get(f"/portal/projects/{project_id}").text

    # And the owner's report shows it, per tier and month, on the page and in the workbook
    capsys.readouterr()
    assert main(["report", "link"]) == 0
    link = capsys.readouterr().out.strip().splitlines()[-1]
    path = link.removeprefix(str(api.base_url).rstrip("/"))
    report = api.get(path)
    assert "Client feedback (NPS)" in report.text
    workbook = api.get(path.replace("/reports", "/reports.xlsx", 1))
    assert workbook.status_code == 200
    from io import BytesIO
    from zipfile import ZipFile

    sheets = ZipFile(BytesIO(workbook.content)).read("xl/workbook.xml").decode()
    assert 'name="Client feedback (NPS)' in sheets


def test_messages_are_rate_limited_per_client(stack: LocalStack, studio: dict[str, Any], db: Conn) -> None:
    ann = studio["ann"]
    token = _token(ann.get(f"/portal/projects/{studio['a']}").text)
    answers = [
        ann.post(f"/portal/projects/{studio['a']}/messages", data={"csrf": token, "body": f"note {i}"})
        for i in range(6)
    ]
    assert [a.status_code for a in answers] == [303] * 5 + [429]
    assert int(answers[-1].headers["retry-after"]) > 0
    assert _count(db, "messages") == 5
