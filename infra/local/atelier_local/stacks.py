"""Several local stacks side by side: each running `atelier dev` keeps its state in `.atelier/stacks/<port>.json`,
and `.atelier/dev.json` is a link to the one started last. A stack that stops removes its own state; if the link
was its, it moves to the newest stack still running (or goes, when none is)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from atelier.kernel.home import stacks

STACKS = "stacks"
LINK = "dev.json"


def own_state(state_dir: Path, port: int) -> Path:
    return state_dir / STACKS / f"{port}.json"


def running(state_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The stacks whose process is alive, newest first, with their state."""
    return [(path, state) for path, state, alive in stacks(state_dir) if alive]


def point_at(state_dir: Path, target: Path | None) -> None:
    """Make `dev.json` the link to `target` (relative, so the folder can move), or remove it."""
    link = state_dir / LINK
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    if target is not None:
        link.symlink_to(target.relative_to(state_dir))


def register(state_dir: Path, port: int) -> Path:
    """This stack is the newest: `dev.json` points at its state (which the stack writes)."""
    path = own_state(state_dir, port)
    point_at(state_dir, path)
    return path


def unregister(state_dir: Path, port: int) -> Path | None:
    """This stack stopped: its state goes, and `dev.json` moves to the newest stack still running (returned)."""
    path = own_state(state_dir, port)
    link = state_dir / LINK
    ours = not link.exists() or (link.is_symlink() and link.resolve() == path.resolve())
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    if not ours:
        return None
    newest = next(iter(running(state_dir)), None)
    point_at(state_dir, newest[0] if newest else None)
    return newest[0] if newest else None
