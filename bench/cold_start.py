"""Cold import and init of each function, against a bare Powertools HTTP handler and an eager-import baseline.

Each figure is the median of fresh interpreter runs: the time from before the first import to a ready
module (the work Lambda does on a cold start before the first event). Bytecode is compiled first, as
`sam build` ships it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BARE = """
from pydantic import BaseModel
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
class Lead(BaseModel):
    email: str
    name: str
app = APIGatewayHttpResolver()
@app.post("/leads")
def post_lead() -> dict:
    return Lead.model_validate(app.current_event.json_body).model_dump()
def lambda_handler(event, context):
    return app.resolve(event, context)
"""

EAGER = (
    BARE
    + """
import supabase, stripe, notion_client, boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
Logger(); Metrics(); Tracer()
"""
)

FUNCTION = """
import importlib.util
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
"""

TIMER = "import time\n_t0 = time.perf_counter()\n{body}\nprint((time.perf_counter() - _t0) * 1000)\n"

FUNCTION_ENV = {
    "POWERTOOLS_SERVICE_NAME": "atelier",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "DATABASE_URL": "postgresql://bench@127.0.0.1:1/bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass(frozen=True)
class ColdStart:
    name: str
    median_ms: float
    runs: int


def compile_bytecode() -> None:
    """Lambda reads .pyc shipped in the artifact; measure that, not compiling from source."""
    paths = [str(p) for p in (ROOT / "shared", ROOT / "infra" / "local", ROOT / "functions")]
    site = [p for p in sys.path if p.endswith("site-packages")]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *site, *paths], check=False, capture_output=True
    )


def _once(body: str) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | FUNCTION_ENV
    out = subprocess.run(
        [sys.executable, "-c", TIMER.format(body=body)], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def functions() -> list[str]:
    return sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))


def run(runs: int = 11) -> list[ColdStart]:
    """Bare, eager and every function, measured in interleaved rounds so that drift hits all alike."""
    compile_bytecode()
    cases = {"bare Powertools HTTP handler": BARE, "eager SDK imports": EAGER}
    for function in functions():
        cases[function] = FUNCTION.format(path=str(ROOT / "functions" / function / "app.py"))
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, body in cases.items():
            samples[name].append(_once(body))
    return [ColdStart(name, statistics.median(values), runs) for name, values in samples.items()]


def report(results: list[ColdStart]) -> list[tuple[str, str, str, str]]:
    bare = results[0].median_ms
    rows = []
    for r in results:
        ratio = r.median_ms / bare
        verdict = (
            "reference"
            if r is results[0]
            else ("baseline" if r is results[1] else ("ok" if ratio <= 1.5 else "OVER 1.5x"))
        )
        rows.append((f"cold import+init: {r.name}", f"{r.median_ms:.0f} ms", f"{ratio:.2f}x bare", verdict))
    return rows


if __name__ == "__main__":
    for row in report(run()):
        print(" | ".join(row))
