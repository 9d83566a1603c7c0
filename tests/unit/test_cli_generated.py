"""Every `atelier` command driven with generated arguments, with no stack to talk to: never a traceback, and an exit
code of 0 (ok, or its help), 1 (findings) or 2 (could not run: said in one line)."""

from __future__ import annotations

import argparse
import io
import uuid
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atelier.cli import build_parser, main

# Commands that start a stack, or follow a log until Ctrl-C, are run elsewhere (tests/integration).
LONG_RUNNING = {("dev",), ("demo",)}
NEVER_GIVEN = {"-f", "--follow", "-h", "--help", "--version"}
ENVIRONMENT = (
    "DATABASE_URL",
    "ATELIER_API_URL",
    "NOTION_TOKEN",
    "NOTION_BASE_URL",
    "STRIPE_SECRET_KEY",
    "ATELIER_HOME",
    "ATELIER_DEV_STATE",
    "S3_ENDPOINT_URL",
    "MAIL_FROM",
)


def _commands() -> list[tuple[tuple[str, ...], list[str]]]:
    """Every runnable command with the option strings it takes."""

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], list[str]]]:
        if path and parser.get_default("run") is not None and path not in LONG_RUNNING:
            options = [o for a in parser._actions for o in a.option_strings if o not in NEVER_GIVEN]
            yield path, options
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, (*path, name))

    return list(walk(build_parser(), ()))


COMMANDS = _commands()
WORDS = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.sampled_from(["0", "-1", "1e9", "nan", "", " ", "--", "-", "..", "/", "/etc/passwd", "x.json", "2026-13-40"]),
    st.builds(lambda: str(uuid.uuid4())),
)


def _argv(path: tuple[str, ...], options: list[str], picks: list[tuple[bool, int, str]]) -> list[str]:
    words = list(path)
    for use_option, which, word in picks:
        if options and use_option:
            words.append(options[which % len(options)])
        words.append(word)
    return words


def argv() -> st.SearchStrategy[list[str]]:
    picks = st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=50), WORDS), max_size=4)
    return st.sampled_from(COMMANDS).flatmap(lambda c: picks.map(lambda p: _argv(c[0], c[1], p)))


@pytest.fixture(autouse=True)
def _no_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "none")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "none")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing answers there: AWS calls fail at once
    monkeypatch.chdir(tmp_path)


def test_there_are_commands_to_drive() -> None:
    assert len(COMMANDS) > 30


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=argv())
def test_generated_arguments_never_end_in_a_traceback(args: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as exc:  # argparse's refusal (2)
            code = exc.code if isinstance(exc.code, int) else 2
    assert code in (0, 1, 2), (args, code, err.getvalue()[-500:])
    assert "Traceback" not in out.getvalue() + err.getvalue(), args
