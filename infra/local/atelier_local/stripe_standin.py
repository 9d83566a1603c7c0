"""A local stand-in for the part of Stripe's API the intake uses: creating Checkout Sessions.

It answers on the front door under /_local/stripe (the `stripe` library is pointed there with
STRIPE_API_BASE) and serves a test checkout page at /_local/checkout/<session id>.
With a real STRIPE_SECRET_KEY in the environment, `atelier dev` talks to Stripe itself instead.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

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


@dataclass
class StripeStandIn:
    base_url: str = "http://127.0.0.1:3000"
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_idempotency_key: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def create_session(self, params: dict[str, Any], idempotency_key: str | None) -> dict[str, Any]:
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
            }
            self.sessions[session_id] = session
            if idempotency_key:
                self.by_idempotency_key[idempotency_key] = session_id
            return session

    def handle(self, request: BaseHTTPRequestHandler, method: str, body: bytes) -> bool:
        """Serve the request if it is the stand-in's; return False to let the front door route it."""
        path = urlsplit(request.path).path
        if path == f"{API_PREFIX}/v1/checkout/sessions" and method == "POST":
            if request.headers.get("Authorization") != f"Bearer {LOCAL_API_KEY}":
                self._json(request, 401, {"error": {"type": "invalid_request_error",
                                                    "message": "Invalid API Key provided"}})  # fmt: skip
                return True
            params = _nest(parse_qsl(body.decode(), keep_blank_values=True))
            self._json(request, 200, self.create_session(params, request.headers.get("Idempotency-Key")))
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
            amount = f"{session['amount_total'] / 100:,.2f} {str(session['currency']).upper()}"
            self._html(request, 200, f"<h1>Test checkout</h1><p>Session {escape(session['id'])} for "
                                     f"{escape(str(session['customer_email']))}: {escape(amount)}.</p>"
                                     "<p>This is the local stand-in for Stripe Checkout.</p>")  # fmt: skip
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
    def _html(request: BaseHTTPRequestHandler, status: int, body: str) -> None:
        data = f"<!doctype html><html lang='en'><meta charset='utf-8'><title>Checkout</title>{body}</html>".encode()
        request.send_response(status)
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
