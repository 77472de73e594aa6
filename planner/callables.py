"""Trusted ``callable`` tools: Python functions registered in code with ``@tool("name")``.

They run in the worker process itself (``isolation="in-process"``), not in the sandbox:
only code that ships with Quiver may register one. The module that defines them must be
imported by the worker (e.g. listed in ``CELERY_IMPORTS``) before a run looks them up.

The tool's timeout is enforced by running the function in a daemon thread and waiting
for it with a join timeout. Python cannot kill a thread: a function that overruns is
recorded as timed out and abandoned, but it keeps running in the background until it
returns. That is acceptable for trusted code only.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

ISOLATION = "in-process"

_registry: dict[str, Callable[..., Any]] = {}
_lock = threading.Lock()


def tool(name: str) -> Callable[[F], F]:
    """Register ``function`` as the trusted callable ``name`` (a definition's
    ``runtime.callable``); registering another function under a taken name is refused.

    Output a callable prints is not captured: redirecting ``sys.stdout`` is process-wide
    and would mix concurrent runs."""

    def register(function: F) -> F:
        with _lock:
            existing = _registry.get(name)
            if existing is not None and existing is not function:
                raise ValueError(f"a callable tool named {name!r} is already registered")
            _registry[name] = function
        return function

    return register


def registered(name: str) -> Callable[..., Any] | None:
    return _registry.get(name)


def unregister(name: str) -> None:
    """Forget a registration (for tests)."""
    with _lock:
        _registry.pop(name, None)


@dataclass(frozen=True)
class CallableResult:
    """How a trusted call ended; ``status`` uses the sandbox's vocabulary."""

    status: str  # succeeded, raised, timed_out, non_json
    value: Any = None
    error: str = ""
    error_type: str = ""
    traceback: str = ""
    duration_ms: float = 0.0


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

    def target() -> None:
        try:
            outcome["value"] = function(**kwargs)
        except BaseException as exc:  # reported as data, like the sandbox
            outcome["exc"] = exc
            outcome["traceback"] = traceback.format_exc()

    started = time.monotonic()
    thread = threading.Thread(target=target, name=f"callable-{name}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    duration_ms = (time.monotonic() - started) * 1000
    if thread.is_alive():
        return CallableResult(
            status="timed_out",
            error_type="TimeoutError",
            error=f"the callable did not finish within {timeout_s:g} s (left running, abandoned)",
            duration_ms=duration_ms,
        )
    if "exc" in outcome:
        exc = outcome["exc"]
        return CallableResult(
            status="raised",
            error=str(exc),
            error_type=type(exc).__name__,
            traceback=outcome["traceback"],
            duration_ms=duration_ms,
        )
    value = outcome.get("value")
    try:
        plain = json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError, RecursionError) as exc:
        return CallableResult(
            status="non_json",
            error_type=type(exc).__name__,
            error=f"the callable returned something that is not JSON: {exc}",
            duration_ms=duration_ms,
        )
    return CallableResult(status="succeeded", value=plain, duration_ms=duration_ms)
