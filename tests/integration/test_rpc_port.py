"""The `rpc` port: the psycopg adapter on real Postgres, and the PostgREST adapter at the HTTP level."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from pydantic import SecretStr

from atelier.kernel.errors import (
    DatabaseError,
    DatabaseUnavailable,
    IntegrityViolation,
    InvalidData,
    PermissionDenied,
    RpcFunctionNotFound,
)
from atelier.kernel.rpc import PostgrestRpc, PsycopgRpc, rpc_from_settings
from atelier.kernel.settings import DatabaseSettings

TEST_FUNCTIONS = """
create function public.echo_args(p_text text, p_count integer, p_doc jsonb, p_maybe uuid default null)
returns jsonb language sql as $$
  select jsonb_build_object('text', p_text, 'count', p_count, 'doc', p_doc, 'maybe', p_maybe)
$$;
create function public.add_audit(p_action text) returns jsonb language plpgsql as $$
begin
  insert into public.audit_log (action, resource_type) values (p_action, 'test');
  if p_action = 'explode' then
    raise exception 'refused: %', p_action;
  end if;
  return jsonb_build_object('ok', true);
end $$;
create function public.whoami() returns jsonb language sql as $$
  select jsonb_build_object('pid', pg_backend_pid())
$$;
"""


@pytest.fixture
def rpc(db: psycopg.Connection[tuple[object, ...]], database_url: str) -> Iterator[PsycopgRpc]:
    db.execute(TEST_FUNCTIONS.encode())
    port = PsycopgRpc(database_url)
    yield port
    port.close()


def test_psycopg_rpc_passes_typed_arguments_and_returns_json(rpc: PsycopgRpc) -> None:
    result = rpc.rpc("echo_args", p_text="O'Brien; drop table leads", p_count=3, p_doc={"a": [1, "b"]})
    assert result == {"text": "O'Brien; drop table leads", "count": 3, "doc": {"a": [1, "b"]}, "maybe": None}


def test_psycopg_rpc_call_is_one_transaction(rpc: PsycopgRpc, db: psycopg.Connection[tuple[object, ...]]) -> None:
    assert rpc.rpc("add_audit", p_action="kept") == {"ok": True}
    with pytest.raises(InvalidData, match="refused: explode"):
        rpc.rpc("add_audit", p_action="explode")
    # The failed call's insert was rolled back with it; the first call's stayed.
    assert db.execute("select action from audit_log order by created_at").fetchall() == [("kept",)]


@pytest.mark.parametrize(
    ("function", "args", "error"),
    [
        ("no_such_function", {}, RpcFunctionNotFound),
        ("echo_args", {"p_text": "x", "p_count": "not a number", "p_doc": {}}, InvalidData),
    ],
)
def test_psycopg_rpc_maps_errors_to_package_exceptions(
    rpc: PsycopgRpc, function: str, args: dict[str, Any], error: type[DatabaseError]
) -> None:
    with pytest.raises(error) as caught:
        rpc.rpc(function, **args)
    assert caught.value.sqlstate is not None


def test_a_constraint_violation_is_an_integrity_error(rpc: PsycopgRpc, db: psycopg.Connection[Any]) -> None:
    db.execute(
        b"create function public.dup_event() returns jsonb language sql as $$"
        b" insert into inbound_events (source, event_id, event_type) values ('stripe', 'evt_dup', 't');"
        b" select '{}'::jsonb $$"
    )
    rpc.rpc("dup_event")
    with pytest.raises(IntegrityViolation) as caught:
        rpc.rpc("dup_event")
    assert caught.value.sqlstate == "23505"


@pytest.mark.parametrize("name", ["drop table leads", "Echo", "a-b", "x" * 64, ""])
def test_rpc_refuses_names_that_are_not_function_names(rpc: PsycopgRpc, name: str) -> None:
    with pytest.raises(ValueError, match="not a database function name"):
        rpc.rpc(name)


def test_psycopg_rpc_reuses_one_connection_and_never_prepares(
    rpc: PsycopgRpc, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    pids = {rpc.rpc("whoami")["pid"] for _ in range(10)}
    assert len(pids) == 1
    # Supavisor's transaction mode cannot carry prepared statements between transactions.
    pid = pids.pop()
    db.execute(
        b"create function public.prepared_count() returns jsonb language sql as $$"
        b" select to_jsonb(count(*)) from pg_prepared_statements $$"
    )
    assert rpc.rpc("whoami")["pid"] == pid
    assert rpc.rpc("prepared_count") == 0


def test_psycopg_rpc_reconnects_after_the_connection_drops(
    rpc: PsycopgRpc, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    pid = rpc.rpc("whoami")["pid"]
    db.execute("select pg_terminate_backend(%s)", (pid,))
    with pytest.raises(DatabaseUnavailable) as caught:
        rpc.rpc("whoami")
    assert caught.value.retryable
    assert rpc.rpc("whoami")["pid"] != pid


def test_psycopg_rpc_to_an_unreachable_server_is_unavailable(tmp_path: Any) -> None:
    port = PsycopgRpc(f"postgresql://postgres@/postgres?host={tmp_path}&port=1", connect_timeout=1)
    with pytest.raises(DatabaseUnavailable, match="cannot connect"):
        port.rpc("whoami")


# --- PostgREST, at the HTTP level -------------------------------------------------------------


@dataclass
class FakePostgrest:
    """A loopback HTTP server that records requests and answers as PostgREST would."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    replies: list[tuple[int, Any]] = field(default_factory=list)


