"""Where a command finds its local stack: the `.atelier` folder (from `ATELIER_HOME`, or from here upwards), the
`dev.json` that links to the stack started last, and the stacks it knows (`stacks/<port>.json`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEV_STATE_FILE = Path(".atelier") / "dev.json"


def state_home() -> Path:
    """The `.atelier` folder a command reads its stack from: `ATELIER_HOME`'s (the clone's root, from anywhere),
    else the nearest one in this folder or above it (a subfolder of the clone), else `./.atelier`."""
    home = os.environ.get("ATELIER_HOME")
    if home:
        return Path(home).expanduser() / DEV_STATE_FILE.parent
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / DEV_STATE_FILE).exists():
            return folder / DEV_STATE_FILE.parent
    return here / DEV_STATE_FILE.parent  # absolute: a stack's paths must read the same from any folder


def process_alive(pid: Any) -> bool:
    """Whether a process with this id runs (a stack's, say); False for anything that is not a pid."""
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError, OverflowError):
        return False
    except PermissionError:
        return True
    return True


def stacks(home: Path) -> list[tuple[Path, dict[str, Any], bool]]:
    """The local stacks a `.atelier` folder knows (`stacks/<port>.json`): (file, state, running), newest first."""
    found = []
    for path in (home / "stacks").glob("*.json"):
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(state, dict):
            found.append((path, state, process_alive(state.get("pid"))))
    return sorted(found, key=lambda item: float(item[1].get("started_at") or 0), reverse=True)


def dev_state_file() -> Path:
    """`.atelier/dev.json` as `state_home` finds it: the stack started last (a link to its `stacks/<port>.json`)."""
    return state_home() / DEV_STATE_FILE.name
