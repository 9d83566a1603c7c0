"""`atelier db migrate` as an operator runs it: the installed console script, in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from atelier.cli.migrate import SchemaFiles

ATELIER = Path(sys.executable).with_name("atelier")

MIGRATIONS = len(SchemaFiles.default().migrations())


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(
        [str(ATELIER), *args], cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=120, check=False
    )


def test_db_migrate_applies_then_reports_up_to_date(empty_database_url: str, tmp_path: Path) -> None:
    first = _run(["db", "migrate"], tmp_path, DATABASE_URL=empty_database_url)
    assert first.returncode == 0, first.stderr
    assert "bootstrap: recreating Supabase roles" in first.stdout
    assert f"migrate: applied {MIGRATIONS} migration(s)" in first.stdout

    second = _run(["db", "migrate"], tmp_path, DATABASE_URL=empty_database_url)
    assert second.returncode == 0, second.stderr
    assert "bootstrap" not in second.stdout
    assert f"migrate: up to date ({MIGRATIONS} migration(s) already applied)" in second.stdout


def test_db_migrate_reads_the_database_from_dev_json(empty_database_url: str, tmp_path: Path) -> None:
    (tmp_path / ".atelier").mkdir()
    (tmp_path / ".atelier" / "dev.json").write_text(f'{{"database_url": "{empty_database_url}"}}')
    result = _run(["db", "migrate"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "migrate: applied" in result.stdout


def test_db_migrate_without_a_database_says_what_to_do(tmp_path: Path) -> None:
    result = _run(["db", "migrate"], tmp_path)
    assert result.returncode == 2
    assert "DATABASE_URL is not set: export it, or start `make dev`" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_migrate_against_a_dead_server_fails_clearly(tmp_path: Path) -> None:
    result = _run(["db", "migrate"], tmp_path, DATABASE_URL=f"postgresql://postgres@/postgres?host={tmp_path}")
    assert result.returncode == 2
    assert "cannot connect to the database to migrate" in result.stderr
    assert "Traceback" not in result.stderr
