"""Each built function's unzipped size (what Lambda counts against its limits), from `.aws-sam/build`.

`python infra/build/sizes.py` prints one line per function and exits 1 when any is over the limit.
"""

from __future__ import annotations

import sys
from pathlib import Path

LIMIT_MB = 60.0
BUILD = Path(__file__).resolve().parents[2] / ".aws-sam" / "build"


def sizes(build: Path = BUILD) -> dict[str, float]:
    """Megabytes (10^6 bytes, as AWS counts) per function; {} when nothing is built."""
    found = {}
    for artifact in sorted(p for p in build.glob("*Function") if p.is_dir()):
        found[artifact.name] = sum(f.stat().st_size for f in artifact.rglob("*") if f.is_file()) / 1e6
    return found


def main() -> int:
    built = sizes()
    if not built:
        print(f"nothing built in {BUILD}: run `make build`", file=sys.stderr)
        return 1
    for name, mb in built.items():
        print(f"  {name:<32} {mb:6.1f} MB unzipped  {'ok' if mb <= LIMIT_MB else f'OVER {LIMIT_MB:.0f} MB'}")
    return 0 if all(mb <= LIMIT_MB for mb in built.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
