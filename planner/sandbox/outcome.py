"""What a run came to: the bootstrap's message, the exit and the captured output, read
into a ``Result``. Every failure is a status, never an exception."""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from planner.sandbox.isolation import BUBBLEWRAP, Isolation
from planner.sandbox.streams import Capture, Ending

Status = Literal[
    "succeeded",
    "raised",
    "timed_out",
    "memory",
    "non_json",
    "output_too_large",
    "crashed",
    "failed_to_start",
    "cancelled",
]


@dataclass(frozen=True)
class Result:
    """What one run of a script came to; every failure is a status, never an exception."""

    status: Status
    value: Any = None
    error: str = ""
    error_type: str = ""
    traceback: str = ""
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    duration_ms: float = 0.0
    isolation: Isolation = BUBBLEWRAP
    exit_code: int | None = None
    # Which bounds applied to the run, in words: {"memory": ..., "processes": ...}.
    bounds: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


@dataclass
class Run:
    """What a sandbox left when its run ended, before it is read into a Result."""

    returncode: int | None
    outcome: Ending
    result: bytes
    result_truncated: bool
    stdout: Capture
    stderr: Capture
    start_error: str = ""
    killed_for_memory: bool = False  # the kernel killed one of its processes for memory


def interpret(run: Run, *, isolation: Isolation, duration_ms: float, timeout_s: float) -> Result:
    """The Result of a run, from what it left."""
    base = Result(
        status="crashed",
        stdout=run.stdout.text(),
        stderr=run.stderr.text(),
        stdout_truncated=run.stdout.truncated,
        stderr_truncated=run.stderr.truncated,
        duration_ms=duration_ms,
        isolation=isolation,
        exit_code=run.returncode,
    )
    if run.start_error:
        return replace(
            base,
            status="failed_to_start",
            error=f"the sandbox could not start: {run.start_error}",
        )
    if run.outcome == "stopped":
        return replace(base, status="cancelled", error="the run was cancelled while it ran")
    if run.killed_for_memory:
        # Under cgroup v1 the kernel kills single processes: a parent whose children were
        # killed may still return, but the run did not stay within its memory.
        return replace(
            base,
            status="memory",
            error_type="MemoryError",
            error="the run used more memory than its limit, so the kernel stopped it",
        )
    signum = _signal_of(run.returncode, isolation)
    if run.outcome == "deadline" or signum == signal.SIGXCPU:
        return replace(
            base,
            status="timed_out",
            error_type="TimeoutError",
            error=f"the script did not finish within {timeout_s:g} s",
        )
    if run.result_truncated:
        return replace(
            base,
            status="output_too_large",
            error_type="OutputTooLarge",
            error="the script's result message passed the output limit",
        )
    message = _parse(run.result)
    if message is None:
        if run.result:
            return replace(
                base,
                status="crashed",
                error_type="Crashed",
                error="the script wrote a malformed result message instead of returning",
            )
        return _without_result(base, signum)
    status: Status = message["status"]
    if status == "succeeded":
        return replace(base, status=status, value=message["value"])
    return replace(
        base,
        status=status,
        error=str(message.get("error", "")),
        error_type=str(message.get("error_type", "")),
        traceback=str(message.get("traceback", "")),
    )


def _parse(data: bytes) -> dict[str, Any] | None:
    """The bootstrap's message, with the value decoded, or None if there is none or it is
    malformed. The script can write to the result pipe too: nothing in it is trusted."""
    try:
        message = json.loads(data, parse_constant=_not_json)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or message.get("status") not in _CHILD_STATUSES:
        return None
    if message["status"] != "succeeded":
        return message
    if not isinstance(message.get("value_json"), str):
        return None
    try:
        return {
            "status": "succeeded",
            "value": json.loads(message["value_json"], parse_constant=_not_json),
        }
    except (ValueError, RecursionError) as exc:
        return {
            "status": "non_json",
            "error_type": type(exc).__name__,
            "error": f"main() returned a value that is not JSON: {exc}",
        }


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON number")


_CHILD_STATUSES = {"succeeded", "raised", "memory", "non_json", "output_too_large"}


def _without_result(base: Result, signum: int | None) -> Result:
    # Killed by the kernel (SIGKILL, or SIGSEGV/SIGABRT when an allocation past the
    # address-space limit was not checked) or a MemoryError the bootstrap could not report.
    memory_signals = {signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS}
    if signum in memory_signals or "MemoryError" in base.stderr:
        killed_by = f" ({signal.Signals(signum).name})" if signum else ""
        return replace(
            base,
            status="memory",
            error_type="MemoryError",
            error=f"the script was killed for memory{killed_by}",
        )
    if base.exit_code == 1 and base.stderr.startswith(("bwrap:", "setpriv:")):
        return replace(
            base,
            status="failed_to_start",
            error=f"the sandbox could not start: {base.stderr.strip()}",
        )
    if signum is not None:
        what = f"was killed by {signal.Signals(signum).name}"
    else:
        what = f"exited with code {base.exit_code} before returning"
    return replace(base, status="crashed", error_type="Crashed", error=f"the script {what}")


def _signal_of(returncode: int | None, isolation: Isolation) -> int | None:
    if returncode is None:
        return None
    if returncode < 0:
        number = -returncode
    elif isolation == BUBBLEWRAP and returncode > 128:
        # bubblewrap reports its child's death by signal N as exit code 128 + N.
        number = returncode - 128
    else:
        return None
    try:
        return signal.Signals(number)
    except ValueError:
        return None
