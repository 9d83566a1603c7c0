"""The emulator's HTTP side: auth by token, the control endpoints, the route table (built once), the spec
check of each request, the rate limit and faults, and Notion's error JSON."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from atelier_local.loopback import LoopbackServer
from atelier_local.notion_emulator import comments, content, files, query, views
from atelier_local.notion_emulator.faults import FaultInjector, Faults
from atelier_local.notion_emulator.state import BOT_ID, PERSON_ID, ApiError, NotionState, new_id, norm
from atelier_local.notion_emulator.store import Store
from atelier_local.notion_emulator.webhooks import WebhookSender

Validator = Callable[[str, str, Any], list[str]]


@dataclass(frozen=True)
class Request:
    actor: str  # the bot, or a person (the human token)
    payload: Any  # the parsed JSON body, or None
    query: dict[str, str]
    raw: bytes
    content_type: str

    @property
    def body(self) -> dict[str, Any]:
        return self.payload if isinstance(self.payload, dict) else {}


Route = Callable[..., Any]  # (request, **ids from the path) -> the answer


class NotionEmulator:
    _SAVED = ("pages", "databases", "data_sources", "blocks", "children", "parent_page_id", "views", "comments")

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bot_token: str = "emulator-bot-token",  # noqa: S107 - not a secret: the emulator's own
        human_token: str = "emulator-human-token",  # noqa: S107
        validator: Validator | None = None,
        faults: Faults | None = None,
        state_file: Path | None = None,
    ) -> None:
        self.store = Store(NotionState(bot_token, human_token))
        # For `make dev`: pages outlive a restart, as Postgres does, so links from records stay good.
        self.state_file = state_file
        if state_file is not None and state_file.exists():
            saved = json.loads(state_file.read_text())
            for name in self._SAVED:
                if name in saved:  # a state file from before views keeps the rest
                    setattr(self.state, name, saved[name])
        self.faults = faults or Faults()
        self._injector = FaultInjector(self.faults)
        self.validator = validator
        self.requests: list[dict[str, Any]] = []
        self.spec_violations: list[str] = []
        self.webhooks = WebhookSender()
        self._lock = threading.RLock()
        self._routes = self._route_table()
        self._http = LoopbackServer(host, port, self._handler())

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def state(self) -> NotionState:
        return self.store.state

    @property
    def url(self) -> str:
        return self._http.url

    @property
    def parent_page_id(self) -> str:
        return self.state.parent_page_id

    def start(self) -> NotionEmulator:
        self._http.start_serving()
        return self

    def stop(self) -> None:
        self.webhooks.stop()
        self._http.stop()

    def _save(self) -> None:
        if self.state_file is None:
            return
        snapshot = {name: getattr(self.state, name) for name in self._SAVED}
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(snapshot))
        temporary.replace(self.state_file)

    def set_faults(self, **changes: Any) -> None:
        self._injector.configure(**changes)

    # -- what a person does in the app ------------------------------------------------------------

    def add_data_source(self, database_id: str, name: str, properties: dict[str, Any]) -> str:
        """A second data source in a database."""
        with self._lock:
            return self.store.add_data_source(database_id, name, properties)

    def delete_permanently(self, page_id: str) -> None:
        """Emptying the trash: the page is gone, and the API answers 404 for it."""
        with self._lock:
            self.store.delete_permanently(page_id)

    def edit_as_human(self, page_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        """A team member's edit (the same as an API write with the human token)."""
        with self._lock:
            body = {"properties": properties}
            page = self.store.update_page(norm(page_id), body, PERSON_ID)
            self._notify("PATCH", f"/v1/pages/{page['id']}", body, page, PERSON_ID)
            return page

    # -- webhooks: what a person changed, as Notion reports it ------------------------------------

    def _notify(self, method: str, path: str, body: dict[str, Any], result: Any, actor: str) -> None:
        if actor != PERSON_ID or self.webhooks.subscription is None or not isinstance(result, dict):
            return
        for kind, entity_id, entity_type, data in self._events(method, path, body, result):
            self.webhooks.notify(kind, entity_id, entity_type, data, actor)

    def _events(
        self, method: str, path: str, body: dict[str, Any], result: dict[str, Any]
    ) -> list[tuple[str, str, str, dict[str, Any]]]:
        if result.get("object") == "comment" and method == "POST":
            page_id = str((result.get("parent") or {}).get("page_id") or "")
            return [
                (
                    "comment.created",
                    result["id"],
                    "comment",
                    {"page_id": page_id, "parent": {"id": page_id, "type": "page"}},
                )
            ]
        if path.startswith("/v1/blocks/"):  # a page's content: appended, changed or deleted
            page = self.state.pages.get(content.page_of(self.state, path.split("/")[3]) or "")
            source_id = ((page or {}).get("parent") or {}).get("data_source_id")
            if page is None or not source_id:
                return []
            parent_of = {"id": source_id, "type": "data_source", "data_source_id": source_id}
            return [("page.content_updated", page["id"], "page", {"parent": parent_of, "updated_blocks": []})]
        if result.get("object") == "page":
            source_id = (result.get("parent") or {}).get("data_source_id")
            if not source_id:
                return []
            parent: dict[str, Any] = {
                "id": source_id,
                "type": "data_source",
                "data_source_id": source_id,
                "database_id": result["parent"].get("database_id"),
            }
            if method == "POST":
                return [("page.created", result["id"], "page", {"parent": parent})]
            events: list[tuple[str, str, str, dict[str, Any]]] = []
            if "in_trash" in body or "archived" in body:
                events.append(
                    (
                        "page.deleted" if result["in_trash"] else "page.undeleted",
                        result["id"],
                        "page",
                        {"parent": parent},
                    )
                )
            if body.get("properties"):
                schema = self.state.data_sources[source_id]["properties"]
                ids = [schema[key]["id"] if key in schema else key for key in body["properties"]]
                events.append(
                    ("page.properties_updated", result["id"], "page", {"parent": parent, "updated_properties": ids})
                )
            return events
        if result.get("object") == "data_source" and method == "PATCH":
            changed = [
                {
                    "id": str(key),
                    "name": str((change or {}).get("name") or key),
                    "action": "deleted" if change is None else "updated",
                }
                for key, change in (body.get("properties") or {}).items()
            ]
            return [
                (
                    "data_source.schema_updated",
                    result["id"],
                    "data_source",
                    {
                        "parent": {"id": result["parent"]["database_id"], "type": "database"},
                        "updated_properties": changed,
                    },
                )
            ]
        return []

    # -- the request path ------------------------------------------------------------------------

    def _route_table(self) -> list[tuple[str, re.Pattern[str], Route]]:
        """Built once: each route reads `self.store` when called, so a reset swaps the state under it."""
        routes: list[tuple[str, str, Route]] = [
            ("GET", r"/v1/users/me", lambda r: self.store.me(r.actor)),
            ("GET", r"/v1/users", lambda r: self.store.users()),
            ("GET", r"/v1/users/(?P<id>[^/]+)", lambda r, id: self.store.user(id)),
            ("POST", r"/v1/databases", lambda r: self.store.create_database(r.body, r.actor)),
            ("GET", r"/v1/databases/(?P<id>[^/]+)", lambda r, id: self.store.database(id)),
            ("GET", r"/v1/data_sources/(?P<id>[^/]+)", lambda r, id: self.store.data_source(id)),
            (
                "PATCH",
                r"/v1/data_sources/(?P<id>[^/]+)",
                lambda r, id: self.store.update_data_source(id, r.body, r.actor),
            ),
            (
                "POST",
                r"/v1/data_sources/(?P<id>[^/]+)/query",
                lambda r, id: query.query(self.state, id, r.body, limit=self.faults.max_query_results),
            ),
            ("POST", r"/v1/pages", lambda r: self.store.create_page(r.body, r.actor)),
            ("GET", r"/v1/pages/(?P<id>[^/]+)", lambda r, id: self.store.page(id)),
            ("PATCH", r"/v1/pages/(?P<id>[^/]+)", lambda r, id: self.store.update_page(id, r.body, r.actor)),
            (
                "PATCH",
                r"/v1/blocks/(?P<id>[^/]+)/children",
                lambda r, id: content.append(self.state, id, r.body, r.actor),
            ),
            ("GET", r"/v1/blocks/(?P<id>[^/]+)/children", lambda r, id: content.list_children(self.state, id, r.query)),
            ("PATCH", r"/v1/blocks/(?P<id>[^/]+)", lambda r, id: content.update_block(self.state, id, r.body, r.actor)),
            ("DELETE", r"/v1/blocks/(?P<id>[^/]+)", lambda r, id: content.delete_block(self.state, id, r.actor)),
            ("POST", r"/v1/search", lambda r: query.search(self.state, r.body)),
            ("POST", r"/v1/file_uploads", lambda r: content.create_upload(self.state, r.body, base_url=self.url)),
            (
                "POST",
                r"/v1/file_uploads/(?P<id>[^/]+)/send",
                lambda r, id: content.send_upload(self.state, id, r.raw, r.content_type),
            ),
            ("GET", r"/v1/file_uploads/(?P<id>[^/]+)", lambda r, id: content.upload_info(self.state, id)),
            ("POST", r"/v1/comments", lambda r: comments.create(self.state, r.body, r.actor)),
            ("GET", r"/v1/comments", lambda r: comments.listing(self.state, r.query)),
            ("POST", r"/v1/views", lambda r: views.create(self.state, r.body, r.actor)),
            ("GET", r"/v1/views", lambda r: views.listing(self.state, r.query)),
            ("GET", r"/v1/views/(?P<id>[^/]+)", lambda r, id: views.retrieve(self.state, id)),
            ("PATCH", r"/v1/views/(?P<id>[^/]+)", lambda r, id: views.update(self.state, id, r.body, r.actor)),
            ("DELETE", r"/v1/views/(?P<id>[^/]+)", lambda r, id: views.delete(self.state, id)),
        ]
        return [(verb, re.compile(pattern), handler) for verb, pattern, handler in routes]

    def dispatch(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(target)
        path, params = parts.path, dict(parse_qsl(parts.query))
        if path.startswith("/_control/"):
            return self._control(method, path, body)
        token = (headers.get("authorization") or "").removeprefix("Bearer ").strip()
        if token not in (self.state.bot_token, self.state.human_token):
            raise ApiError(401, "unauthorized", "API token is invalid.")
        if not headers.get("notion-version"):
            raise ApiError(400, "missing_version", "Notion-Version header failed validation: missing.")
        actor = BOT_ID if token == self.state.bot_token else PERSON_ID
        self.state.files_url, self.state.file_url_seconds = self.url, self.faults.file_url_seconds
        content_type = headers.get("content-type", "")
        payload: Any = None
        if body and content_type.startswith("application/json"):
            try:
                payload = json.loads(body)
            except json.JSONDecodeError:
                raise ApiError(400, "invalid_json", "Error parsing JSON body.") from None
        self.requests.append({"method": method, "path": path, "query": params, "body": payload, "actor": actor})
        if self.validator is not None and not path.startswith("/v1/file_uploads"):
            problems = self.validator(method, path, payload)
            if problems:
                self.spec_violations += [f"{method} {path}: {p}" for p in problems]
                raise ApiError(
                    400, "validation_error", "Request does not match Notion's OpenAPI spec: " + "; ".join(problems)
                )
        self._injector.admit()
        is_write = method in ("POST", "PATCH", "DELETE") and not path.endswith("/query") and path != "/v1/search"
        fail_after = self._injector.before(is_write=is_write)
        request = Request(actor, payload, params, body, content_type)
        with self._lock:
            result = self._route(method, path, request)
            if is_write:
                self._save()
                self._notify(method, path, request.body, result, actor)
        if fail_after:
            raise self._injector.after_commit()
        return 200, {}, result

    def _route(self, method: str, path: str, request: Request) -> Any:
        for verb, pattern, handler in self._routes:
            found = pattern.fullmatch(path)
            if found and verb == method:
                return handler(request, **{k: norm(v) for k, v in found.groupdict().items()})
        raise ApiError(400, "invalid_request_url", f"Invalid request URL: {method} {path}.")

    def _control(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        if path == "/_control/faults" and method == "POST":
            self.set_faults(**(json.loads(body or b"{}")))
            return 200, {}, {"faults": self.faults.__dict__}
        if path == "/_control/edit-as-human" and method == "POST":
            edit = json.loads(body or b"{}")
            return 200, {}, self.edit_as_human(str(edit.get("page_id", "")), edit.get("properties") or {})
        if path == "/_control/requests" and method == "GET":
            return 200, {}, {"requests": self.requests, "spec_violations": self.spec_violations}
        if path == "/_control/webhooks" and method == "POST":
            wanted = json.loads(body or b"{}")
            if not isinstance(wanted, dict) or not str(wanted.get("url") or "").startswith(("http://", "https://")):
                raise ApiError(400, "validation_error", 'give {"url": ..., "delay_seconds": 2}')
            return 200, {}, self.webhooks.subscribe(str(wanted["url"]), delay=float(wanted.get("delay_seconds", 2)))
        if path == "/_control/webhooks" and method == "GET":
            subscription = self.webhooks.subscription
            return (
                200,
                {},
                {
                    "subscription": None
                    if subscription is None
                    else {"id": subscription.id, "url": subscription.url, "delay_seconds": subscription.delay},
                    "sent": [sent.__dict__ for sent in self.webhooks.sent],
                },
            )
        if path == "/_control/webhooks" and method == "DELETE":
            self.webhooks.unsubscribe()
            return 200, {}, {"subscription": None}
        if path == "/_control/webhooks/flush" and method == "POST":
            return 200, {}, {"sent": self.webhooks.flush()}
        if path == "/_control/reset" and method == "POST":
            self.webhooks.unsubscribe()
            with self._lock:
                self.store = Store(NotionState(self.state.bot_token, self.state.human_token))
                self.requests.clear()
            return 200, {}, {"parent_page_id": self.state.parent_page_id}
        raise ApiError(404, "invalid_request_url", f"no control endpoint {method} {path}")

    # -- HTTP ------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                if self.command == "GET" and self.path.startswith("/_files/"):  # signed, as S3 is: no token
                    self._raw(*files.serve(emulator.state, self.path))
                    return
                try:
                    status, extra, payload = emulator.dispatch(self.command, self.path, headers, body)
                except ApiError as error:
                    status, extra = error.status, error.headers
                    payload = {
                        "object": "error",
                        "status": error.status,
                        "code": error.code,
                        "message": error.message,
                        "request_id": new_id(),
                    }
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _raw(self, status: int, content_type: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
