"""A local stand-in for the part of Stripe's API the intake uses: creating Checkout Sessions.

It answers on the front door under /_local/stripe (the `stripe` library is pointed there with
STRIPE_API_BASE) and serves a test checkout page at /_local/checkout/<session id>.
With a real STRIPE_SECRET_KEY in the environment, `atelier dev` talks to Stripe itself instead.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from atelier_local.mail_local import send_html
from atelier_local.stripe_billing import StandInBilling, parse_form, query_of

API_PREFIX = "/_local/stripe"
PAGE_PREFIX = "/_local/checkout/"
LOCAL_API_KEY = "sk_test_local_standin"  # not a secret: the stand-in accepts only this


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`line_items[0][price_data][currency]=usd`) back into nested dicts.
    Lists come back as dicts keyed "0", "1", ..."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return root


def signed_delivery(url: str, event: dict[str, Any], webhook_secret: str) -> int:
    """POST an event to a webhook endpoint the way Stripe does, signed with the endpoint's secret."""
    import stripe

    payload = json.dumps(event)
    signature = stripe.WebhookSignature.generate_signature_header(payload, webhook_secret)
    request = urllib.request.Request(  # noqa: S310 - the local front door
        url,
        data=payload.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+local stand-in)",
            "Stripe-Signature": signature,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@dataclass
