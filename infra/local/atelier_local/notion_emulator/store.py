"""Pages, databases and data sources, kept as Notion keeps them: who made and last edited each, when
(to the minute), the schema each page's properties follow, and the trash."""

from __future__ import annotations

from typing import Any

from atelier_local.notion_emulator.content import MAX_UPLOAD_BYTES, add_blocks
from atelier_local.notion_emulator.query import data_source
from atelier_local.notion_emulator.relations import pair
from atelier_local.notion_emulator.schema import (
    ARRAY_LIMIT,
    PROPERTY_TYPES,
    check_schema,
    empty_properties,
    set_properties,
)
from atelier_local.notion_emulator.state import BOT_ID, PERSON_ID, PERSON_NAME, ApiError, NotionState, new_id, norm


class Store:
    """The operations on one `NotionState`; the server holds the lock around each."""

    def __init__(self, state: NotionState) -> None:
        self.state = state

    def me(self, actor: str) -> dict[str, Any]:
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
            "name": PERSON_NAME,
            "avatar_url": None,
            "person": {"email": "team@studio.example"},
        }

    def user(self, user_id: str) -> dict[str, Any]:
        """A user by id: the integration's bot or the person the human token acts as."""
        if user_id not in (BOT_ID, PERSON_ID):
            raise ApiError(404, "object_not_found", f"Could not find user with ID: {user_id}.")
        return self.me(user_id)

    def users(self) -> dict[str, Any]:
        people = [self.me(PERSON_ID), self.me(BOT_ID)]
        return {"object": "list", "results": people, "next_cursor": None, "has_more": False, "type": "user", "user": {}}

    def create_database(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        parent = body.get("parent") or {}
        page_id = norm(str(parent.get("page_id", "")))
        if page_id not in self.state.pages:
            raise ApiError(404, "object_not_found", f"Could not find page with ID: {page_id}.")
        initial = body.get("initial_data_source") or {}
        schema = check_schema(self.state, initial.get("properties") or {})
        title = body.get("title") or []
        database_id, data_source_id, stamp = new_id(), new_id(), self.state.stamp()
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
        pair(self.state, data_source_id)
        self.state.children.setdefault(page_id, []).append(database_id)
        self.state.blocks[database_id] = {
            "object": "block",
            "id": database_id,
            "type": "child_database",
            "child_database": {"title": name},
            "has_children": False,
        }
        return self.state.databases[database_id]

    def database(self, database_id: str) -> dict[str, Any]:
        if database_id not in self.state.databases:
            raise ApiError(404, "object_not_found", f"Could not find database with ID: {database_id}.")
        return self.state.databases[database_id]

    def data_source(self, data_source_id: str) -> dict[str, Any]:
        return data_source(self.state, data_source_id)

    def add_data_source(self, database_id: str, name: str, properties: dict[str, Any]) -> str:
        """What a person does in the app: add a second data source to a database."""
        source = dict(self.state.data_sources[self.state.databases[database_id]["data_sources"][0]["id"]])
        source_id = new_id()
        source.update(id=source_id, title=self.state.rich([name]), properties=check_schema(self.state, properties))
        self.state.data_sources[source_id] = source
        self.state.databases[database_id]["data_sources"].append({"id": source_id, "name": name})
        return source_id

    def update_data_source(self, data_source_id: str, body: dict[str, Any], actor: str) -> dict[str, Any]:
        """Renames, adds, retypes, reconfigures (options) and deletes properties, as Notion does: a property keeps
        its id through a rename or a retype, and every page of the data source follows the schema."""
        source = self.data_source(data_source_id)
        if "title" in body:  # renamed, as the team does in the app
            name = "".join(str((t.get("text") or {}).get("content", "")) for t in body.get("title") or [])
            source["title"] = self.state.rich([name])
            database = self.state.databases[source["parent"]["database_id"]]
            database["data_sources"] = [
                d | {"name": name} if d["id"] == data_source_id else d for d in database["data_sources"]
            ]
        if "in_trash" in body:
            source["in_trash"] = source["archived"] = bool(body["in_trash"])
        schema = source["properties"]
        for key, change in (body.get("properties") or {}).items():
            name = next((n for n, p in schema.items() if p["id"] == key), key)
            old = schema.get(name)
            if change is None:
                if old is None:
                    raise ApiError(400, "validation_error", f"{key} is not a property that exists.")
                if old["type"] == "title":
                    raise ApiError(400, "validation_error", "The title property cannot be deleted.")
                del schema[name]
                self._reshape(data_source_id, name, None)
                continue
            new_name = str(change.get("name") or name)
            kinds = [k for k in change if k in PROPERTY_TYPES]
            if old is None and not kinds:
                raise ApiError(400, "validation_error", f"{key} is not a property that exists.")
            if new_name != name and new_name in schema:
                raise ApiError(400, "validation_error", f"A property named {new_name!r} already exists.")
            if not kinds:  # a rename
                assert old is not None
                del schema[name]
                schema[new_name] = old | {"name": new_name}
                self._reshape(data_source_id, name, schema[new_name], keep=True)
                continue
            kind = kinds[0]
            config = dict(change[kind] or {})
            if old is not None and old["type"] == "title" and kind != "title":
                raise ApiError(400, "validation_error", "The type of a title property cannot be changed.")
            if old is not None and old["type"] == kind and "options" in config:
                existing = {o["id"]: o for o in (old.get(kind) or {}).get("options") or []}
                config["options"] = [existing.get(str(o.get("id"))) or o for o in config["options"]]
            others: dict[str, Any] = {} if kind == "title" else {"__t": {"title": {}}}
            built = check_schema(self.state, {new_name: {kind: config}} | others)[new_name]
            if old is not None:
                built["id"] = old["id"]
                del schema[name]
            schema[new_name] = built
            self._reshape(data_source_id, name, built, keep=old is not None and old["type"] == kind)
        pair(self.state, data_source_id)
        source["last_edited_time"] = self.state.stamp()
        source["last_edited_by"] = self.state.user_ref(actor)
        return source

    def _reshape(self, data_source_id: str, name: str, prop: dict[str, Any] | None, *, keep: bool = False) -> None:
        """Every page of a data source after a schema change: the property gone, renamed, new (empty), or retyped
        (emptied); `keep` keeps its values."""
        empty = empty_properties({prop["name"]: prop}) if prop is not None else {}
        for page in self.state.pages.values():
            if page["parent"].get("data_source_id") != data_source_id:
                continue
            value = page["properties"].pop(name, None)
            if prop is not None:
                page["properties"][prop["name"]] = value if keep and value is not None else empty[prop["name"]]

    def create_page(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        parent = body.get("parent") or {}
        children = body.get("children") or []
        if len(children) > ARRAY_LIMIT:
            raise ApiError(400, "validation_error", f"body.children.length should be <= {ARRAY_LIMIT}.")
        schema: dict[str, Any] | None
        if "data_source_id" in parent:
            ds_id = norm(str(parent["data_source_id"]))
            schema = self.data_source(ds_id)["properties"]
            parent_ref = {
                "type": "data_source_id",
                "data_source_id": ds_id,
                "database_id": self.state.data_sources[ds_id]["parent"]["database_id"],
            }
        elif "page_id" in parent:
            self.page(norm(str(parent["page_id"])))
            schema, parent_ref = None, {"type": "page_id", "page_id": norm(str(parent["page_id"]))}
        else:
            raise ApiError(400, "validation_error", "body.parent should have data_source_id or page_id.")
        page_id, stamp = new_id(), self.state.stamp()
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
            "properties": empty_properties(schema) if schema else {},
            "public_url": None,
            "url": f"https://www.notion.so/{page_id.replace('-', '')}",
        }
        set_properties(self.state, page, body.get("properties") or {}, schema)
        self.state.pages[page_id] = page
        self.state.children[page_id] = []
        add_blocks(self.state, page_id, children, actor)
        return page

    def page(self, page_id: str) -> dict[str, Any]:
        if page_id not in self.state.pages:
            raise ApiError(404, "object_not_found", f"Could not find page with ID: {page_id}.")
        return self.state.pages[page_id]

    def schema_of(self, page: dict[str, Any]) -> dict[str, Any] | None:
        ds_id = page["parent"].get("data_source_id")
        return self.state.data_sources[ds_id]["properties"] if ds_id else None

    def update_page(self, page_id: str, body: dict[str, Any], actor: str) -> dict[str, Any]:
        page = self.page(page_id)
        restoring = body.get("in_trash") is False or body.get("archived") is False
        if page["in_trash"] and not restoring and body.get("properties"):
            raise ApiError(400, "validation_error", "Can't edit a page that is in the trash.")
        set_properties(self.state, page, body.get("properties") or {}, self.schema_of(page))
        for flag in ("in_trash", "archived"):
            if flag in body:
                page["in_trash"] = page["archived"] = page["is_archived"] = bool(body[flag])
        page["last_edited_time"] = self.state.stamp()
        page["last_edited_by"] = self.state.user_ref(actor)
        return page

    def delete_permanently(self, page_id: str) -> None:
        """What emptying the trash in the app does: the page is gone, and the API answers 404 for it."""
        self.state.pages.pop(norm(page_id), None)
