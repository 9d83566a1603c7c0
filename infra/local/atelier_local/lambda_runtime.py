"""Loads each function's `app.py` as Lambda would, once per process, and invokes its handler."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
FUNCTIONS_DIR = REPO_ROOT / "functions"


@dataclass
class LocalContext:
    """The parts of Lambda's context object that handlers and Powertools read."""

    function_name: str
    timeout_seconds: float = 30.0
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalLambdas:
    """One module per function directory, imported on first use (a cold start) and reused after."""

    def __init__(self, functions_dir: Path = FUNCTIONS_DIR) -> None:
        self._dir = functions_dir
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.Lock()

    def module(self, function: str) -> ModuleType:
        with self._lock:
            if function not in self._modules:
                path = self._dir / function / "app.py"
                name = f"atelier_function_{function}"
                spec = importlib.util.spec_from_file_location(name, path)
                if spec is None or spec.loader is None:
                    raise FileNotFoundError(f"no function at {path}")
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                spec.loader.exec_module(module)
                self._modules[function] = module
            return self._modules[function]

    def invoke(self, function: str, event: dict[str, Any], *, timeout_seconds: float = 30.0) -> Any:
        handler = self.module(function).lambda_handler
        return handler(event, LocalContext(function_name=function, timeout_seconds=timeout_seconds))
