"""The tree as the README's "What is here" describes it: packages that say what they own and what they may import,
imports that keep to those directions, and files short enough to read."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "shared" / "atelier"
PACKAGES = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists())
NEVER = {"cli", "web", "wiring"}  # what no capability imports; `web` and handlers sit above them
MAX_LINES, MAX_HANDLER_LINES, MAX_FMT_SKIPS = 400, 60, 20


def _declared(package: str) -> set[str]:
    """The packages the `May import:` line of a package's `__init__` names."""
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text())) or ""
    line = next((line for line in doc.splitlines() if line.startswith("May import:")), "")
    return {word for word in re.findall(r"[a-z_]+", line.removeprefix("May import:")) if word in PACKAGES}


def _modules(source: str) -> set[str]:
    """Every module a source imports, at the top or inside a function (`from atelier import x` is `atelier.x`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {f"atelier.{a.name}" for a in node.names} if node.module == "atelier" else {node.module}
    return names


def _imported(source: str) -> set[str]:
    """The `atelier` packages and top-level modules a module imports, and `atelier_local` when it does."""
    parts = [name.split(".") for name in _modules(source)]
    return {p[1] for p in parts if p[0] == "atelier" and len(p) > 1} | {p[0] for p in parts if p[0] == "atelier_local"}


def violations(package: str, source: str) -> set[str]:
    """What a module of `package` imports that its package may not: anything the `__init__` does not name, and
    (for every package but the CLI) `cli`, `web`, the wiring and the local stack, whatever the `__init__` says."""
    if package == "cli":
        return _imported(source) & {"atelier_local"}
    allowed = {package, "kernel"} | (_declared(package) - NEVER)
    if package == "kernel":
        allowed = {"kernel"}
    return _imported(source) - allowed


def test_the_top_of_the_package_is_the_wiring_and_packages_only() -> None:
    loose = sorted(p.name for p in PACKAGE.iterdir() if p.is_file() and p.name not in {"__init__.py", "py.typed"})
    assert loose == ["wiring.py"]
    assert {"kernel", "web", "intake", "payments", "deliverables", "sync", "notion", "cli"} <= set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_says_in_two_lines_what_it_owns_and_may_import(package: str) -> None:
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text())) or ""
    lines = doc.splitlines()
    assert len(lines) == 2, f"{package}/__init__.py: a docstring of two lines, 'Owns ...' and 'May import: ...'"
    assert lines[0].startswith("Owns ")
    assert lines[1].startswith("May import:")


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_keep_to_the_directions_each_package_declares(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(bad)
        for path in sorted((PACKAGE / package).rglob("*.py"))
        if (bad := violations(package, path.read_text()))
    }
    assert wrong == {}, f"{package} may import only {sorted(_declared(package) | {'kernel'})}"


def test_the_direction_check_catches_a_capability_reaching_for_the_edge_or_the_cli() -> None:
    assert violations("intake", "from atelier.web.http import status_for\n") == {"web"}
    assert violations("sync", "def f():\n    from atelier.cli.progress import Progress\n") == {"cli"}
    assert violations("payments", "from atelier import wiring\n") == {"wiring"}
    assert violations("notion", "from atelier.sync.adopt import Adopter\n") == {"sync"}
    assert violations("kernel", "import atelier.intake.routing\n") == {"intake"}
    assert violations("web", "from atelier.intake.service import IntakeService\n") == {"intake"}
    assert violations("cli", "from atelier_local.stack import LocalStack\n") == {"atelier_local"}
    assert violations("deliverables", "from atelier.notion.port import NotionPort\n") == set()


@pytest.mark.parametrize("path", sorted((ROOT / "functions").glob("*/app.py")), ids=lambda p: p.parent.name)
def test_handlers_are_thin_and_never_reach_the_cli_or_the_local_stack(path: Path) -> None:
    assert not _imported(path.read_text()) & {"cli", "atelier_local"}
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_HANDLER_LINES, f"{path.parent.name}: {lines} lines; move parsing into the capability"


def _python_files() -> list[Path]:
    roots = ["shared", "functions", "tests", "bench", "infra"]
    return sorted(p for root in roots for p in (ROOT / root).rglob("*.py") if "node_modules" not in p.parts)


def test_no_file_is_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in _python_files() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_formatter_owns_the_layout() -> None:
    """`# fmt: skip` only where a table reads better aligned, each saying so, and 20 at most in the tree."""
    skips = [(p, line) for p in _python_files() for line in p.read_text().splitlines() if "fmt: skip" in line]
    assert len(skips) <= MAX_FMT_SKIPS, f"{len(skips)} `# fmt: skip`: let `ruff format` lay the code out"


HEAVY = (
    "psycopg",
    "atelier_local.postgres",
    "atelier_local.notion_emulator",
    "atelier_local.stack",
    "atelier.cli.migrate",
)


@pytest.mark.parametrize("tier", ["unit", "functional"])
def test_the_fast_tiers_import_no_database_driver_and_no_emulator(tier: str) -> None:
    """`make unit` starts in seconds: the database and the emulators are the integration tier's fixtures."""
    files = [ROOT / "tests" / "conftest.py", *sorted((ROOT / "tests" / tier).rglob("*.py"))]
    found = {
        str(path.relative_to(ROOT)): sorted(name for name in _modules(path.read_text()) if name.startswith(HEAVY))
        for path in files
    }
    assert {path: names for path, names in found.items() if names} == {}


def test_the_readme_lists_one_row_per_package_and_the_tree_matches_it() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| `shared/atelier/([a-z_]+)/` \|", readme, re.MULTILINE)
    assert sorted(rows) == PACKAGES
    assert len(rows) == len(set(rows))
    assert "| `shared/atelier/wiring.py` |" in readme
