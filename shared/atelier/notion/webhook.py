"""Notion webhooks: the one-time verification handshake, the signature on every delivery, and where the token lives.

Notion posts `{"verification_token": ...}` once, when a subscription is made. The handshake is unauthenticated, so
it is taken only while armed (`atelier notion webhook arm` opens a short window for one). The token is kept where
the operator can read it (the function's secret in Secrets Manager, if that secret is still empty; locally
`.atelier/dev.json`) and is never logged. Every delivery after that carries
`X-Notion-Signature: sha256=<HMAC-SHA256 of the raw body, keyed by the token>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from atelier.kernel.body import header, json_object, raw_body
from atelier.kernel.errors import (
    ConfigurationError,
    Contradiction,
    MalformedRequest,
    NotAuthenticated,
    NotPermitted,
    SignatureInvalid,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

    from atelier.kernel.rpc import Rpc
    from atelier.kernel.settings import NotionWebhookSettings

SIGNATURE_HEADER = "x-notion-signature"
TOKEN_KEY = "notion_webhook_verification_token"  # noqa: S105 - the dev.json key's name, not a token
MAX_TOKEN_LENGTH = 512
# Events about a page: pull that page, as it is now. Events about a schema: read that schema again.
PAGE_EVENTS = frozenset(
    {
        "page.created",
        "page.properties_updated",
        "page.deleted",
        "page.undeleted",
        "page.moved",
        "page.content_updated",
        "page.unlocked",
        "page.locked",
    }
)
SCHEMA_EVENTS = frozenset({"data_source.schema_updated", "database.schema_updated"})
# A comment on a page: read that page's comments (a team member's reply to a client, perhaps).
COMMENT_EVENTS = frozenset({"comment.created"})


def sign(token: str, body: bytes) -> str:
    return "sha256=" + hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def signed(token: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is Notion's signature of this raw body, compared in constant time."""
    return bool(header) and hmac.compare_digest(sign(token, body).encode(), str(header).strip().encode())


def _text(value: Any, limit: int) -> str | None:
    """Text a ledger can hold, or None: a string of 1 to `limit` characters with no control character and no lone
    surrogate (JSON's "\\ud800", which is not UTF-8); `isprintable` refuses both."""
    return value if isinstance(value, str) and 0 < len(value) <= limit and value.isprintable() else None


class BadDelivery(ValueError):
    """A delivery whose JSON is not an event Notion would send; the message names what is wrong."""


@dataclass(frozen=True)
class Delivery:
    event_id: str
    type: str
    entity_id: str
    entity_type: str
    timestamp: str
    attempt: int
    page_id: str = ""  # a comment event's page (`data.page_id`)

    @classmethod
    def parse(cls, payload: dict[str, Any]) -> Delivery:
        event_id, kind, entity = payload.get("id"), payload.get("type"), payload.get("entity")
        if _text(event_id, 200) is None:
            raise BadDelivery("id: the event's id, a string of printable UTF-8, is required")
        if _text(kind, 100) is None:
            raise BadDelivery("type: the event's type, a string of printable UTF-8, is required")
        if not isinstance(entity, dict) or not isinstance(entity.get("id"), str) or not entity.get("id"):
            raise BadDelivery("entity: an object with the id of what changed is required")
        entity_id = str(entity["id"])
        if len(entity_id) > 200 or any(not (c.isalnum() or c == "-") for c in entity_id):
            raise BadDelivery("entity.id: not a Notion id")
        attempt = payload.get("attempt_number", 1)
        data: dict[str, Any] = payload["data"] if isinstance(payload.get("data"), dict) else {}
        parent: dict[str, Any] = data["parent"] if isinstance(data.get("parent"), dict) else {}
        page_id = data.get("page_id") or parent.get("id")
        if not isinstance(page_id, str) or len(page_id) > 200 or any(not (c.isalnum() or c == "-") for c in page_id):
            page_id = ""
        return cls(
            str(event_id),
            str(kind),
            entity_id,
            _text(entity.get("type"), 64) or "",
            _text(payload.get("timestamp"), 64) or "",
            attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else 1,
            page_id,
        )

    def sent_at(self, now: datetime) -> str | None:
        """When Notion says it sent the event, if that is a time within the last day (for the delivery latency the
        owner's report shows); None for anything else, which is never an error."""
        try:
            sent = datetime.fromisoformat(self.timestamp.replace("Z", "+00:00"))
        except ValueError:
            return None
        if sent.tzinfo is None or not timedelta(minutes=-5) <= now - sent <= timedelta(days=1):
            return None
        return sent.isoformat()


