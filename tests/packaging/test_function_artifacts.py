"""Each function's artifact carries only its extras (infra/build/function.mk): its module must import with
everything else missing, as it will in Lambda."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WIRING = ROOT / "shared" / "atelier" / "wiring.py"
FUNCTIONS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))
# Top-level modules that only an extra brings; psycopg and supabase are never in an artifact.
ONLY_WITH = {"stripe": ("stripe",), "notion": ("notion_client",), "reports": ("leather", "fpdf", "xlsxwriter")}
NEVER = (
    "psycopg",
    "psycopg_binary",
    "supabase",
    "supabase_auth",
    "realtime",
    "storage3",
    "cryptography",
    "aws_xray_sdk",
    "atelier_local",
    "PIL",
)

IMPORT = """
import importlib.util, sys
class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError(f"{{name}} is not in this function's artifact")
sys.meta_path.insert(0, Missing())
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.lambda_handler)
"""


def _extras(function: str) -> list[str]:
    text = (ROOT / "functions" / function / "Makefile").read_text()
    found = re.search(r"^EXTRAS := ?(.*)$", text, re.MULTILINE)
    assert found, f"functions/{function}/Makefile sets no EXTRAS"
    return found.group(1).split()


def test_every_function_in_the_template_is_built_from_its_own_directory() -> None:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)  # noqa: S506 - SafeLoader subclass
    functions = {
        r["Properties"]["CodeUri"]: r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    }
    assert sorted(functions) == [f"functions/{f}/" for f in FUNCTIONS]
    for resource in functions.values():
        assert resource["Metadata"] == {"BuildMethod": "makefile", "BuildProperties": {"BuildInSource": True}}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_imports_with_only_its_own_dependencies(function: str) -> None:
    extras = _extras(function)
    assert set(extras) <= set(ONLY_WITH)
    blocked = [m for extra, modules in ONLY_WITH.items() if extra not in extras for m in modules] + list(NEVER)
    code = IMPORT.format(blocked=blocked, path=str(ROOT / "functions" / function / "app.py"))
    env = os.environ | {
        "POWERTOOLS_SERVICE_NAME": "atelier",
        "POWERTOOLS_METRICS_NAMESPACE": "Test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONPATH": str(ROOT / "shared"),
    }
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]


# Distributions of the third-party modules the package may import, by the extra that brings them.
PROVIDED_BY = {
    "stripe": "stripe",
    "notion_client": "notion",
    "leather": "reports",
    "fpdf": "reports",
    "xlsxwriter": "reports",
}
CORE = {
    "aws_lambda_powertools",
    "boto3",
    "botocore",
    "postgrest",
    "pydantic",
    "pydantic_settings",
    "httpx",
    "mypy_boto3_s3",
}
# psycopg is imported only by PsycopgRpc, which a deployment uses only when it sets DATABASE_URL_SECRET
# (and adds the psycopg extra): with SUPABASE_URL, the functions use PostgrestRpc.
BY_CONFIGURATION = {"psycopg"}


def _imports(tree: ast.AST) -> set[str]:
    """Every module a tree imports, at the top or inside a function (lazy imports are imports too)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from atelier import wiring` imports the module atelier.wiring, where there is one
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _wiring_used(tree: ast.AST) -> set[str]:
    """The factories a file calls as `wiring.<name>`."""
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "wiring"
    }


def _wiring_imports(used: set[str]) -> set[str]:
    """What `atelier.wiring` imports for the factories used: its module-level imports, and the lazy imports of
    each factory used and of the factories those call. A factory nobody calls costs its function nothing."""
    tree = ast.parse((ROOT / "shared" / "atelier" / "wiring.py").read_text())
    factories = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    names = _imports(
        ast.Module(body=[n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)], type_ignores=[])
    )
    todo, seen = list(used), set()
    while todo:
        name = todo.pop()
        if name in seen or name not in factories:
            continue
        seen.add(name)
        names |= _imports(factories[name])
        todo += [n.id for n in ast.walk(factories[name]) if isinstance(n, ast.Name) and n.id in factories]
    return names


def _third_party_reached(app: Path) -> set[str]:
    return _reached(app)[0]


def _reached(app: Path) -> tuple[set[str], set[Path]]:
    """The third-party modules and the package's own files a function can import. The wiring's factories are
    followed until no file reached calls another (the order files are read in changes nothing)."""
    seen: set[Path] = set()
    third: set[str] = set()
    wiring_used: set[str] = set()
    followed: set[str] = set()
    todo = [app]
    while todo:
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            tree = ast.parse(path.read_text())
            wiring_used |= _wiring_used(tree)
            for name in _imports(tree) - {"atelier.wiring"}:
                _reach(name, todo, third)
            if "atelier.wiring" in _imports(tree):
                seen.add(WIRING)
        if WIRING in seen and wiring_used - followed:
            followed |= wiring_used
            for name in _wiring_imports(wiring_used):
                _reach(name, todo, third)
    return third, seen - {app}


def _reach(name: str, todo: list[Path], third: set[str]) -> None:
    top = name.split(".")[0]
    if top == "atelier":
        parts = name.split(".")
        # the module itself, and every package on its way (their __init__ runs first)
        for depth in range(1, len(parts) + 1):
            module = ROOT / "shared" / Path(*parts[:depth])
            todo += [p for p in (module.with_suffix(".py"), module / "__init__.py") if p.exists()]
    elif top not in sys.stdlib_module_names and top != "__future__":
        third.add(top)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_library_a_function_can_reach_is_in_its_artifact(function: str) -> None:
    reached = _third_party_reached(ROOT / "functions" / function / "app.py")
    extras = set(_extras(function))
    missing = {m for m in reached - CORE - BY_CONFIGURATION if PROVIDED_BY.get(m) not in extras}
    assert not missing, f"functions/{function} can import {sorted(missing)}; add their extras to its Makefile"
    unused = {e for e in extras if not any(PROVIDED_BY.get(m) == e for m in reached)}
    assert not unused, f"functions/{function} never imports what the extras {sorted(unused)} bring"


def _left_out_of_artifacts() -> list[str]:
    text = (ROOT / "infra" / "build" / "function.mk").read_text()
    found = re.search(r"^LOCAL_ONLY := (.*)$", text, re.MULTILINE)
    assert found, "infra/build/function.mk names no LOCAL_ONLY modules"
    return found.group(1).split()


def test_the_cli_and_local_only_modules_are_left_out_of_every_artifact() -> None:
    left_out = _left_out_of_artifacts()
    assert "cli" in left_out  # the operator's command never runs in Lambda
    for function in FUNCTIONS:
        _, files = _reached(ROOT / "functions" / function / "app.py")
        package = ROOT / "shared" / "atelier"
        needed = {str(f.relative_to(package)).split("/")[0] for f in files if f.is_relative_to(package)}
        assert not needed & set(left_out), f"functions/{function} imports {sorted(needed & set(left_out))}"


WITHOUT_PILLOW = """
import sys
class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "PIL":
            raise ImportError("Pillow is left out of the report's artifact")
sys.meta_path.insert(0, Missing())
from datetime import date
from atelier.reports.model import Report
from atelier.reports.period import Period
from atelier.reports.pdf import document
from atelier.reports.xlsx import workbook
raw = {"generated_at": "2026-11-23T12:00:00+00:00", "projects": [{"status": "onboarding", "projects": 2}],
       "funnel": [{"tier": 1, "tier_name": "Ünïcode tier", "leads": 3, "qualified": 2, "needs_review": 1, "paid": 1,
                   "conversion": 0.3333}],
       "revenue": [{"month": "2026-11", "tier": 1, "tier_name": "T", "currency": "eur", "payments": 1, "refunds": 0,
                    "gross_cents": 250000, "refunded_cents": 0, "net_cents": 250000}],
       "milestones": {"due": 1, "on_time": 1, "on_time_rate": 1}, "cycle_times": {}, "sync": {}}
report = Report.from_rpc(Period(date(2026, 11, 1), date(2026, 11, 30), "month"), raw)
assert document(report).startswith(b"%PDF") and workbook(report).startswith(b"PK")
assert "PIL" not in sys.modules
"""


def test_the_report_exports_are_made_without_pillow() -> None:
    """fpdf2 declares Pillow, but the report's artifact leaves it out (LEAVE_OUT): the PDF holds only SVG and text."""
    for function in ("reports", "client_mail"):
        text = (ROOT / "functions" / function / "Makefile").read_text()
        assert re.search(r"^LEAVE_OUT := pillow$", text, re.MULTILINE), function
    env = os.environ | {"PYTHONPATH": str(ROOT / "shared")}
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_PILLOW], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