@pytest.fixture
def postgrest() -> Iterator[FakePostgrest]:
    state = FakePostgrest(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
            status, payload = state.replies.pop(0) if state.replies else (200, None)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


SERVICE_KEY = "test-service-key-not-a-secret"


def test_postgrest_rpc_posts_json_args_to_the_rpc_path(postgrest: FakePostgrest) -> None:
    postgrest.replies.append((200, {"lead_id": "abc", "tier": 2}))
    result = PostgrestRpc(postgrest.url, SERVICE_KEY).rpc("record_lead", p_email="a@example.com", p_doc={"x": 1})
    assert result == {"lead_id": "abc", "tier": 2}
    (request,) = postgrest.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert request["path"] == "/rest/v1/rpc/record_lead"
    assert headers["apikey"] == SERVICE_KEY
    assert headers["authorization"] == f"Bearer {SERVICE_KEY}"
    assert headers["content-type"].startswith("application/json")
    assert json.loads(request["body"]) == {"p_email": "a@example.com", "p_doc": {"x": 1}}


@pytest.mark.parametrize(
    ("status", "body", "error", "sqlstate"),
    [
        (
            409,
            {
                "code": "23505",
                "message": 'duplicate key value violates unique constraint "payments_pkey"',
                "details": "Key (id)=(1) already exists.",
                "hint": None,
            },
            IntegrityViolation,
            "23505",
        ),
        (
            404,
            {
                "code": "PGRST202",
                "message": "Could not find the function public.nope without parameters",
                "details": "Searched for the function public.nope",
                "hint": None,
            },
            RpcFunctionNotFound,
            "PGRST202",
        ),
        (400, {"code": "P0001", "message": "refused: explode", "details": None, "hint": None}, InvalidData, "P0001"),
        (
            403,
            {"code": "42501", "message": "permission denied for table leads", "details": None, "hint": None},
            PermissionDenied,
            "42501",
        ),
        (
            503,
            {
                "code": "57P01",
                "message": "terminating connection due to administrator command",
                "details": None,
                "hint": None,
            },
            DatabaseUnavailable,
            "57P01",
        ),
    ],
)
def test_postgrest_errors_map_to_package_exceptions(
    postgrest: FakePostgrest, status: int, body: dict[str, Any], error: type[DatabaseError], sqlstate: str
) -> None:
    postgrest.replies.append((status, body))
    with pytest.raises(error) as caught:
        PostgrestRpc(postgrest.url, SERVICE_KEY).rpc("nope")
    assert caught.value.sqlstate == sqlstate
    assert body["message"] in str(caught.value)


def test_postgrest_unreachable_is_unavailable() -> None:
    with pytest.raises(DatabaseUnavailable, match="cannot reach PostgREST"):
        PostgrestRpc("http://127.0.0.1:9", SERVICE_KEY).rpc("whoami")


def test_settings_choose_the_adapter(postgrest: FakePostgrest, database_url: str) -> None:
    assert isinstance(rpc_from_settings(DatabaseSettings(database_url=SecretStr(database_url))), PsycopgRpc)
    via_rest = DatabaseSettings(supabase_url=postgrest.url, supabase_service_key=SecretStr(SERVICE_KEY))
    assert isinstance(rpc_from_settings(via_rest), PostgrestRpc)
