"""What the CLI prints: never a secret, and never a traceback for a stack that is not running."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest

from atelier.cli import build_parser, main


def _unused_port() -> int:
    """A port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_stopped_stack_is_one_line_with_what_to_do_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the dev.json of a `make dev` that is no longer running (nothing listens where it points)
    port = _unused_port()
    (tmp_path / ".atelier").mkdir()
    (tmp_path / ".atelier" / "dev.json").write_text(
        json.dumps(
            {
                "database_url": f"postgresql://postgres@127.0.0.1:{port}/postgres?connect_timeout=2",
                "notion_base_url": f"http://127.0.0.1:{port}",
                "notion_token": "secret_local",
                "notion_parent_page_id": "00000000-0000-4000-8000-000000000000",
            }
        )
    )
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "NOTION_TOKEN", "NOTION_BASE_URL", "NOTION_PARENT_PAGE_ID"):
        monkeypatch.delenv(name, raising=False)

    # When the operator runs the commands that need it, Then each exits 2 with one line saying what to do
    for command in (["outbox", "list"], ["check"], ["sync", "run"]):
        assert main(command) == 2, command
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert "is `make dev` running?" in err
        assert "Traceback" not in err


def test_aws_set_up_a_user_can_fix_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from atelier.cli import main

    monkeypatch.chdir(tmp_path)  # no .atelier/dev.json here
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE", "SES_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("MAIL_FROM", "studio@example.com")
    monkeypatch.setenv("ATELIER_API_URL", "https://api.example")
    monkeypatch.setenv("DOWNLOAD_TOKEN_KEY", "k" * 32)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")

    assert main(["mail", "send"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("atelier: no AWS region is set: export AWS_REGION")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["sync", "run", "--budget", "-5"], "-5 is out of range: give more than 0 and at most 3600"),
        (["sync", "run", "--budget", "nan"], "nan is out of range"),
        (["sync", "run", "--budget", "0"], "0 is out of range: give more than 0"),
        (["outbox", "list", "--limit", "0"], "0 is out of range: give at least 1 and at most 1000"),
        (["outbox", "retry", "-3"], "-3 is out of range"),
        (["mail", "send", "--budget", "abc"], "'abc' is not a number"),
        (["deliverable", "upload", "p", "f", "--wait", "601"], "601 is out of range: give at least 0 and at most 600"),
    ],
)
def test_a_number_out_of_range_is_refused_before_anything_runs(
    args: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args(args)
    assert refused.value.code == 2
    assert said in capsys.readouterr().err


def test_numbers_in_range_are_taken() -> None:
    assert build_parser().parse_args(["sync", "run", "--budget", "60"]).budget == 60.0
    assert build_parser().parse_args(["outbox", "list", "--limit", "1000"]).limit == 1000
    assert build_parser().parse_args(["deliverable", "upload", "p", "f", "--wait", "0"]).wait == 0.0


def test_every_command_and_every_group_of_commands_ends_its_help_with_an_example() -> None:
    import argparse

    def walk(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
        found = [parser]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    found += walk(sub)
        return found

    parsers = walk(build_parser())[1:]  # the top level names every command instead
    assert len(parsers) > 30
    missing = [p.prog for p in parsers if not re.search(r"examples?: (\S+=\S+ )?atelier ", p.epilog or "")]
    assert missing == []


def _commands() -> list[tuple[str, ...]]:
    """Every runnable command, as the words after `atelier` (`("quote", "send")`)."""
    import argparse

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        found = [path] if path and parser.get_default("run") is not None else []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found += walk(sub, (*path, name))
        return found

    return walk(build_parser(), ())


def test_the_readme_names_every_command_and_every_make_target() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    commands = _commands()
    assert len(commands) > 30
    # each command's words appear in one of the README's rows of commands (`atelier quote list ...`, or
    # `outbox list|retry`)
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    missing = [
        " ".join(c) for c in commands if not any(all(re.search(rf"\b{re.escape(w)}\b", r) for w in c) for r in rows)
    ]
    assert missing == []
    targets = re.findall(r"^([a-z][a-z0-9-]*):.*##", (root / "Makefile").read_text(), re.MULTILINE)
    assert {"dev", "test", "demo", "bench"} <= set(targets)
    assert [t for t in targets if f"make {t}" not in readme] == []


def test_a_wrong_database_url_in_the_environment_is_named_not_dev_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _unused_port()
    (tmp_path / ".atelier").mkdir()
    (tmp_path / ".atelier" / "dev.json").write_text(json.dumps({"database_url": "postgresql://elsewhere/db"}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{port}/postgres?connect_timeout=2")
    assert main(["outbox", "list"]) == 2
    err = capsys.readouterr().err
    assert "DATABASE_URL comes from your environment" in err
    assert "dev.json" not in err
