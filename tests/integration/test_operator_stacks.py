"""The operator's CLI finds its stack: from a subfolder of the clone, from anywhere with ATELIER_HOME, and with two
stacks running, the newer one, then the older once the newer stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _atelier(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ATELIER_HOME")} | env
    environ["PYTHONPATH"] = f"{ROOT / 'shared'}:{ROOT / 'infra' / 'local'}"
    return subprocess.run(
        [sys.executable, "-m", "atelier.cli", *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=120
    )


class Dev:
    """`atelier dev` in a process of its own, as an operator starts it."""

    def __init__(self, home: Path, database_url: str) -> None:
        environ = {k: v for k, v in os.environ.items() if k != "ATELIER_HOME"} | {
            "DATABASE_URL": database_url,
            "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'infra' / 'local'}",
            "SYNC_INTERVAL": "3600",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "atelier.cli", "dev", "--port", "0"],
            cwd=home,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.url = ""
        started = time.monotonic()
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("front door:"):
                self.url = line.split()[2]
            if line.startswith("running:"):
                break
            assert time.monotonic() - started < 120, "atelier dev did not start"
        assert self.url, "atelier dev printed no front door"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "clone" / "docs" / "notes").mkdir(parents=True)
    return tmp_path / "clone"


@pytest.fixture
def stacks(home: Path, database_url: str) -> Iterator[list[Dev]]:
    started: list[Dev] = []
    try:
        started.append(Dev(home, database_url))
        started.append(Dev(home, database_url))
        yield started
    finally:
        for dev in started:
            dev.stop()


def _api_url(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    parts = json.loads(result.stdout)["parts"]
    return str(next(p["where"] for p in parts if p["name"] == "front door"))


def test_commands_find_the_newest_stack_from_anywhere_and_then_the_older(
    home: Path, stacks: list[Dev], tmp_path: Path
) -> None:
    older, newer = stacks
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # From a subfolder of the clone, and from outside it with ATELIER_HOME: the stack started last
    assert _api_url(_atelier("status", "--json", cwd=home / "docs" / "notes")) == newer.url
    assert _api_url(_atelier("status", "--json", cwd=elsewhere, ATELIER_HOME=str(home))) == newer.url
    listed = _atelier("project", "list", "--json", cwd=elsewhere, ATELIER_HOME=str(home))
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    shown = _atelier("status", cwd=home / "docs")
    assert shown.returncode == 0, shown.stdout
    assert "postgres" in shown.stdout
    assert "PostgreSQL" in shown.stdout
    assert f"also: {older.url} (running" in shown.stdout
    # When the newer stops, commands talk to the older; when both have, there is no stack
    newer.stop()
    assert _api_url(_atelier("status", "--json", cwd=home)) == older.url
    assert sorted(p.name for p in (home / ".atelier" / "stacks").glob("*.json")) == [
        f"{older.url.rsplit(':', 1)[1]}.json"
    ]
    older.stop()
    gone = _atelier("status", cwd=home)
    assert gone.returncode == 2
    assert "no stack" in gone.stdout
    assert not (home / ".atelier" / "dev.json").exists()


def test_status_says_which_part_does_not_answer(home: Path, database_url: str, tmp_path: Path) -> None:
    state = home / ".atelier"
    state.mkdir()
    (state / "dev.json").write_text(
        json.dumps({"database_url": database_url, "api_url": "http://127.0.0.1:9", "s3_endpoint_url": None})
    )
    result = _atelier("status", cwd=home)
    assert result.returncode == 1  # a finding: the front door does not answer
    assert "front door" in result.stdout
    assert "does not answer" in result.stdout
