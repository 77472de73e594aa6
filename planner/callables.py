"""Trusted ``callable`` tools: Python functions registered in code with ``@tool("name")``.

They run in the worker process itself (``isolation="in-process"``), not in the sandbox:
only code that ships with Quiver may register one. The module that defines them must be
imported by the worker (e.g. listed in ``CELERY_IMPORTS``) before a run looks them up.

What a callable prints is captured per run: ``sys.stdout`` and ``sys.stderr`` are routed
by thread, so concurrent runs keep their output apart (output of threads a callable
starts itself goes to the worker's own streams).

The tool's timeout is enforced by running the function in a daemon thread and waiting
for it with a join timeout. Python cannot kill a thread: a function that overruns is
recorded as timed out and abandoned, but it keeps running in the background until it
returns. That is acceptable for trusted code only.
"""

from __future__ import annotations

import io
import json
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, TextIO, TypeVar

from planner.code_tools import derive_definition, input_schema, output_schema
from planner.sandbox import DEFAULT_MAX_LOG_BYTES

F = TypeVar("F", bound=Callable[..., Any])

ISOLATION = "in-process"

_registry: dict[str, Callable[..., Any]] = {}
# Where each callable says it acts, for its definition: (platform, category).
_placement: dict[str, tuple[str, str]] = {}
_lock = threading.Lock()


def tool(name: str, *, platform: str = "custom", category: str = "general") -> Callable[[F], F]:
    """Register ``function`` as the trusted callable ``name`` (a definition's
    ``runtime.callable``), acting on ``platform`` in ``category``; registering another
    function under a taken name is refused."""

    def register(function: F) -> F:
        with _lock:
            existing = _registry.get(name)
            if existing is not None and existing is not function:
                raise ValueError(f"a callable tool named {name!r} is already registered")
            _registry[name] = function
            _placement[name] = (platform, category)
        return function

    return register


def registered(name: str) -> Callable[..., Any] | None:
    return _registry.get(name)


def definition(name: str) -> dict[str, Any]:
    """The definition the registered callable ``name`` gives of itself (see
    planner.code_tools); KeyError when nothing is registered under that name."""
    platform, category = _placement.get(name, ("custom", "general"))
    return derive_definition(_registry[name], name, platform=platform, category=category)


def export_schema() -> dict[str, dict[str, Any]]:
    """Every registered callable's input and output JSON Schemas, by name."""
    with _lock:
        functions = dict(_registry)
    return {
        name: {"input_schema": input_schema(function), "output_schema": output_schema(function)}
        for name, function in sorted(functions.items())
    }


def unregister(name: str) -> None:
    """Forget a registration (for tests)."""
    with _lock:
        _registry.pop(name, None)
        _placement.pop(name, None)


def reset(keep: Iterable[str] = ()) -> None:
    """Forget every registration but ``keep`` (for tests)."""
    with _lock:
        for name in set(_registry) - set(keep):
            del _registry[name]
            _placement.pop(name, None)


class _Captured(io.StringIO):
    """One run's output, kept up to ``cap`` characters; the rest is counted as cut."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap
        self.truncated = False

    def write(self, text: str) -> int:
        room = self.cap - self.tell()
        if len(text) > room:
            self.truncated = True
            super().write(text[: max(room, 0)])
            return len(text)
        return super().write(text)


class _ByThread(io.TextIOBase):
    """A stand-in for ``sys.stdout``/``sys.stderr``: writes from a thread that is running
    a callable go to that run's capture, all others to the real stream."""

    def __init__(self, real: TextIO) -> None:
        self.real = real
        self.local = threading.local()

    def write(self, text: str) -> int:
        target = getattr(self.local, "capture", None)
        return (target or self.real).write(text)

    def flush(self) -> None:
        if getattr(self.local, "capture", None) is None:
            self.real.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, fileno, isatty...
        return getattr(self.real, name)


def _router(stream: str) -> _ByThread:
    """The routing stand-in for ``sys.<stream>``, installed on first use."""
    with _lock:
        current = getattr(sys, stream)
        if not isinstance(current, _ByThread):
            current = _ByThread(current)
            setattr(sys, stream, current)
        return current


@dataclass(frozen=True)
class CallableResult:
    """How a trusted call ended; ``status`` uses the sandbox's vocabulary."""

    status: str  # succeeded, raised, timed_out, non_json
    value: Any = None
    error: str = ""
    error_type: str = ""
    traceback: str = ""
    duration_ms: float = 0.0
    stdout: str = ""
    stderr: str = ""
    output_truncated: bool = False


def run_callable(name: str, kwargs: dict[str, Any], *, timeout_s: float) -> CallableResult:
    """Call the registered function ``name`` with ``kwargs``, waiting at most ``timeout_s``."""
    function = registered(name)
    if function is None:
        return CallableResult(
            status="failed_to_start",
            error_type="LookupError",
            error=f"no trusted callable named {name!r} is registered in this worker",
        )
    outcome: dict[str, Any] = {}
    out, err = _Captured(DEFAULT_MAX_LOG_BYTES), _Captured(DEFAULT_MAX_LOG_BYTES)
    routers = (_router("stdout"), _router("stderr"))

    def target() -> None:
        routers[0].local.capture, routers[1].local.capture = out, err
        try:
            outcome["value"] = function(**kwargs)
        except BaseException as exc:  # reported as data, like the sandbox
            outcome["exc"] = exc
            outcome["traceback"] = traceback.format_exc()
        finally:
            routers[0].local.capture = routers[1].local.capture = None

    started = time.monotonic()
    thread = threading.Thread(target=target, name=f"callable-{name}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    duration_ms = (time.monotonic() - started) * 1000
    logs = CallableResult(
        status="succeeded",
        stdout=out.getvalue(),
        stderr=err.getvalue(),
        output_truncated=out.truncated or err.truncated,
        duration_ms=duration_ms,
    )
    if thread.is_alive():
        return replace(
            logs,
            status="timed_out",
            error_type="TimeoutError",
            error=f"the callable did not finish within {timeout_s:g} s (left running, abandoned)",
        )
    if "exc" in outcome:
        exc = outcome["exc"]
        return replace(
            logs,
            status="raised",
            error=str(exc),
            error_type=type(exc).__name__,
            traceback=outcome["traceback"],
        )
    value = outcome.get("value")
    try:
        plain = json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError, RecursionError) as exc:
        return replace(
            logs,
            status="non_json",
            error_type=type(exc).__name__,
            error=f"the callable returned something that is not JSON: {exc}",
        )
    return replace(logs, value=plain)
