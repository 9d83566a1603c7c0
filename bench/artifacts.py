"""Each function's built artifact, unzipped, from `make build` (`.aws-sam/build`), against Lambda's budget here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("sizes", ROOT / "infra" / "build" / "sizes.py")
assert _spec is not None
assert _spec.loader is not None
sizes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sizes)


def run() -> dict[str, float]:
    return dict(sizes.sizes())


def report(built: dict[str, float]) -> list[tuple[str, str, str, str]]:
    if not built:
        return [("artifact sizes", "-", "nothing in .aws-sam/build: run `make build`", "MISSING")]
    return [
        (
            f"artifact: {name}",
            f"{mb:.1f} MB",
            f"unzipped; limit {sizes.LIMIT_MB:.0f} MB",
            "ok" if mb <= sizes.LIMIT_MB else "OVER",
        )
        for name, mb in built.items()
    ]


if __name__ == "__main__":
    for row in report(run()):
        print(" | ".join(row))
