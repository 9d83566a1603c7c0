"""Checks requests against Notion's official OpenAPI file (from @notionhq/notion-mcp-server).

The emulator calls it for every request it receives, so every request the gateway sends during the
test suite is checked. Where the published file is narrower than Notion's API reference, the deviation is
patched here, named, and linked to the reference page it follows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

MEDIA_BLOCK = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"enum": ["image", "file", "pdf"]}},
}

HEADING_BLOCK = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"enum": ["heading_1", "heading_2", "heading_3"]}},
}

DATA_SOURCE_PARENT = {
    "type": "object",
    "required": ["type", "data_source_id"],
    "properties": {"type": {"const": "data_source_id"}, "data_source_id": {"type": "string", "format": "uuid"}},
    "additionalProperties": False,
}

TIMESTAMP_SORT = {
    "type": "object",
    "required": ["timestamp", "direction"],
    "properties": {
        "timestamp": {"enum": ["last_edited_time", "created_time"]},
        "direction": {"enum": ["ascending", "descending"]},
    },
    "additionalProperties": False,
}

# Requests Notion takes that the published file does not describe, with the reference each follows.
NOT_IN_SPEC = {
    ("POST", "/v1/databases"): "https://developers.notion.com/reference/database-create",
    # Views (2025-09-03): the requests are type-checked against @notionhq/client's CreateViewParameters and
    # ListDatabaseViewsParameters instead (tests/integration/test_notion_response_types.py).
    ("POST", "/v1/views"): "https://developers.notion.com/reference/create-view",
    ("GET", "/v1/views"): "https://developers.notion.com/reference/list-views",
    ("GET", "/v1/views/{view_id}"): "https://developers.notion.com/reference/retrieve-a-view",
    ("PATCH", "/v1/views/{view_id}"): "https://developers.notion.com/reference/update-a-view",
    ("DELETE", "/v1/views/{view_id}"): "https://developers.notion.com/reference/delete-view",
}
_NOT_IN_SPEC = [
    (method, template, re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"))
    for method, template in NOT_IN_SPEC
]
DEVIATIONS = {
    "POST /v1/pages children": "the file types `children` items as strings; the API takes block objects "
    "(https://developers.notion.com/reference/post-page)",
    "parentRequest": "the file's data-source parent still takes a database_id; version 2025-09-03 creates pages "
    "under `{type: data_source_id, data_source_id}` (https://developers.notion.com/docs/upgrade-guide-2025-09-03)",
    "sortObject": "the file requires `property`; a sort by `timestamp` (last_edited_time, created_time) is also "
    "taken (https://developers.notion.com/reference/sort-data-source-entries)",
    "blockObjectRequest": "the file lists only paragraph and bulleted list blocks; image, file and pdf blocks "
    "follow https://developers.notion.com/reference/block#image, headings "
    "https://developers.notion.com/reference/block#headings",
}


SPEC_URI = "urn:notion:openapi"


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _patched(spec: dict[str, Any]) -> dict[str, Any]:
    post_page = spec["paths"]["/v1/pages"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    post_page["properties"]["children"]["items"] = {"$ref": "#/components/schemas/blockObjectRequest"}
    spec["components"]["schemas"]["blockObjectRequest"]["anyOf"] += [MEDIA_BLOCK, HEADING_BLOCK]
    spec["components"]["schemas"]["parentRequest"]["oneOf"].append(DATA_SOURCE_PARENT)
    property_sort = spec["components"]["schemas"]["sortObject"]
    spec["components"]["schemas"]["sortObject"] = {"anyOf": [property_sort, TIMESTAMP_SORT]}
    return spec


@dataclass
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    schema: dict[str, Any] | None
    required: bool


@dataclass
class OpenApiCheck:
    spec_path: Path
    operations: list[Operation] = field(default_factory=list)
    checked: set[tuple[str, str]] = field(default_factory=set)
    unspecified: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.spec = _patched(json.loads(self.spec_path.read_text()))
        resource = Resource.from_contents(self.spec, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        for template, methods in self.spec["paths"].items():
            regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            for method, op in methods.items():
                body = (op.get("requestBody") or {}).get("content", {}).get("application/json")
                pointer = "/".join(
                    _escape(p)
                    for p in ("paths", template, method, "requestBody", "content", "application/json", "schema")
                )
                schema = {"$ref": f"{SPEC_URI}#/{pointer}"} if body else None
                required = bool((op.get("requestBody") or {}).get("required"))
                self.operations.append(Operation(method.upper(), template, re.compile(regex), schema, required))
        # A literal path (/v1/users/me) wins over a template that also matches it (/v1/users/{user_id}).
        self.operations.sort(key=lambda o: o.template.count("{"))

    def __call__(self, method: str, path: str, body: Any) -> list[str]:
        unspecified = next((t for m, t, pattern in _NOT_IN_SPEC if m == method and pattern.match(path)), None)
        if unspecified is not None:
            self.unspecified.add((method, unspecified))
            return []
        op = next((o for o in self.operations if o.method == method and o.pattern.match(path)), None)
        if op is None:
            return [f"the spec has no {method} {path}"]
        self.checked.add((method, op.template))
        if op.schema is None:
            return [] if body is None else [f"{method} {op.template} takes no JSON body"]
        if body is None:
            return ["a JSON body is required"] if op.required else []
        validator = Draft202012Validator(op.schema, registry=self.registry)
        return [
            f"{'/'.join(str(p) for p in error.absolute_path) or 'body'}: {error.message}"
            for error in validator.iter_errors(body)
        ]
