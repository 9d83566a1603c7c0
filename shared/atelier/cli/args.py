"""How each noun module declares its verbs: every verb has a description, an example and what it runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

Run = Callable[[argparse.Namespace], int]


def noun(verbs: Any, name: str, help: str, *, example: str) -> Any:
    """A command with actions of its own (`atelier outbox list`), its help ending with an example, as each
    action's does; returns where its actions go."""
    parser = verbs.add_parser(name, help=help, description=help, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.epilog = f"example: {example}\n\n`{parser.prog} ACTION --help` describes each action"
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


def number_in[N: (int, float)](kind: Callable[[str], N], low: N, high: N, *, above: bool = False) -> Callable[[str], N]:
    """An argparse `type` for a number from `low` (or above it, with `above`) to `high`: anything else is refused
    at once, saying the range (exit 2), instead of a run that goes wrong later."""

    def parse(text: str) -> N:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value != value or value > high or value < low or (above and value == low):  # value != value: NaN
            bound = f"more than {low:g}" if above else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"{text} is out of range: give {bound} and at most {high:g}")
        return value

    return parse
