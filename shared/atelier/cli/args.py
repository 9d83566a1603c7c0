"""How each noun module declares its verbs: every verb has a description, an example and what it runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

Run = Callable[[argparse.Namespace], int]


def noun(verbs: Any, name: str, help: str) -> Any:
    """A command with actions of its own (`atelier outbox list`); returns where its actions go."""
    parser = verbs.add_parser(name, help=help, description=help)
    return parser.add_subparsers(dest=f"{name}_verb", required=True, metavar="ACTION")


def verb(verbs: Any, name: str, run: Run, *, help: str, example: str) -> argparse.ArgumentParser:
    """One runnable command, with its description and an example in `--help`."""
    parser: argparse.ArgumentParser = verbs.add_parser(
        name,
        help=help,
        description=help,
        epilog=f"example: {example}\n\nexit codes: 0 ok, 1 findings, 2 could not run",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=run)
    return parser