class TokenStore(Protocol):
    """Where the verification token is kept."""

    def current(self) -> str | None: ...

    def keep(self, token: str) -> bool:
        """Keep the token if none is kept yet; False when one already is (a new subscription needs it cleared)."""
        ...


class GivenToken:
    """A token the operator set in the environment."""

    def __init__(self, token: str) -> None:
        self._token = token

    def current(self) -> str | None:
        return self._token

    def keep(self, token: str) -> bool:
        return hmac.compare_digest(token.encode(), self._token.encode())


class FileTokens:
    """Locally: the token under `notion_webhook_verification_token` in `.atelier/dev.json`, beside the other keys."""

    _lock = threading.Lock()

    def __init__(self, path: Path, key: str = TOKEN_KEY) -> None:
        self.path = path
        self._key = key.split(".")  # a dotted key: another business's is businesses.<slug>.<TOKEN_KEY>

    def _get(self, data: dict[str, Any]) -> Any:
        for part in self._key:
            data = data.get(part) if isinstance(data, dict) else None  # type: ignore[assignment]
        return data

    def _with(self, data: dict[str, Any], value: str | None) -> dict[str, Any]:
        """`data` with the token set (None: removed), the dicts on the way copied."""
        top = dict(data)
        node = top
        for part in self._key[:-1]:
            child = node.get(part)
            node[part] = dict(child) if isinstance(child, dict) else {}
            node = node[part]
        if value is None:
            node.pop(self._key[-1], None)
        else:
            node[self._key[-1]] = value
        return top

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def current(self) -> str | None:
        value = self._get(self._read())
        return value if isinstance(value, str) and value else None

    def keep(self, token: str) -> bool:
        with self._lock:
            data = self._read()
            kept = self._get(data)
            if kept:
                return bool(hmac.compare_digest(str(kept).encode(), token.encode()))
            self._write(self._with(data, token))
            return True

    def clear(self) -> None:
        with self._lock:
            data = self._read()
            if self._get(data) is not None:
                self._write(self._with(data, None))

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data, indent=2) + "\n")
        temporary.chmod(0o600)
        temporary.replace(self.path)