class StripeStandIn:
    base_url: str = "http://127.0.0.1:3000"
    webhook_secret: str = ""
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_idempotency_key: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    # Other businesses' Stripe accounts: API key -> (the path their events are sent to, their webhook secret).
    accounts: dict[str, tuple[str, str]] = field(default_factory=dict)
    _owner: dict[str, str] = field(default_factory=dict)  # session or event id -> the API key of its account
    _lock: threading.Lock = field(default_factory=threading.Lock)
    billing: StandInBilling = field(init=False)

    def __post_init__(self) -> None:
        self.billing = StandInBilling(self)

    def deliver(self, event: dict[str, Any], object_id: str) -> int:
        """Send an event about `object_id` to its account's webhook, signed with its secret."""
        url, secret = self._delivery(object_id)
        return signed_delivery(url, event, secret)

    def add_account(self, api_key: str, webhook_path: str, webhook_secret: str) -> None:
        """Another Stripe account (another business's): its sessions' events go to `webhook_path`, signed with
        its own secret."""
        self.accounts[api_key] = (webhook_path, webhook_secret)

    def _delivery(self, session_id: str) -> tuple[str, str]:
        path, secret = self.accounts.get(self._owner.get(session_id, ""), ("/webhooks/stripe", self.webhook_secret))
        return f"{self.base_url}{path}", secret

    def _event(self, kind: str, session: dict[str, Any]) -> dict[str, Any]:
        event = {
            "id": f"evt_test_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": "2025-09-30.clover",
            "created": int(time.time()),
            "data": {"object": dict(session)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }
        self.events.append(event)
        self._owner[str(event["id"])] = self._owner.get(str(session.get("id")), LOCAL_API_KEY)
        return event

    def expire(self, session_id: str) -> dict[str, Any] | None:
        """`POST /v1/checkout/sessions/{id}/expire`: an open session closes unpaid, and `checkout.session.expired`
        is delivered signed, as Stripe does (also when its `expires_at` passes). None: it is not open (Stripe's
        400)."""
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None or session["status"] != "open":
                return None
            session.update(status="expired")
            event = self._event("checkout.session.expired", session)
        url, secret = self._delivery(session_id)
        signed_delivery(url, event, secret)
        return session

    def pay(self, session_id: str) -> dict[str, Any]:
        """Complete a session as a card payment would: the event is recorded, then delivered signed. Paying again
        delivers the same event again, as Stripe's retries do."""
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] == "expired":  # Stripe takes no payment on an expired session
                return session
            if session["payment_status"] != "paid" and session["status"] != "complete":
                suffix = secrets.token_hex(8)
                session.update(
                    status="complete",
                    payment_status="paid",
                    payment_intent=f"pi_test_{suffix}",
                    customer=f"cus_test_{suffix}",
                    customer_details={"email": session["customer_email"], "name": None},
                )
                self._event("checkout.session.completed", session)
            event = next(e for e in reversed(self.events) if e["data"]["object"]["id"] == session_id)
        url, secret = self._delivery(session_id)
        signed_delivery(url, event, secret)
        return session

    def pay_later(self, session_id: str, *, succeeds: bool, settle_after: float = 3.0) -> dict[str, Any]:
        """A delayed payment method (a bank debit): the session completes unpaid now, and settles (or fails) a few
        seconds later with `checkout.session.async_payment_succeeded` (or `_failed`), as Stripe sends them."""
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] == "complete":
                return session
            suffix = secrets.token_hex(8)
            session.update(
                status="complete",
                payment_status="unpaid",
                payment_intent=f"pi_test_{suffix}",
                customer=f"cus_test_{suffix}",
                customer_details={"email": session["customer_email"], "name": None},
            )
            first = self._event("checkout.session.completed", session)
        url, secret = self._delivery(session_id)
        signed_delivery(url, first, secret)

        def settle() -> None:
            with self._lock:
                session["payment_status"] = "paid" if succeeds else "unpaid"
                kind = "succeeded" if succeeds else "failed"
                event = self._event(f"checkout.session.async_payment_{kind}", session)
            signed_delivery(url, event, secret)

        timer = threading.Timer(settle_after, settle)
        timer.daemon = True
        timer.start()
        return session

    def list_events(self, query: dict[str, str], api_key: str = LOCAL_API_KEY) -> dict[str, Any]:
        """`GET /v1/events`: one account's, newest first, `created[gte]`, `limit` and `starting_after`, as Stripe
        pages."""
        since = int(query.get("created[gte]", "0") or 0)
        limit = max(1, min(100, int(query.get("limit", "10") or 10)))
        mine = [e for e in reversed(self.events) if self._owner.get(e["id"], LOCAL_API_KEY) == api_key]
        newest_first = [e for e in mine if e["created"] >= since]
        after = query.get("starting_after")
        if after:
            ids = [e["id"] for e in newest_first]
            newest_first = newest_first[ids.index(after) + 1 :] if after in ids else []
        page = newest_first[:limit]
        return {"object": "list", "url": "/v1/events", "has_more": len(newest_first) > limit, "data": page}

    def create_session(
        self, params: dict[str, Any], idempotency_key: str | None, api_key: str = LOCAL_API_KEY
    ) -> dict[str, Any]:
        with self._lock:
            if idempotency_key and idempotency_key in self.by_idempotency_key:
                return self.sessions[self.by_idempotency_key[idempotency_key]]
            session_id = f"cs_test_{secrets.token_hex(12)}"
            items = params.get("line_items", {})
            first = items.get("0", {}) if isinstance(items, dict) else {}
            price_data = first.get("price_data", {})
            amount = int(price_data.get("unit_amount", 0) or 0) * int(first.get("quantity", 1) or 1)
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": params.get("mode", "payment"),
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": amount,
                "currency": price_data.get("currency", "usd"),
                "customer_email": params.get("customer_email"),
                "client_reference_id": params.get("client_reference_id"),
                "metadata": params.get("metadata", {}),
                "success_url": params.get("success_url"),
                "cancel_url": params.get("cancel_url"),
                "livemode": False,
                "created": int(time.time()),
                "url": f"{self.base_url}{PAGE_PREFIX}{session_id}",
                "payment_intent": None,
                "expires_at": int(params.get("expires_at") or time.time() + 86400),
            }
            self.sessions[session_id] = session
            self._owner[session_id] = api_key
            if idempotency_key:
                self.by_idempotency_key[idempotency_key] = session_id
            return session

    def _authorized(self, request: BaseHTTPRequestHandler) -> str | None:
        """The API key the request carries, when it is one of the stand-in's accounts'."""
        given = request.headers.get("Authorization") or ""
        if given.startswith("Basic "):  # stripe-python may send the key as HTTP Basic's user name
            try:
                given = "Bearer " + base64.b64decode(given[6:]).decode().split(":", 1)[0]
            except (ValueError, UnicodeDecodeError):
                return None
        for key in (LOCAL_API_KEY, *self.accounts):
            if hmac.compare_digest(given.encode(), f"Bearer {key}".encode()):
                return key
        return None

    def handle(self, request: BaseHTTPRequestHandler, method: str, body: bytes) -> bool:
        """Serve the request if it is the stand-in's; return False to let the front door route it."""
        path = urlsplit(request.path).path
        api_key = self._authorized(request)
        if path.startswith(f"{API_PREFIX}/v1/") and api_key is None:
            # As Stripe: no API call without the secret key (the events list carries customers' e-mails).
            self._json(
                request, 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}
            )
            return True
        if path.startswith(f"{API_PREFIX}/v1/"):
            params = parse_form(body) if method == "POST" else {}
            key = request.headers.get("Idempotency-Key") or ""
            # (No lock held: a call that moves an invoice delivers its event at once, through the front door.)
            answer = self.billing.api(
                method, path.removeprefix(API_PREFIX), params, query_of(request.path), key, api_key or ""
            )
            if answer is not None:
                self._json(request, *answer)
                return True
        if self.billing.control(request, method, path, body) or self.billing.page(request, method, path):
            return True
        if path == f"{API_PREFIX}/v1/checkout/sessions" and method == "POST":
            params = _nest(parse_qsl(body.decode(), keep_blank_values=True))
            created = self.create_session(params, request.headers.get("Idempotency-Key"), api_key or LOCAL_API_KEY)
            self._json(request, 200, created)
            return True
        if path.startswith(f"{API_PREFIX}/v1/checkout/sessions/") and path.endswith("/expire") and method == "POST":
            session_id = path.removeprefix(f"{API_PREFIX}/v1/checkout/sessions/").removesuffix("/expire")
            owned = self._owner.get(session_id) == (api_key or LOCAL_API_KEY)
            expired = self.expire(session_id) if owned else None
            if expired is None:
                message = f"Only Checkout Sessions with a status of open can be expired: {session_id} is not open."
                self._json(request, 400, {"error": {"type": "invalid_request_error", "message": message}})
            else:
                self._json(request, 200, expired)
            return True
        if path == f"{API_PREFIX}/v1/events" and method == "GET":
            query = dict(parse_qsl(urlsplit(request.path).query))
            self._json(request, 200, self.list_events(query, api_key or LOCAL_API_KEY))
            return True
        if path.startswith(API_PREFIX):
            self._json(
                request,
                404,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": f"the local Stripe stand-in has no {method} {path}",
                    }
                },
            )
            return True
        if path.startswith(PAGE_PREFIX) and method == "GET":
            session = self.sessions.get(path.removeprefix(PAGE_PREFIX))
            if session is None:
                self._html(request, 404, "<h1>No such checkout session</h1>")
                return True
            if session["status"] == "expired":
                self._html(request, 410, "<h1>This Checkout Session is no longer available</h1>")
                return True
            self._html(request, 200, self._checkout_page(session, path))
            return True
        if path.startswith(PAGE_PREFIX) and method == "POST":
            session_id, _, action = path.removeprefix(PAGE_PREFIX).partition("/")
            session = self.sessions.get(session_id)
            if session is None or action not in ("pay", "decline", "bank", "bank-fails"):
                self._html(request, 404, "<h1>No such checkout session</h1>")
                return True
            if session["status"] == "expired":  # as Checkout: an expired session's page takes no payment
                self._html(request, 410, "<h1>This Checkout Session is no longer available</h1>")
                return True
            if action == "decline":  # as Checkout: the card is refused on the page, and nothing is sent
                self._html(
                    request,
                    402,
                    self._checkout_page(
                        session, f"{PAGE_PREFIX}{session_id}", error="Your card was declined. Try another card."
                    ),
                )
                return True
            if action == "pay":
                self.pay(session_id)
            else:
                self.pay_later(session_id, succeeds=action == "bank")
            location = str(session.get("success_url") or "/").replace("{CHECKOUT_SESSION_ID}", session_id)
            request.send_response(303)
            request.send_header("Location", location)
            request.send_header("Content-Length", "0")
            request.end_headers()
            return True
        return False

    @staticmethod
    def _json(request: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.send_header("Request-Id", f"req_{secrets.token_hex(8)}")
        request.end_headers()
        request.wfile.write(data)

    @staticmethod
    def _checkout_page(session: dict[str, Any], path: str, *, error: str = "") -> str:
        amount = f"{session['amount_total'] / 100:,.2f} {str(session['currency']).upper()}"
        cancel = escape(str(session.get("cancel_url") or "/"))
        alert = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
        return (
            f'<main><p class="badge">Test mode: the local stand-in for Stripe Checkout</p>'
            f"<h1>Pay {escape(amount)}</h1><p>for {escape(str(session['customer_email']))}</p>{alert}"
            f'<form method="post" action="{escape(path)}/pay"><button type="submit">Pay with a test card'
            f'</button></form><form method="post" action="{escape(path)}/decline"><button class="plain" '
            f'type="submit">Try a card that is declined</button></form>'
            f'<form method="post" action="{escape(path)}/bank"><button class="plain" type="submit">Pay by bank '
            f'debit (settles in a few seconds)</button></form><form method="post" action="{escape(path)}/'
            f'bank-fails"><button class="plain" type="submit">Bank debit that fails</button></form>'
            f'<p><a href="{cancel}">Cancel and go back</a></p><p class="small">Session '
            f"{escape(session['id'])}</p></main>"
        )

    @staticmethod
    def _html(request: BaseHTTPRequestHandler, status: int, body: str) -> None:
        style = (
            "*{box-sizing:border-box}body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:1rem;color:#1d1d1f}"
            "main{max-width:28rem;margin:0 auto}button{width:100%;margin:.4rem 0;padding:.7rem;font:inherit;"
            "background:#635bff;color:#fff;border:0;border-radius:6px}button.plain{background:#fff;color:#1d1d1f;"
            "border:1px solid #bbb}button:focus-visible,a:focus-visible{outline:3px solid #0a5cd5;"
            "outline-offset:2px}.badge{background:#fff4d6;padding:.2rem .5rem;font-size:.85rem}"
            ".error{color:#a00;font-weight:600}.small{color:#666;font-size:.8rem;word-break:break-all}"
        )
        send_html(
            request,
            status,
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><title>Checkout</title><style>{style}</style></head>"
            f"<body>{body}</body></html>",
        )
