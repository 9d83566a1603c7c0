"""`atelier report` as an operator runs it: what it says when an export cannot be written."""

from __future__ import annotations

from pathlib import Path

import pytest

from atelier.cli import main


def test_an_export_to_a_folder_that_is_not_there_says_so_and_exits_2(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer's .atelier/dev.json
    monkeypatch.setenv("DATABASE_URL", database_url)
    target = tmp_path / "no" / "such" / "folder" / "report.xlsx"

    assert main(["report", "--xlsx", str(target)]) == 2

    said = capsys.readouterr().err
    assert f"report: cannot write {target}: No such file or directory" in said
    assert "Traceback" not in said
    assert not target.exists()
