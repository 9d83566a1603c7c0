"""How the CLI shows things: tables and colour through rich (plain and unwrapped when the output is not a terminal,
so that scripts and logs read it whole), and one-line errors."""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Sequence

STYLES = {
    "breaks sync": "bold red",
    "dead": "bold red",
    "failed": "red",
    "note": "dim",
    "sent": "green",
    "pending": "yellow",
    "ok": "green",
}


def table(header: Sequence[str], rows: Sequence[Sequence[str]], *, rule: bool = False, tty: bool | None = None) -> str:
    """A table as text: columns aligned, a rule under the header (`rule`), cells coloured by STYLES on a terminal.
    Cell text is shown as it is (never read as markup)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    terminal = sys.stdout.isatty() if tty is None else tty
    grid = Table(
        box=box.SIMPLE_HEAD if rule else None,
        show_edge=False,
        pad_edge=False,
        show_header=True,
        header_style="bold" if terminal else "",
        padding=(0, 2, 0, 0),
    )
    for name in header:
        grid.add_column(str(name), overflow="fold")
    for row in rows:
        grid.add_row(*(Text(str(cell), style=STYLES.get(str(cell), "") if terminal else "") for cell in row))
    width = shutil.get_terminal_size((120, 24)).columns if terminal else 10_000
    buffer = io.StringIO()
    Console(
        file=buffer,
        width=width,
        force_terminal=terminal,
        color_system="standard" if terminal else None,
        highlight=False,
    ).print(grid)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines() if line.strip() or not rule).strip("\n")


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def redacted(dsn: str) -> str:
    """A connection string fit to print: any password replaced."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        parts = conninfo_to_dict(dsn)
    except Exception:
        return "(DATABASE_URL)"
    if parts.get("password"):
        parts["password"] = "***"  # noqa: S105 - the mask, not a password
    return make_conninfo(**{k: str(v) for k, v in parts.items()})
