"""A stateful stand-in for Notion's API (version 2025-09-03), for tests and the local run.

It keeps databases, data sources, pages, blocks and file uploads in memory and behaves as Notion does
where Atelier depends on it: `last_edited_time` rounded down to the minute, `last_edited_by` the bot for
API writes and a person for writes made with the human token, cursors and `page_size` <= 100, the size
limits (2,000 characters per rich text item, 100 items or blocks per array), Notion's error JSON, and a
rate limit answered with 429 and Retry-After. Faults can be injected: 5xx (500/503/529), timeouts, and
"commit then fail" (the write takes effect, the caller gets a 500).

Control endpoints under /_control: POST /_control/faults, POST /_control/reset, GET /_control/requests, and
POST /_control/edit-as-human {page_id, properties} (as do API writes made with the human token).
`POST /v1/databases` and the file-upload endpoints are not in Notion's published OpenAPI file; they follow
https://developers.notion.com/reference/database-create and .../reference/create-a-file-upload.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from atelier_local.loopback import LoopbackServer

BOT_ID = "a1b2c3d4-0000-4000-8000-00000000b07a"
PERSON_ID = "a1b2c3d4-0000-4000-8000-0000000ea5ed"
RICH_TEXT_LIMIT = 2000
ARRAY_LIMIT = 100
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
PROPERTY_TYPES = {
    "title",
    "rich_text",
    "number",
    "select",
    "multi_select",
    "status",
    "date",
    "people",
    "files",
    "checkbox",
    "url",
    "email",
    "phone_number",
    "relation",
    "created_time",
    "last_edited_time",
}
STATUS_DEFAULT_OPTIONS = [
    ("Not started", "default", "to_do"),
    ("In progress", "blue", "in_progress"),
    ("Done", "green", "complete"),
]

Validator = Callable[[str, str, Any], list[str]]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def _id() -> str:
    return str(uuid.uuid4())


def _norm(object_id: str) -> str:
    """Notion accepts ids with or without dashes."""
    raw = object_id.replace("-", "")
    return str(uuid.UUID(raw)) if re.fullmatch(r"[0-9a-fA-F]{32}", raw) else object_id


@dataclass
class Faults:
    rate_per_second: float = 3.0
    burst: float = 9.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 503, 529)
    timeout_rate: float = 0.0
    timeout_seconds: float = 35.0
    commit_then_fail_rate: float = 0.0
    retry_after: float = 1.0  # what an injected 529 asks for; benchmarks and tests scale time down
    max_query_results: int = 10_000  # past this a query stops and reports itself incomplete
    seed: int | None = None


@dataclass
class NotionState:
    bot_token: str
    human_token: str
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    databases: dict[str, dict[str, Any]] = field(default_factory=dict)
    data_sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    parent_page_id: str = ""

    def __post_init__(self) -> None:
        if not self.parent_page_id:
            self.parent_page_id = _id()
            stamp = self.stamp()
            self.pages[self.parent_page_id] = {
                "object": "page",
                "id": self.parent_page_id,
                "created_time": stamp,
                "last_edited_time": stamp,
                "created_by": self.user_ref(PERSON_ID),
                "last_edited_by": self.user_ref(PERSON_ID),
                "parent": {"type": "workspace", "workspace": True},
                "in_trash": False,
                "archived": False,
                "icon": None,
                "cover": None,
                "public_url": None,
                "properties": {"title": {"id": "title", "type": "title", "title": self.rich(["Atelier"])}},
                "url": f"https://www.notion.so/{self.parent_page_id.replace('-', '')}",
            }
            self.children[self.parent_page_id] = []

    def stamp(self) -> str:
        """Notion rounds last_edited_time down to the minute."""
        return self.clock().replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:00.000Z")

    @staticmethod
    def user_ref(user_id: str) -> dict[str, Any]:
        return {"object": "user", "id": user_id}

    @staticmethod
    def rich(texts: list[str]) -> list[dict[str, Any]]:
        return [
            {
                "type": "text",
                "text": {"content": t, "link": None},
                "plain_text": t,
                "href": None,
                "annotations": {
                    "bold": False,
                    "italic": False,
                    "strikethrough": False,
                    "underline": False,
                    "code": False,
                    "color": "default",
                },
            }
            for t in texts
        ]


class NotionEmulator:
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
        self.state = NotionState(bot_token, human_token)
        # For `make dev`: pages outlive a restart, as Postgres does, so links from records stay good.
        self.state_file = state_file
        if state_file is not None and state_file.exists():
            self._load(state_file)
        self.faults = faults or Faults()
        self.validator = validator
        self.requests: list[dict[str, Any]] = []
        self.spec_violations: list[str] = []
        self._lock = threading.RLock()
        self._tokens = self.faults.burst
        self._refilled = time.monotonic()
        self._random = random.Random(self.faults.seed)  # noqa: S311 - fault injection, not security
        self._http = LoopbackServer(host, port, self._handler())

    # -- lifecycle -------------------------------------------------------------------------------

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
        self._http.stop()

    _SAVED = ("pages", "databases", "data_sources", "blocks", "children", "parent_page_id")

    def _load(self, path: Path) -> None:
        saved = json.loads(path.read_text())
        for name in self._SAVED:
            setattr(self.state, name, saved[name])

    def _save(self) -> None:
        if self.state_file is None:
            return
        snapshot = {name: getattr(self.state, name) for name in self._SAVED}
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(snapshot))
        temporary.replace(self.state_file)

    def set_faults(self, **changes: Any) -> None:
        with self._lock:
            for key, value in changes.items():
                if not hasattr(self.faults, key):
                    raise ApiError(400, "validation_error", f"unknown fault setting {key}")
                setattr(self.faults, key, tuple(value) if isinstance(value, list) else value)
            self._tokens = min(self._tokens, self.faults.burst)
            if "seed" in changes:
                self._random = random.Random(self.faults.seed)  # noqa: S311

    # -- the request path ------------------------------------------------------------------------

    def _rate_limited(self) -> float | None:
        """Seconds to wait, or None when the request may pass."""
        with self._lock:
            now = time.monotonic()
            rate = self.faults.rate_per_second
            self._tokens = min(self.faults.burst, self._tokens + (now - self._refilled) * rate)
            self._refilled = now
            if self._tokens >= 1:
                self._tokens -= 1
                return None
            return (1 - self._tokens) / rate

    def dispatch(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(target)
        path, query = parts.path, dict(parse_qsl(parts.query))
        if path.startswith("/_control/"):
            return self._control(method, path, body)
        token = (headers.get("authorization") or "").removeprefix("Bearer ").strip()
        if token not in (self.state.bot_token, self.state.human_token):
            raise ApiError(401, "unauthorized", "API token is invalid.")
        if not headers.get("notion-version"):
            raise ApiError(400, "missing_version", "Notion-Version header failed validation: missing.")
        actor = BOT_ID if token == self.state.bot_token else PERSON_ID
        content_type = headers.get("content-type", "")
        payload: Any = None
        if body and content_type.startswith("application/json"):
            try:
                payload = json.loads(body)
            except json.JSONDecodeError:
                raise ApiError(400, "invalid_json", "Error parsing JSON body.") from None
        self.requests.append({"method": method, "path": path, "query": query, "body": payload, "actor": actor})
        if self.validator is not None and not path.startswith("/v1/file_uploads"):
            problems = self.validator(method, path, payload)
            if problems:
                self.spec_violations += [f"{method} {path}: {p}" for p in problems]
                raise ApiError(
                    400, "validation_error", "Request does not match Notion's OpenAPI spec: " + "; ".join(problems)
                )
        wait = self._rate_limited()
        if wait is not None:
            raise ApiError(
                429,
                "rate_limited",
                "You have been rate limited. Please try again in a few minutes.",
                {"Retry-After": str(max(1, round(wait + 0.49))) if wait >= 1 else f"{wait:.3f}"},
            )
        is_write = method in ("POST", "PATCH", "DELETE") and not path.endswith("/query") and path != "/v1/search"
        with self._lock:
            roll = self._random.random()
            error_rate, timeout_rate = self.faults.error_rate, self.faults.timeout_rate
            commit_rate = self.faults.commit_then_fail_rate if is_write else 0.0
        if roll < timeout_rate:
            time.sleep(self.faults.timeout_seconds)
            raise ApiError(504, "gateway_timeout", "Notion timed out.")
        if roll < timeout_rate + error_rate:
            status = self._random.choice(self.faults.error_statuses)
            code = {503: "service_unavailable", 529: "service_unavailable"}.get(status, "internal_server_error")
            retry = {"Retry-After": f"{self.faults.retry_after:g}"} if status == 529 else {}
            raise ApiError(status, code, "Injected fault.", retry)
        with self._lock:
            result = self._route(method, path, query, payload, body, content_type, actor)
            if is_write:
                self._save()
        if roll < timeout_rate + error_rate + commit_rate:
            raise ApiError(500, "internal_server_error", "Injected fault after the write took effect.")
        return 200, {}, result

    def _control(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        if path == "/_control/faults" and method == "POST":
            self.set_faults(**(json.loads(body or b"{}")))
            return 200, {}, {"faults": self.faults.__dict__}
        if path == "/_control/edit-as-human" and method == "POST":
            edit = json.loads(body or b"{}")
            return 200, {}, self.edit_as_human(str(edit.get("page_id", "")), edit.get("properties") or {})
        if path == "/_control/requests" and method == "GET":
            return 200, {}, {"requests": self.requests, "spec_violations": self.spec_violations}
        if path == "/_control/reset" and method == "POST":
            with self._lock:
                self.state = NotionState(self.state.bot_token, self.state.human_token)
                self.requests.clear()
            return 200, {}, {"parent_page_id": self.state.parent_page_id}
        raise ApiError(404, "invalid_request_url", f"no control endpoint {method} {path}")

    def _route(
        self, method: str, path: str, query: dict[str, str], payload: Any, raw: bytes, content_type: str, actor: str
    ) -> Any:
        routes: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", r"/v1/users/me", lambda: self._me(actor)),
            ("POST", r"/v1/databases", lambda: self._create_database(payload or {}, actor)),
            ("GET", r"/v1/databases/(?P<id>[^/]+)", lambda id: self._database(id)),
            ("GET", r"/v1/data_sources/(?P<id>[^/]+)", lambda id: self._data_source(id)),
            ("PATCH", r"/v1/data_sources/(?P<id>[^/]+)", lambda id: self._update_data_source(id, payload or {}, actor)),
            ("POST", r"/v1/data_sources/(?P<id>[^/]+)/query", lambda id: self._query(id, payload or {})),
            ("POST", r"/v1/pages", lambda: self._create_page(payload or {}, actor)),
            ("GET", r"/v1/pages/(?P<id>[^/]+)", lambda id: self._page(id)),
            ("PATCH", r"/v1/pages/(?P<id>[^/]+)", lambda id: self._update_page(id, payload or {}, actor)),
            ("PATCH", r"/v1/blocks/(?P<id>[^/]+)/children", lambda id: self._append(id, payload or {}, actor)),
            ("GET", r"/v1/blocks/(?P<id>[^/]+)/children", lambda id: self._list_children(id, query)),
            ("POST", r"/v1/search", lambda: self._search(payload or {})),
            ("POST", r"/v1/file_uploads", lambda: self._create_upload(payload or {})),
            ("POST", r"/v1/file_uploads/(?P<id>[^/]+)/send", lambda id: self._send_upload(id, raw, content_type)),
            ("GET", r"/v1/file_uploads/(?P<id>[^/]+)", lambda id: self._upload(id)),
        ]
        for verb, pattern, handler in routes:
            found = re.fullmatch(pattern, path)
            if found and verb == method:
                return handler(**{k: _norm(v) for k, v in found.groupdict().items()})
        raise ApiError(400, "invalid_request_url", f"Invalid request URL: {method} {path}.")

    # -- users -----------------------------------------------------------------------------------

    def _me(self, actor: str) -> dict[str, Any]:
        if actor == BOT_ID:
            return {
                "object": "user",
                "id": BOT_ID,
                "type": "bot",
                "name": "Atelier",
                "avatar_url": None,
                "bot": {
                    "owner": {"type": "workspace", "workspace": True},
                    "workspace_name": "Studio",
                    "workspace_id": "a1b2c3d4-0000-4000-8000-00000000f00d",
                    "workspace_limits": {"max_file_upload_size_in_bytes": MAX_UPLOAD_BYTES},
                },
            }
        return {
            "object": "user",
            "id": PERSON_ID,
            "type": "person",
            "name": "Studio Team",
            "avatar_url": None,
            "person": {"email": "team@studio.example"},
        }

    # -- databases and data sources --------------------------------------------------------------

    def _check_schema(self, properties: dict[str, Any]) -> dict[str, Any]:
        schema: dict[str, Any] = {}
        titles = 0
        for name, config in properties.items():
            if config is None:
                continue
            kinds = [k for k in config if k in PROPERTY_TYPES]
            if len(kinds) != 1:
                raise ApiError(400, "validation_error", f"Property {name!r} needs exactly one known type.")
            kind = kinds[0]
            titles += kind == "title"
            detail = dict(config[kind] or {})
            if kind in ("select", "status", "multi_select"):
                options = detail.get("options") or []
                for option in options:
                    if "," in str(option.get("name", "")):
                        raise ApiError(400, "validation_error", f"Select option names cannot contain commas: {option}")
                if kind == "status" and not options:
                    options = [{"name": n, "color": c} for n, c, _ in STATUS_DEFAULT_OPTIONS]
                elif kind == "status":
                    raise ApiError(400, "validation_error", "Status options cannot be set through the API.")
                detail["options"] = options = [
                    {"id": _id()[:8], "name": o["name"], "color": o.get("color", "default"), "description": None}
                    for o in options
                ]
                if kind == "status":
                    ids = [o["id"] for o in options]
                    detail["groups"] = [
                        {"id": _id()[:8], "name": group, "color": color, "option_ids": [ids[i]]}
                        for i, (group, color) in enumerate((("To-do", "gray"), ("In progress", "blue"),
                                                            ("Complete", "green")))
                    ]  # fmt: skip
            if kind == "number":
                detail.setdefault("format", "number")
            if kind == "relation":
                target = _norm(str(detail.get("data_source_id", "")))
                if target not in self.state.data_sources:
                    raise ApiError(400, "validation_error", f"Relation {name!r} points at no data source.")
                database_id = self.state.data_sources[target]["parent"]["database_id"]
                detail = {
                    "database_id": database_id,
                    "data_source_id": target,
                    "type": "single_property",
                    "single_property": {},
                }
            schema[name] = {"id": uuid.uuid4().hex[:4], "name": name, "description": None, "type": kind, kind: detail}
        if titles != 1:
            raise ApiError(400, "validation_error", "A data source needs exactly one title property.")
        return schema

    def _create_database(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        parent = body.get("parent") or {}
        page_id = _norm(str(parent.get("page_id", "")))
        if page_id not in self.state.pages:
            raise ApiError(404, "object_not_found", f"Could not find page with ID: {page_id}.")
        initial = body.get("initial_data_source") or {}
        schema = self._check_schema(initial.get("properties") or {})
        title = body.get("title") or []
        database_id, data_source_id, stamp = _id(), _id(), self.state.stamp()
        name = "".join(t.get("text", {}).get("content", "") for t in title)
        self.state.data_sources[data_source_id] = {
            "object": "data_source",
            "id": data_source_id,
            "created_time": stamp,
            "last_edited_time": stamp,
            "created_by": self.state.user_ref(actor),
            "last_edited_by": self.state.user_ref(actor),
            "title": self.state.rich([name]),
            "description": [],
            "properties": schema,
            "parent": {"type": "database_id", "database_id": database_id},
            "database_parent": {"type": "page_id", "page_id": page_id},
            "archived": False,
            "in_trash": False,
            "is_inline": False,
            "icon": None,
            "cover": None,
            "url": f"https://www.notion.so/{data_source_id.replace('-', '')}",
            "public_url": None,
        }
        self.state.databases[database_id] = {
            "object": "database",
            "id": database_id,
            "created_time": stamp,
            "last_edited_time": stamp,
            "title": self.state.rich([name]),
            "description": [],
            "parent": {"type": "page_id", "page_id": page_id},
            "is_inline": False,
            "archived": False,
            "in_trash": False,
            "is_locked": False,
            "icon": None,
            "cover": None,
            "data_sources": [{"id": data_source_id, "name": name}],
            "url": f"https://www.notion.so/{database_id.replace('-', '')}",
            "public_url": None,
        }
        self.state.children.setdefault(page_id, []).append(database_id)
        self.state.blocks[database_id] = {
            "object": "block",
            "id": database_id,
            "type": "child_database",
            "child_database": {"title": name},
            "has_children": False,
        }
        return self.state.databases[database_id]

    def _database(self, database_id: str) -> dict[str, Any]:
        if database_id not in self.state.databases:
            raise ApiError(404, "object_not_found", f"Could not find database with ID: {database_id}.")
        return self.state.databases[database_id]

    def _data_source(self, data_source_id: str) -> dict[str, Any]:
        if data_source_id not in self.state.data_sources:
            raise ApiError(404, "object_not_found", f"Could not find data_source with ID: {data_source_id}.")
        return self.state.data_sources[data_source_id]

    def add_data_source(self, database_id: str, name: str, properties: dict[str, Any]) -> str:
        """What a person does in the app: add a second data source to a database."""
        with self._lock:
            source = dict(self.state.data_sources[self.state.databases[database_id]["data_sources"][0]["id"]])
            new_id = _id()
            source.update(id=new_id, title=self.state.rich([name]), properties=self._check_schema(properties))
            self.state.data_sources[new_id] = source
            self.state.databases[database_id]["data_sources"].append({"id": new_id, "name": name})
            return new_id

    def _update_data_source(self, data_source_id: str, body: dict[str, Any], actor: str) -> dict[str, Any]:
        source = self._data_source(data_source_id)
        schema = source["properties"]
        for key, change in (body.get("properties") or {}).items():
            name = next((n for n, p in schema.items() if p["id"] == key), key)
            if change is None:
                schema.pop(name, None)
                continue
            if name in schema and "name" in change and len(change) == 1:
                prop = schema.pop(name)
                prop["name"] = change["name"]
                schema[change["name"]] = prop
                for page in self.state.pages.values():
                    if page["parent"].get("data_source_id") == data_source_id and name in page["properties"]:
                        page["properties"][change["name"]] = page["properties"].pop(name)
                continue
            new = self._check_schema({name: change, "__t": {"title": {}}} if "title" not in change else {name: change})
            new.pop("__t", None)
            if name in schema and schema[name]["type"] == "title" and new[name]["type"] != "title":
                raise ApiError(400, "validation_error", "The type of a title property cannot be changed.")
            schema[str(change.get("name", name))] = new[name] | {"name": str(change.get("name", name))}
        source["last_edited_time"] = self.state.stamp()
        source["last_edited_by"] = self.state.user_ref(actor)
        return source

    # -- pages -----------------------------------------------------------------------------------

    def _check_value(self, name: str, kind: str, value: Any) -> Any:
        if kind in ("title", "rich_text"):
            items = value or []
            if len(items) > ARRAY_LIMIT:
                raise ApiError(400, "validation_error", f"{name}: at most {ARRAY_LIMIT} rich text items.")
            out = []
            for item in items:
                content = str((item.get("text") or {}).get("content", ""))
                if len(content) > RICH_TEXT_LIMIT:
                    raise ApiError(
                        400,
                        "validation_error",
                        f"{name}: text content length should be <= {RICH_TEXT_LIMIT}, got {len(content)}.",
                    )
                out += self.state.rich([content])
            return out
        if kind in ("select", "status"):
            if value is None:
                return None
            if "," in str(value.get("name", "")):
                raise ApiError(400, "validation_error", f"{name}: select option names cannot contain commas.")
            return {"id": uuid.uuid4().hex[:8], "name": value.get("name"), "color": "default"}
        if kind == "relation":
            if len(value or []) > ARRAY_LIMIT:
                raise ApiError(400, "validation_error", f"{name}: at most {ARRAY_LIMIT} relations.")
            return [{"id": _norm(str(r["id"]))} for r in value or []]
        if kind == "files":
            return list(value or [])
        if kind == "date" and value is not None:
            return {"start": value.get("start"), "end": value.get("end"), "time_zone": value.get("time_zone")}
        return value

    def _set_properties(self, page: dict[str, Any], values: dict[str, Any], schema: dict[str, Any] | None) -> None:
        for key, value in values.items():
            if schema is None:
                if key != "title":
                    raise ApiError(400, "validation_error", f"{key} is not a property that exists.")
                page["properties"]["title"] = {
                    "id": "title",
                    "type": "title",
                    "title": self._check_value(key, "title", value.get("title")),
                }
                continue
            name = next((n for n, p in schema.items() if p["id"] == key or n == key), None)
            if name is None:
                raise ApiError(400, "validation_error", f"{key} is not a property that exists.")
            kind = schema[name]["type"]
            if kind not in value:
                raise ApiError(400, "validation_error", f"{name} is expected to be {kind}.")
            page["properties"][name] = {
                "id": schema[name]["id"],
                "type": kind,
                kind: self._check_value(name, kind, value[kind]),
            }

    def _empty_properties(self, schema: dict[str, Any]) -> dict[str, Any]:
        empty: dict[str, Any] = {
            "title": [],
            "rich_text": [],
            "number": None,
            "select": None,
            "status": None,
            "date": None,
            "checkbox": False,
            "url": None,
            "email": None,
            "relation": [],
            "files": [],
            "people": [],
            "multi_select": [],
            "phone_number": None,
        }
        return {n: {"id": p["id"], "type": p["type"], p["type"]: empty.get(p["type"])} for n, p in schema.items()}

    def _create_page(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        parent = body.get("parent") or {}
        children = body.get("children") or []
        if len(children) > ARRAY_LIMIT:
            raise ApiError(400, "validation_error", f"body.children.length should be <= {ARRAY_LIMIT}.")
        schema: dict[str, Any] | None
        if "data_source_id" in parent:
            ds_id = _norm(str(parent["data_source_id"]))
            schema = self._data_source(ds_id)["properties"]
            parent_ref = {
                "type": "data_source_id",
                "data_source_id": ds_id,
                "database_id": self.state.data_sources[ds_id]["parent"]["database_id"],
            }
        elif "page_id" in parent:
            self._page(_norm(str(parent["page_id"])))
            schema, parent_ref = None, {"type": "page_id", "page_id": _norm(str(parent["page_id"]))}
        else:
            raise ApiError(400, "validation_error", "body.parent should have data_source_id or page_id.")
        page_id, stamp = _id(), self.state.stamp()
        page = {
            "object": "page",
            "id": page_id,
            "created_time": stamp,
            "last_edited_time": stamp,
            "created_by": self.state.user_ref(actor),
            "last_edited_by": self.state.user_ref(actor),
            "cover": None,
            "icon": None,
            "parent": parent_ref,
            "archived": False,
            "in_trash": False,
            "is_archived": False,
            "is_locked": False,
            "properties": self._empty_properties(schema) if schema else {},
            "public_url": None,
            "url": f"https://www.notion.so/{page_id.replace('-', '')}",
        }
        self._set_properties(page, body.get("properties") or {}, schema)
        self.state.pages[page_id] = page
        self.state.children[page_id] = []
        self._add_blocks(page_id, children, actor)
        return page

    def _page(self, page_id: str) -> dict[str, Any]:
        if page_id not in self.state.pages:
            raise ApiError(404, "object_not_found", f"Could not find page with ID: {page_id}.")
        return self.state.pages[page_id]

    def _schema_of(self, page: dict[str, Any]) -> dict[str, Any] | None:
        ds_id = page["parent"].get("data_source_id")
        return self.state.data_sources[ds_id]["properties"] if ds_id else None

    def _update_page(self, page_id: str, body: dict[str, Any], actor: str) -> dict[str, Any]:
        page = self._page(page_id)
        restoring = body.get("in_trash") is False or body.get("archived") is False
        if page["in_trash"] and not restoring and body.get("properties"):
            raise ApiError(400, "validation_error", "Can't edit a page that is in the trash.")
        self._set_properties(page, body.get("properties") or {}, self._schema_of(page))
        for flag in ("in_trash", "archived"):
            if flag in body:
                page["in_trash"] = page["archived"] = page["is_archived"] = bool(body[flag])
        page["last_edited_time"] = self.state.stamp()
        page["last_edited_by"] = self.state.user_ref(actor)
        return page

    def delete_permanently(self, page_id: str) -> None:
        """What emptying the trash in the app does: the page is gone, and the API answers 404 for it."""
        with self._lock:
            self.state.pages.pop(_norm(page_id), None)

    def edit_as_human(self, page_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        """A team member's edit in the app (the same as an API write with the human token)."""
        with self._lock:
            return self._update_page(_norm(page_id), {"properties": properties}, PERSON_ID)

    # -- blocks ----------------------------------------------------------------------------------

    def _add_blocks(self, parent_id: str, children: list[dict[str, Any]], actor: str) -> list[dict[str, Any]]:
        added = []
        for child in children:
            kind = child.get("type") or next((k for k in child if k not in ("object", "type")), None)
            if not kind or kind not in child:
                raise ApiError(400, "validation_error", "Each block needs a type and its content.")
            content = dict(child[kind])
            if "rich_text" in content:
                content["rich_text"] = self._check_value(kind, "rich_text", content["rich_text"])
                content.setdefault("color", "default")
                if kind == "paragraph":
                    content.setdefault("icon", None)
            if content.get("type") == "file_upload":
                upload = self.state.uploads.get(_norm(str(content["file_upload"]["id"])))
                if upload is None or upload["status"] != "uploaded":
                    raise ApiError(400, "validation_error", "The file upload does not exist or was not sent.")
                content = {
                    "type": "file",
                    "caption": content.get("caption", []),
                    "file": {
                        "url": f"https://files.notion.emulator/{upload['id']}/{upload['filename']}",
                        "expiry_time": "2099-01-01T00:00:00.000Z",
                    },
                }
            block_id, stamp = _id(), self.state.stamp()
            block = {
                "object": "block",
                "id": block_id,
                "parent": {"type": "page_id", "page_id": parent_id},
                "created_time": stamp,
                "last_edited_time": stamp,
                "created_by": self.state.user_ref(actor),
                "last_edited_by": self.state.user_ref(actor),
                "has_children": False,
                "archived": False,
                "in_trash": False,
                "type": kind,
                kind: content,
            }
            self.state.blocks[block_id] = block
            self.state.children.setdefault(parent_id, []).append(block_id)
            added.append(block)
        return added

    def _append(self, block_id: str, body: dict[str, Any], actor: str) -> dict[str, Any]:
        if block_id not in self.state.pages and block_id not in self.state.blocks:
            raise ApiError(404, "object_not_found", f"Could not find block with ID: {block_id}.")
        children = body.get("children") or []
        if len(children) > ARRAY_LIMIT:
            raise ApiError(400, "validation_error", f"body.children.length should be <= {ARRAY_LIMIT}.")
        added = self._add_blocks(block_id, children, actor)
        return {
            "object": "list",
            "results": added,
            "next_cursor": None,
            "has_more": False,
            "type": "block",
            "block": {},
        }

    def _paginate(self, items: list[dict[str, Any]], cursor: str | None, page_size: Any) -> dict[str, Any]:
        try:
            size = int(page_size or 100)
        except (TypeError, ValueError):
            raise ApiError(400, "validation_error", "page_size should be a number.") from None
        if not 1 <= size <= 100:
            raise ApiError(400, "validation_error", f"page_size should be <= 100 and >= 1, instead was {size}.")
        start = 0
        if cursor:
            ids = [i["id"] for i in items]
            if cursor not in ids:
                raise ApiError(400, "validation_error", "start_cursor is not valid.")
            start = ids.index(cursor)
        page = items[start : start + size]
        more = start + size < len(items)
        return {
            "object": "list",
            "results": page,
            "has_more": more,
            "next_cursor": items[start + size]["id"] if more else None,
        }

    def _list_children(self, block_id: str, query: dict[str, str]) -> dict[str, Any]:
        if block_id not in self.state.children:
            raise ApiError(404, "object_not_found", f"Could not find block with ID: {block_id}.")
        items = [self.state.blocks[b] for b in self.state.children[block_id] if b in self.state.blocks]
        return self._paginate(items, query.get("start_cursor"), query.get("page_size")) | {"type": "block", "block": {}}

    # -- query and search ------------------------------------------------------------------------

    def _matches(self, page: dict[str, Any], condition: dict[str, Any], schema: dict[str, Any]) -> bool:
        if "and" in condition:
            return all(self._matches(page, c, schema) for c in condition["and"])
        if "or" in condition:
            return any(self._matches(page, c, schema) for c in condition["or"])
        if condition.get("timestamp") in ("last_edited_time", "created_time"):
            stamp = page[condition["timestamp"]]
            test = condition[condition["timestamp"]]
            return self._compare_date(stamp, test)
        name = condition.get("property")
        prop = page["properties"].get(name) if name else None
        if name not in schema or prop is None:
            raise ApiError(400, "validation_error", f"Could not find property with name or id: {name}.")
        kind = prop["type"]
        test = condition.get(kind) or condition.get({"title": "rich_text"}.get(kind, kind)) or {}
        value = prop[kind]
        if kind in ("title", "rich_text"):
            text = "".join(item.get("plain_text", "") for item in value or [])
            return (
                ("equals" not in test or text == test["equals"])
                and ("contains" not in test or test["contains"] in text)
                and ("is_empty" not in test or not text)
            )
        if kind in ("select", "status"):
            name_ = (value or {}).get("name")
            return ("equals" not in test or name_ == test["equals"]) and ("is_empty" not in test or name_ is None)
        if kind == "date":
            return value is not None and self._compare_date(value["start"], test)
        if kind == "relation":
            ids = [r["id"] for r in value or []]
            return "contains" not in test or _norm(test["contains"]) in ids
        return "equals" not in test or value == test["equals"]

    @staticmethod
    def _compare_date(stamp: str, test: dict[str, Any]) -> bool:
        def parse(text: str) -> datetime:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

        value = parse(stamp)
        checks: dict[str, Callable[[datetime], bool]] = {
            "on_or_after": lambda o: value >= o,
            "after": lambda o: value > o,
            "before": lambda o: value < o,
            "on_or_before": lambda o: value <= o,
            "equals": lambda o: value == o,
        }
        return all(check(parse(str(test[key]))) for key, check in checks.items() if key in test)

    def _query(self, data_source_id: str, body: dict[str, Any]) -> dict[str, Any]:
        source = self._data_source(data_source_id)
        pages = [
            p
            for p in self.state.pages.values()
            if p["parent"].get("data_source_id") == data_source_id and (body.get("in_trash") or not p["in_trash"])
        ]
        if body.get("filter"):
            pages = [p for p in pages if self._matches(p, body["filter"], source["properties"])]
        for sort in reversed(body.get("sorts") or []):
            key = sort.get("timestamp") or sort.get("property")
            pages.sort(
                key=lambda p, k=key: str(p.get(k) or p["properties"].get(k, {})),  # type: ignore[misc]
                reverse=sort.get("direction") == "descending",
            )
        limit = self.faults.max_query_results
        result = self._paginate(pages[:limit], body.get("start_cursor"), body.get("page_size"))
        if len(pages) > limit and not result["has_more"]:
            # Notion stops at 10,000 results and says so, rather than paging on.
            result["request_status"] = {"type": "incomplete", "incomplete_reason": "query_result_limit_reached"}
        return result | {"type": "page_or_data_source", "page_or_data_source": {}}

    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        text = str(body.get("query") or "").lower()
        wanted = (body.get("filter") or {}).get("value")
        items: list[dict[str, Any]] = []
        if wanted in (None, "data_source"):
            items += [
                d
                for d in self.state.data_sources.values()
                if text in "".join(t["plain_text"] for t in d["title"]).lower()
            ]
        if wanted in (None, "page"):
            for page in self.state.pages.values():
                title: list[dict[str, Any]] = next(
                    (p["title"] for p in page["properties"].values() if p["type"] == "title"), []
                )
                if not page["in_trash"] and text in "".join(t.get("plain_text", "") for t in title).lower():
                    items.append(page)
        return self._paginate(items, body.get("start_cursor"), body.get("page_size")) | {
            "type": "page_or_data_source",
            "page_or_data_source": {},
        }

    # -- file uploads ----------------------------------------------------------------------------

    def _create_upload(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("mode", "single_part") != "single_part":
            raise ApiError(400, "validation_error", "Only single_part uploads are emulated.")
        upload_id = _id()
        upload = {
            "object": "file_upload",
            "id": upload_id,
            "status": "pending",
            "filename": body.get("filename"),
            "content_type": body.get("content_type"),
            "content_length": None,
            "upload_url": f"{self.url}/v1/file_uploads/{upload_id}/send",
            "created_time": self.state.stamp(),
            "expiry_time": None,
            "in_trash": False,
        }
        self.state.uploads[upload_id] = upload
        return upload

    def _send_upload(self, upload_id: str, raw: bytes, content_type: str) -> dict[str, Any]:
        self._upload(upload_id)  # 404 when unknown
        upload = self.state.uploads[upload_id]
        if upload["status"] != "pending":
            raise ApiError(400, "validation_error", "This file upload was already sent.")
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
        data = None
        for part in message.iter_parts() if message.is_multipart() else []:
            if part.get_param("name", header="content-disposition") == "file":
                data = part.get_payload(decode=True)
        if data is None:
            raise ApiError(400, "validation_error", "The request has no `file` part.")
        if len(data) > MAX_UPLOAD_BYTES:
            raise ApiError(400, "validation_error", f"A single-part upload is at most {MAX_UPLOAD_BYTES} bytes.")
        upload.update(status="uploaded", content_length=len(data))
        upload["data"] = data
        return {k: v for k, v in upload.items() if k != "data"}

    def _upload(self, upload_id: str) -> dict[str, Any]:
        if upload_id not in self.state.uploads:
            raise ApiError(404, "object_not_found", f"Could not find file_upload with ID: {upload_id}.")
        return {k: v for k, v in self.state.uploads[upload_id].items() if k != "data"}

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
                try:
                    status, extra, payload = emulator.dispatch(self.command, self.path, headers, body)
                except ApiError as error:
                    status, extra = error.status, error.headers
                    payload = {
                        "object": "error",
                        "status": error.status,
                        "code": error.code,
                        "message": error.message,
                        "request_id": _id(),
                    }
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
