"""The local front door: plain HTTP in, real API Gateway HTTP API (v2) events to the handlers, and back.

Routes come from template.yaml's HttpApi events, so local and AWS serve the same paths.
"""

from __future__ import annotations

import base64
import re
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

from atelier_local.lambda_runtime import REPO_ROOT, LocalLambdas
from atelier_local.loopback import LoopbackServer

TEXT_TYPES = (
    "text/",
    "application/json",
    "application/x-www-form-urlencoded",
    "application/xml",
    "application/javascript",
)
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's own payload limit


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as in the template: /deliverables/{id}/download
    function: str  # the directory under functions/
    pattern: re.Pattern[str]

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


class _TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Ref, !Sub, ...) as plain values: only the shape matters here."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_TemplateLoader.add_multi_constructor("!", _any_tag)


def routes_from_template(template: Path = REPO_ROOT / "template.yaml") -> list[Route]:
    doc = yaml.load(template.read_text(), Loader=_TemplateLoader)  # noqa: S506 - SafeLoader subclass
    routes = []
    for resource in doc["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        function = Path(str(resource["Properties"]["CodeUri"]).rstrip("/")).name
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            path, method = event["Properties"]["Path"], event["Properties"]["Method"].upper()
            regex = "^" + re.sub(r"\\\{([A-Za-z_][A-Za-z0-9_]*)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$"
            routes.append(Route(method, path, function, re.compile(regex)))
    return routes


def build_event(
    route: Route,
    method: str,
    target: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str,
    path_parameters: dict[str, str],
) -> dict[str, Any]:
    """An API Gateway HTTP API payload (format 2.0) for one request, as AWS would send it. `headers` may repeat
    a name (as pairs): API Gateway joins the values with commas (cookies with "; "), and so does this."""
    parts = urlsplit(target)
    lowered: dict[str, str] = {}
    for name, value in headers.items() if isinstance(headers, Mapping) else headers:
        key = name.lower()
        joiner = "; " if key == "cookie" else ","
        lowered[key] = f"{lowered[key]}{joiner}{value}" if key in lowered else value
    cookies = [c.strip() for c in lowered.pop("cookie", "").split(";") if c.strip()]
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    content_type = lowered.get("content-type", "")
    is_text = not body or content_type.startswith(TEXT_TYPES)
    if is_text:
        try:
            text_body: str | None = body.decode("utf-8")
        except UnicodeDecodeError:
            is_text = False
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": lowered,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": lowered.get("host", "127.0.0.1"),
            "domainPrefix": lowered.get("host", "127.0.0.1").split(".")[0],
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        event["body"] = text_body if is_text else base64.b64encode(body).decode()
    return event


Extra = Callable[[BaseHTTPRequestHandler, str, bytes], bool]


class FrontDoor:
    """Serves every HTTP function on one port. `extras` handle local-only paths (the Stripe stand-in)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 3000,
        *,
        lambdas: LocalLambdas | None = None,
        routes: list[Route] | None = None,
        extras: Sequence[Extra] | None = None,
    ) -> None:
        self.lambdas = lambdas or LocalLambdas()
        self.routes = routes if routes is not None else routes_from_template()
        self.extras = list(extras or [])
        self.timings: list[tuple[str, float]] = []
        self._http = LoopbackServer(host, port, self._handler_class())

    @property
    def url(self) -> str:
        return self._http.url

    def start(self) -> FrontDoor:
        self._http.start_serving()
        return self

    def stop(self) -> None:
        self._http.stop()

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route for a request and its path parameters. A CORS preflight (OPTIONS) goes to the function
        that owns the path, as API Gateway does when the function answers CORS itself."""
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method == method:
                return route, found.groupdict()
        if method == "OPTIONS":
            for route in self.routes:
                found = route.pattern.match(path)
                if found:
                    return Route("OPTIONS", route.path, route.function, route.pattern), found.groupdict()
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        door = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "atelier-frontdoor"
            # Headers and body go out in separate writes; without this, Nagle's algorithm and delayed
            # ACKs add ~40 ms to every keep-alive request.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_REQUEST_BYTES:
                    self._reply(413, {"Content-Type": "application/json"}, b'{"message":"Request Entity Too Large"}')
                    return
                body = self.rfile.read(length) if length else b""
                path = urlsplit(self.path).path
                for extra in door.extras:
                    if extra(self, self.command, body):
                        return
                matched = door.match(self.command, path)
                if matched is None:
                    self._reply(404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}')
                    return
                route, params = matched
                event = build_event(
                    route, self.command, self.path, self.headers.items(), body, self.client_address[0], params
                )
                started = time.perf_counter()
                try:
                    result = door.lambdas.invoke(route.function, event)
                except Exception:  # what API Gateway answers when the function crashes
                    traceback.print_exc()
                    self._reply(500, {"Content-Type": "application/json"}, b'{"message":"Internal Server Error"}')
                    return
                finally:
                    door.timings.append((route.route_key, time.perf_counter() - started))
                self._reply_lambda(result)

            def _reply_lambda(self, result: dict[str, Any]) -> None:
                headers = dict(result.get("headers") or {})
                raw = result.get("body") or ""
                data = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
                cookies = result.get("cookies") or []
                self._reply(int(result.get("statusCode", 200)), headers, data, cookies)

            def _reply(self, status: int, headers: dict[str, str], data: bytes, cookies: list[str] = ()) -> None:  # type: ignore[assignment]
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "connection"):
                        self.send_header(name, value)
                for cookie in cookies:
                    self.send_header("Set-Cookie", cookie)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
