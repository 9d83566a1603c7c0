"""The mail outbox on a bad day (issue 29, item 15): SES answering in 3.5 s, and the function killed at its 60 s
timeout, still sends each client's message exactly once."""

from __future__ import annotations

import contextlib
from collections import Counter

import psycopg
import pytest

from atelier.kernel.rpc import PsycopgRpc
from atelier.mail.outbox import MailOutbox
from atelier.mail.render import Message, Studio
from atelier_local.samples import paid_project, stored_lead

Conn = psycopg.Connection[tuple[object, ...]]
TIMEOUT, SAFETY, SES_SECONDS = 60.0, 10.0, 3.5  # client_mail's timeout and margin; a slow day's SES


class Killed(BaseException):
    """Lambda stopping the function at its timeout: nothing after it runs, not even an except clause of ours."""


class SlowSes:
    def __init__(self) -> None:
        self.now = 0.0
        self.sent: Counter[str] = Counter()

    def clock(self) -> float:
        return self.now

    def send(self, recipient: str, message: Message) -> str:
        if self.now >= TIMEOUT:
            raise Killed
        self.now += SES_SECONDS
        self.sent[recipient] += 1
        return f"msg-{sum(self.sent.values())}"


@pytest.mark.integration
def test_slow_ses_and_a_kill_at_the_timeout_send_no_message_twice(db: Conn, database_url: str) -> None:
    # Given twenty clients, each with a receipt to send
    rpc = PsycopgRpc(database_url)
    for i in range(20):
        paid_project(rpc, stored_lead(rpc, i))
    assert db.execute("select count(*) from notifications where status = 'pending'").fetchone() == (20,)
    ses = SlowSes()

    # When a run has until the timeout less its margin, and is killed at the timeout if it is still going
    with contextlib.suppress(Killed):
        MailOutbox(rpc, ses, Studio("Studio", "Studio"), clock=ses.clock).send_due(deadline=TIMEOUT - SAFETY)
    # And every lease has run out before the next run
    db.execute("update notifications set next_attempt_at = now() where status = 'pending'")
    later = SlowSes()
    MailOutbox(rpc, later, Studio("Studio", "Studio"), clock=later.clock).send_due()

    # Then every client got their receipt once
    both = ses.sent + later.sent
    assert len(both) == 20
    assert max(both.values()) == 1
    assert db.execute("select count(*) from notifications where status = 'sent'").fetchone() == (20,)
    assert db.execute("select max(attempts) from notifications").fetchone() == (1,)  # what was handed back kept its try
