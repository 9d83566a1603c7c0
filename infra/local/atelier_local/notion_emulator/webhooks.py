"""Webhooks as Notion sends them: a subscription's one-time handshake, then signed events for what a person
changed (not the integration's own writes), delivered after a delay, with rapid changes to one page aggregated
into one event, and retried with backoff when the endpoint does not answer 200."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from atelier_local.notion_emulator.state import PERSON_ID, new_id

WORKSPACE_ID = "a1b2c3d4-0000-4000-8000-00000000f00d"
INTEGRATION_ID = "a1b2c3d4-0000-4000-8000-0000000000b1"
AGGREGATED = frozenset({"page.properties_updated", "page.content_updated", "data_source.schema_updated"})
MAX_ATTEMPTS = 8


@dataclass
class Subscription:
    id: str
    url: str
    token: str
    delay: float


@dataclass
class Pending:
    event: dict[str, Any]
    due: float


@dataclass
class Sent:
    event_id: str
    type: str
    entity_id: str
    status: int | None
    attempt: int
    at: str


@dataclass
class WebhookSender:
    """Queues events and delivers them from one thread; `subscribe` does the handshake first."""

    subscription: Subscription | None = None
    sent: list[Sent] = field(default_factory=list)
    _pending: dict[tuple[str, str], Pending] = field(default_factory=dict)
    _retries: list[tuple[float, dict[str, Any], int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _wake: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _stopping: bool = False

    def subscribe(self, url: str, *, delay: float = 2.0) -> dict[str, Any]:
        """A new subscription: its verification token goes to the endpoint, as Notion posts it, unsigned."""
        subscription = Subscription(new_id(), url, "secret_" + secrets.token_urlsafe(32), max(0.0, delay))
        status = self._post(url, json.dumps({"verification_token": subscription.token}).encode(), None)
        with self._lock:
            self.subscription = subscription
            self._pending.clear()
        self._start()
        return {
            "subscription_id": subscription.id,
            "url": url,
            "delay_seconds": subscription.delay,
            "handshake_status": status,
        }

    def unsubscribe(self) -> None:
        with self._lock:
            self.subscription = None
            self._pending.clear()
            self._retries.clear()

    def configure(self, *, delay: float) -> None:
        if self.subscription is not None:
            self.subscription.delay = max(0.0, delay)

    def notify(self, kind: str, entity_id: str, entity_type: str, data: dict[str, Any], author: str) -> None:
        """An event for a change `author` made; only a person's changes are sent (the bot's are its own)."""
        subscription = self.subscription
        if subscription is None or author != PERSON_ID:
            return
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        with self._lock:
            key = (kind, entity_id)
            pending = self._pending.get(key) if kind in AGGREGATED else None
            if pending is not None:  # aggregated: one event for rapid changes, the properties merged
                merged = pending.event["data"].get("updated_properties") or []
                for prop in data.get("updated_properties") or []:
                    if prop not in merged:
                        merged.append(prop)
                pending.event["timestamp"] = now
                return
            event = {
                "id": new_id(),
                "timestamp": now,
                "workspace_id": WORKSPACE_ID,
                "workspace_name": "Studio",
                "subscription_id": subscription.id,
                "integration_id": INTEGRATION_ID,
                "type": kind,
                "authors": [{"id": author, "type": "person"}],
                "attempt_number": 1,
                "entity": {"id": entity_id, "type": entity_type},
                "data": data,
            }
            slot = (kind, entity_id) if kind in AGGREGATED else (kind, str(event["id"]))
            self._pending[slot] = Pending(event, time.monotonic() + subscription.delay)
        self._wake.set()

    def flush(self) -> int:
        """Deliver everything queued now (tests); returns how many were sent."""
        with self._lock:
            due = [p.event for p in self._pending.values()]
            self._pending.clear()
        for event in due:
            self._deliver(event, 1)
        return len(due)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- delivery ----------------------------------------------------------------------------------

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="notion-webhooks", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(0.1)
            self._wake.clear()
            now = time.monotonic()
            with self._lock:
                due = [k for k, p in self._pending.items() if p.due <= now]
                events = [self._pending.pop(k).event for k in due]
                retries = [(e, n) for at, e, n in self._retries if at <= now]
                self._retries = [(at, e, n) for at, e, n in self._retries if at > now]
            for event in sorted(events, key=lambda e: e["timestamp"]):
                self._deliver(event, 1)
            for event, attempt in retries:
                self._deliver(event, attempt)

    def _deliver(self, event: dict[str, Any], attempt: int) -> None:
        subscription = self.subscription
        if subscription is None:
            return
        body = json.dumps(event | {"attempt_number": attempt}).encode()
        signature = "sha256=" + hmac.new(subscription.token.encode(), body, hashlib.sha256).hexdigest()
        status = self._post(subscription.url, body, signature)
        self.sent.append(
            Sent(event["id"], event["type"], event["entity"]["id"], status, attempt, datetime.now(UTC).isoformat())
        )
        if status != 200 and attempt < MAX_ATTEMPTS:
            with self._lock:
                self._retries.append((time.monotonic() + min(60.0, 2.0**attempt), event, attempt + 1))

    @staticmethod
    def _post(url: str, body: bytes, signature: str | None) -> int | None:
        headers = {"Content-Type": "application/json", "User-Agent": "notion-api"}
        if signature is not None:
            headers["X-Notion-Signature"] = signature
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - local
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except OSError:
            return None