class SecretTokens:
    """In AWS: the function's own secret in Secrets Manager, written once by the handshake while it is empty."""

    CACHE_SECONDS = 300.0

    def __init__(self, secret_id: str, client: Any = None) -> None:
        self._secret_id = secret_id
        self._client = client
        self._cached: tuple[float, str | None] | None = None

    def _secrets(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("secretsmanager")
        return self._client

    def current(self) -> str | None:
        if self._cached is not None and time.monotonic() - self._cached[0] < self.CACHE_SECONDS and self._cached[1]:
            return self._cached[1]
        client = self._secrets()
        try:
            value = client.get_secret_value(SecretId=self._secret_id).get("SecretString")
        except client.exceptions.ResourceNotFoundException:
            value = None  # the secret exists with no value yet (the template makes it so), or not at all
        token = value.strip() if isinstance(value, str) and value.strip() else None
        self._cached = (time.monotonic(), token)
        return token

    def keep(self, token: str) -> bool:
        existing = self.current()
        if existing is not None:
            return hmac.compare_digest(existing.encode(), token.encode())
        self._secrets().put_secret_value(SecretId=self._secret_id, SecretString=token)
        self._cached = (time.monotonic(), token)
        return True


class Arming(Protocol):
    """The window `atelier notion webhook arm` opens, shared by every function: one handshake may take it."""

    def take(self) -> bool:
        """Whether the window was open; taking it closes it."""
        ...


class RpcArming:
    """The window, kept in Postgres (`notion_webhook_arming`), so it holds across Lambdas and the CLI."""

    def __init__(self, rpc: Rpc) -> None:
        self._rpc = rpc

    def arm(self, seconds: int) -> datetime:
        until = self._rpc.rpc("arm_notion_webhook", p_seconds=seconds)["armed_until"]
        return until if isinstance(until, datetime) else datetime.fromisoformat(str(until))

    def take(self) -> bool:
        return bool(self._rpc.rpc("take_notion_webhook_arming"))


class WebhookGate:
    """What a raw delivery is: Notion's handshake (its token kept, while armed), or a signed event (a `Delivery`).
    Anything else is refused with the 4xx it deserves, before any state is touched."""

    def __init__(self, tokens: TokenStore, arming: Arming) -> None:
        self._tokens = tokens
        self._arming = arming

    def admit(self, body: bytes, signature: str | None) -> Delivery | None:
        """The verified event, or None for a handshake whose token was kept."""
        payload = json_object(body, what="a Notion webhook event")
        if "verification_token" in payload and "type" not in payload:
            self._keep(payload["verification_token"])
            return None
        token = self._tokens.current()
        if token is None:
            raise NotAuthenticated(
                "No verification token is kept yet: create the webhook subscription in Notion, so that "
                "its handshake reaches this endpoint first.",
                code="not_verified",
            )
        if not signed(token, body, signature):
            raise SignatureInvalid("X-Notion-Signature is missing or does not match the body.")
        try:
            return Delivery.parse(payload)
        except BadDelivery as exc:
            raise MalformedRequest(str(exc), code="invalid_event") from None

    def _keep(self, token: Any) -> None:
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH or not token.isprintable():
            raise MalformedRequest(
                "verification_token must be a non-empty string.",
                code="invalid_token",
                fields={"verification_token": "a string of at most 512 characters"},
            )
        kept = self._tokens.current()
        if kept is not None and hmac.compare_digest(kept.encode(), token.encode()):
            return  # Notion sent the same handshake again: nothing changes
        if kept is None and not self._arming.take():
            raise NotPermitted(
                "The handshake is not armed, so its token was not kept: run `atelier notion webhook arm`, "
                "then create the subscription in Notion while the window is open.",
                code="not_armed",
            )
        if not self._tokens.keep(token):
            raise Contradiction(
                "A verification token is kept already. To accept a new subscription's token, empty the "
                "function's secret (locally: delete notion_webhook_verification_token from "
                ".atelier/dev.json) and send the handshake again.",
                code="token_already_kept",
            )


MAX_BODY_BYTES = 64 * 1024


def parse_notion_webhook(event: APIGatewayProxyEventV2) -> tuple[bytes, str | None]:
    """The body exactly as Notion sent it (within 64 KB), and its signature header, for `WebhookGate.admit`."""
    return raw_body(event.body, event.is_base64_encoded, limit=MAX_BODY_BYTES), header(event.headers, SIGNATURE_HEADER)


def tokens_from_settings(config: NotionWebhookSettings) -> TokenStore:
    """Where the verification token is kept: the function's secret (AWS), the dev state file (`make dev`), or the
    token the operator set."""
    if config.notion_webhook_verification_token_secret:
        return SecretTokens(config.notion_webhook_verification_token_secret)
    if config.notion_webhook_token_file:
        return FileTokens(Path(config.notion_webhook_token_file), config.notion_webhook_token_key)
    if config.notion_webhook_verification_token and config.notion_webhook_verification_token.get_secret_value():
        return GivenToken(config.notion_webhook_verification_token.get_secret_value())
    raise ConfigurationError(
        "the Notion webhook has nowhere to keep its verification token: set NOTION_WEBHOOK_VERIFICATION_TOKEN_SECRET "
        "(a Secrets Manager secret the function may write), or NOTION_WEBHOOK_VERIFICATION_TOKEN, or start `make dev`"
    )
