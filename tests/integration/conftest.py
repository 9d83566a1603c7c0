"""The local stack on a free port, against this test's own database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway
from atelier.notion.setup import setup
from atelier.sync import OutboxPusher, SyncPorts
from atelier_local.notion_emulator import NotionEmulator
from atelier_local.stack import LocalStack


@pytest.fixture
def stack_env() -> dict[str, str]:
    """Extra environment for the stack's functions; a test adds to it before asking for `stack`."""
    return {}


@pytest.fixture
def stack(database_url: str, stack_env: dict[str, str], tmp_path: Path) -> Iterator[LocalStack]:
    saved = dict(os.environ)
    # The tests post many leads from one address; a test of the limits sets them in `stack_env`.
    os.environ.update({"ATELIER_LEAD_LIMIT_PER_SOURCE": "0", "ATELIER_LEAD_LIMIT_PER_EMAIL": "0"} | stack_env)
    running = LocalStack(database_url, port=0, environ=dict(os.environ), notion_rate=1000,
                         log_dir=tmp_path / "logs").start()  # fmt: skip
    try:
        yield running
    finally:
        running.stop()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    assert stack.front_door is not None
    with httpx.Client(base_url=stack.front_door.url, timeout=30) as client:
        yield client


@pytest.fixture
def rpc(database_url: str) -> PsycopgRpc:
    return PsycopgRpc(database_url)


@pytest.fixture
def sources(gateway: NotionGateway, notion: NotionEmulator, rpc: PsycopgRpc) -> dict[str, str]:
    ids = setup(gateway, notion.parent_page_id, rpc=rpc, say=lambda _: None).ids
    return {name: i.data_source_id for name, i in ids.items()}


@pytest.fixture
def pusher(rpc: PsycopgRpc, gateway: NotionGateway, sources: dict[str, str]) -> OutboxPusher:
    return OutboxPusher(SyncPorts(rpc, gateway, sources))
