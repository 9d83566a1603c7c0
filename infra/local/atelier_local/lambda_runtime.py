"""Loads each function's `app.py` as Lambda would, once per process, and invokes its handler."""

from __future__ import annotations

import importlib.util
import io
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

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


class _FunctionOutput(io.TextIOBase):
    """Stands in for sys.stdout: what a function prints while it runs goes to that function's log
    (as Lambda sends it to CloudWatch Logs); anything else goes to the stdout it replaced.

    There is one per process, because Powertools' Logger keeps the stream it first saw for good."""

    def __init__(self) -> None:
        self.previous: TextIO = sys.__stdout__ or sys.stdout
        # Per invocation, and so per thread, and inherited by the threads a function starts with its context
        # (`kernel.business.for_each`): their lines are the function's too.
        self.sink: ContextVar[TextIO | None] = ContextVar("atelier_function_output", default=None)

    def _target(self) -> TextIO:
        sink = self.sink.get()
        if sink is not None:
            return sink
        # A test runner may close the stream we replaced; fall back to the process's own.
        if not getattr(self.previous, "closed", False):
            return self.previous
        return sys.__stdout__ or self.previous

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        target = self._target()
        if not getattr(target, "closed", False):
            target.flush()


_OUTPUT = _FunctionOutput()


def _function_output() -> _FunctionOutput:
    """Install the one output object as sys.stdout again if something (a test runner) swapped it out."""
    if sys.stdout is not _OUTPUT:
        _OUTPUT.previous = sys.stdout
        sys.stdout = _OUTPUT
    return _OUTPUT


class PerThread(MutableMapping[str, Any]):
    """A dict of this thread's own. Powertools keeps the metrics being gathered at class level, shared by every
    `Metrics` in the process: in AWS one container serves one request at a time, but here one process serves many
    at once, and a flush in one request met another's `add_metric` ("dictionary changed size during iteration",
    or one function's metrics logged as another's). Each request's thread gets its own set instead."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _own(self) -> dict[str, Any]:
        own: dict[str, Any] | None = getattr(self._local, "own", None)
        if own is None:
            own = self._local.own = {}
        return own

    def __getitem__(self, key: str) -> Any:
        return self._own()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._own()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._own()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._own()))

    def __len__(self) -> int:
        return len(self._own())

    def clear(self) -> None:
        self._own().clear()


def _metrics_per_request() -> None:
    """Before any function module makes its `Metrics`: the metrics being gathered are each request's own."""
    from aws_lambda_powertools.metrics.metrics import Metrics

    if not isinstance(Metrics._metrics, PerThread):
        Metrics._metrics = PerThread()  # type: ignore[assignment]
        Metrics._metadata = PerThread()  # type: ignore[assignment]


class LocalLambdas:
    """One module per function directory, imported on first use (a cold start) and reused after.

    Each function's output (Powertools logs and metrics) goes to `<log_dir>/<function>.log`, or nowhere
    when there is no log_dir, so that a local run's terminal stays readable."""

    def __init__(self, functions_dir: Path = FUNCTIONS_DIR, log_dir: Path | None = None) -> None:
        _metrics_per_request()
        self._dir = functions_dir
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.Lock()
        self._output = _function_output()
        self._log_dir = log_dir
        self._logs: dict[str, TextIO] = {}
        if log_dir:
            log_dir.mkdir(parents=True, exist_ok=True)

    def _log(self, function: str) -> TextIO:
        """The function's log; Powertools' Logger binds the stream it is given when the module loads,
        so the module must first see our output object as sys.stdout."""
        if function not in self._logs:
            if self._log_dir is None:
                self._logs[function] = open(os.devnull, "w")  # noqa: SIM115 - kept open for the process
            else:
                self._logs[function] = open(self._log_dir / f"{function}.log", "a", buffering=1)  # noqa: SIM115
        return self._logs[function]

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
        output = _function_output()
        token = output.sink.set(self._log(function))
        try:
            handler = self.module(function).lambda_handler
            return handler(event, LocalContext(function_name=function, timeout_seconds=timeout_seconds))
        finally:
            output.sink.reset(token)
