"""Each function's artifact carries only its extras (infra/build/function.mk): its module must import with
everything else missing, as it will in Lambda."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))
# Top-level modules that only an extra brings; psycopg and supabase are never in an artifact.
ONLY_WITH = {"stripe": ("stripe",), "notion": ("notion_client",)}
NEVER = ("psycopg", "psycopg_binary", "supabase", "supabase_auth", "realtime", "storage3", "cryptography",
         "aws_xray_sdk", "atelier_local")  # fmt: skip

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
    functions = {r["Properties"]["CodeUri"]: r for r in template["Resources"].values()
                 if r["Type"] == "AWS::Serverless::Function"}  # fmt: skip
    assert sorted(functions) == [f"functions/{f}/" for f in FUNCTIONS]
    for resource in functions.values():
        assert resource["Metadata"] == {"BuildMethod": "makefile", "BuildProperties": {"BuildInSource": True}}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_imports_with_only_its_own_dependencies(function: str) -> None:
    extras = _extras(function)
    assert set(extras) <= {"stripe", "notion"}
    blocked = [m for extra, modules in ONLY_WITH.items() if extra not in extras for m in modules] + list(NEVER)
    code = IMPORT.format(blocked=blocked, path=str(ROOT / "functions" / function / "app.py"))
    env = os.environ | {"POWERTOOLS_SERVICE_NAME": "atelier", "POWERTOOLS_METRICS_NAMESPACE": "Test",
                        "AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": str(ROOT / "shared")}  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]


# Distributions of the third-party modules the package may import, by the extra that brings them.
PROVIDED_BY = {"stripe": "stripe", "notion_client": "notion"}
CORE = {"aws_lambda_powertools", "boto3", "botocore", "postgrest", "pydantic", "pydantic_settings", "httpx",
        "mypy_boto3_s3"}  # fmt: skip
# psycopg is imported only by PsycopgRpc, which a deployment uses only when it sets DATABASE_URL_SECRET
# (and adds the psycopg extra): with SUPABASE_URL, the functions use PostgrestRpc.
BY_CONFIGURATION = {"psycopg"}


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function (lazy imports are imports too)."""
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _third_party_reached(app: Path) -> set[str]:
    seen: set[Path] = set()
    third: set[str] = set()
    todo = [app]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "atelier":
                module = ROOT / "shared" / Path(*name.split("."))
                todo += [p for p in (module.with_suffix(".py"), module / "__init__.py") if p.exists()]
            elif top not in sys.stdlib_module_names and top != "__future__":
                third.add(top)
    return third


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_library_a_function_can_reach_is_in_its_artifact(function: str) -> None:
    reached = _third_party_reached(ROOT / "functions" / function / "app.py")
    extras = set(_extras(function))
    missing = {m for m in reached - CORE - BY_CONFIGURATION if PROVIDED_BY.get(m) not in extras}
    assert not missing, f"functions/{function} can import {sorted(missing)}; add their extras to its Makefile"
    unused = {e for e in extras if not any(PROVIDED_BY.get(m) == e for m in reached)}
    assert not unused, f"functions/{function} never imports what the extras {sorted(unused)} bring"
