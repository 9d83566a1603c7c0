"""The local run's mail: SES is moto's (on the same in-process server as S3), the sender identity is verified
there, and `GET /_local/mail` on the front door shows every message the studio sent, rendered as the client got it."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlsplit

LOCAL_SENDER = "Atelier Studio <studio@atelier.local>"
PAGE = "/_local/mail"


def verify_sender(endpoint: str, sender: str = LOCAL_SENDER) -> None:
    """moto's SES sends only from a verified identity, as SES does outside its sandbox's verified list."""
    import boto3

    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    moto_key = "local"  # moto takes any key
    ses = boto3.client(
        "ses",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=moto_key,
        aws_secret_access_key=moto_key,
    )
    ses.verify_email_identity(EmailAddress=address)


class MailPage:
    """Serves `/_local/mail` (the list) and `/_local/mail/<id>` (one message, as HTML) from `notifications`."""

    def __init__(self, database_url: str) -> None:
        self._dsn = database_url

    def _rows(self, notification_id: str | None = None) -> list[dict[str, Any]]:
        import psycopg
        from psycopg.rows import dict_row

        query = (
            "select id::text, recipient, template, status::text, subject, sent_at, body_html, last_error, "
            "created_at from notifications"
        )
        with psycopg.connect(self._dsn, autocommit=True, row_factory=dict_row) as conn:
            if notification_id:
                return conn.execute((query + " where id::text = %s").encode(), (notification_id,)).fetchall()
            return conn.execute((query + " order by created_at desc limit 200").encode()).fetchall()

    def handle(self, request: Any, method: str, body: bytes) -> bool:
        path = urlsplit(request.path).path
        if method != "GET" or not (path == PAGE or path.startswith(PAGE + "/")):
            return False
        one = path.removeprefix(PAGE).strip("/") or None
        rows = self._rows(one)
        if one:
            html = rows[0]["body_html"] if rows and rows[0]["body_html"] else "<p>Not sent yet.</p>"
            send_html(request, 200 if rows else 404, html)
            return True
        items = "".join(
            f"<tr><td>{escape(str(r['created_at'])[:19])}</td><td>{escape(r['recipient'])}</td>"
            f"<td>{escape(r['template'])}</td><td>{escape(r['status'])}</td>"
            f'<td><a href="{PAGE}/{escape(r["id"])}">{escape(r["subject"] or "(not sent yet)")}</a></td></tr>'
            for r in rows
        )
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            'content="width=device-width, initial-scale=1"><title>Mail sent</title><style>body{font:15px/1.4 '
            "system-ui,sans-serif;margin:1rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px "
            "solid #ddd;padding:.3rem;text-align:left;vertical-align:top}</style></head><body><h1>Mail the "
            f"studio sent (local)</h1><table><tr><th>queued</th><th>to</th><th>template</th><th>status</th>"
            f"<th>subject</th></tr>{items}</table></body></html>"
        )
        send_html(request, 200, page)
        return True


def send_html(request: Any, status: int, html: str) -> None:
    """An HTML answer from one of the front door's local pages (`/_local/...`, the Stripe stand-in's)."""
    data = html.encode()
    request.send_response(status)
    request.send_header("Content-Type", "text/html; charset=utf-8")
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)
