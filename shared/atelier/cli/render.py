"""How the CLI shows things: aligned tables, and one-line errors."""

from __future__ import annotations

from collections.abc import Sequence


def table(header: Sequence[str], rows: Sequence[Sequence[str]], *, rule: bool = False) -> str:
    """Columns padded to their widest cell (the last column is left ragged); `rule` draws a line under the header."""
    grid = [tuple(header), *(tuple(str(cell) for cell in row) for row in rows)]
    widths = [max(len(row[i]) for row in grid) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in grid]
    if rule:
        lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
