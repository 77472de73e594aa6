"""Running one recorded Execution: the one function a worker calls.

``run_execution`` claims the row (``mark_running``), runs the tool version the row names
and records how it ended (``finish_execution``). It is safe to call twice or after the
run was cancelled: a row that is not queued is left alone. Whatever goes wrong inside,
the row ends in a final state; it is never left ``running`` by a live worker.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import traceback
from typing import Any

from django.conf import settings

from catalog import sandbox_limits
from catalog.models import RuntimeKind
from planner import callables
from planner.sandbox import network as netpolicy
from planner.sandbox import run_script
from telemetry.models import ErrorKind, Execution, ExecutionStatus
from telemetry.services import TransitionRefused, finish_execution, mark_running

logger = logging.getLogger("quiver.executor")

S = ExecutionStatus

NETWORK_OFF = (
    "This tool's script uses the network, which this tenant's admins have turned off "
    "(Settings → Script limits); it was not run."
)
DESCRIBED_ONLY = (
    "This tool is described only (runtime kind 'none'): Quiver does not run it; it runs elsewhere."
)


def worker_name() -> str:
    """Who is running it, as recorded on the row: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_execution(execution_id: int, *, celery_task_id: str = "") -> Execution:
    """Run a queued execution and return its row as it ended; a row that is not queued
    (already taken, cancelled, finished, awaiting approval) is returned untouched."""
    if not mark_running(execution_id, worker=worker_name(), celery_task_id=celery_task_id):
        return Execution.objects.get(pk=execution_id)
    try:
        outcome = _run(_for_running(execution_id))
    except Exception as exc:  # a crash of ours still ends the run
        logger.exception("run %s failed inside Quiver", execution_id)
        outcome = {
            "status": S.FAILED,
            "error_kind": ErrorKind.CRASHED,
            "error": f"Quiver failed while running it: {type(exc).__name__}: {exc}\n\n"
            + traceback.format_exc(),
        }
    return _finish(execution_id, outcome)


# What running needs of a row and its version; the rest (the definition's JSON above all)
# is not read for every run.
_RUN_FIELDS = (
    "id",
    "tenant",
    "arguments",
    "tool_version",
    *(
        f"tool_version__{name}"
        for name in (
            "runtime_kind",
            "callable_name",
            "script",
            "timeout_s",
            "memory_mb",
            "network_allowed",
        )
    ),
)


def _for_running(execution_id: int) -> Execution:
    return Execution.objects.select_related("tool_version").only(*_RUN_FIELDS).get(pk=execution_id)


def _finish(execution_id: int, outcome: dict[str, Any]) -> Execution:
    try:
        return finish_execution(execution_id, **outcome)
    except TransitionRefused:
        # Cancelled (or reaped) while it ran: that decision stands.
        return Execution.objects.get(pk=execution_id)
    except Exception:
        # E.g. a result the database refuses: record the failure rather than leave the
        # row running. If this fails too, the reaper fails the row later.
        logger.exception("recording the end of run %s failed", execution_id)
        try:
            return finish_execution(
                execution_id,
                status=S.FAILED,
                error_kind=ErrorKind.CRASHED,
                error="Quiver could not record how the run ended:\n\n" + traceback.format_exc(),
                stdout=outcome.get("stdout", ""),
                stderr=outcome.get("stderr", ""),
                duration_ms=outcome.get("duration_ms"),
                isolation=outcome.get("isolation", ""),
            )
        except TransitionRefused:
            return Execution.objects.get(pk=execution_id)


def _run(execution: Execution) -> dict[str, Any]:
    """The keyword arguments of ``finish_execution`` for this run."""
    version = execution.tool_version
    if version.runtime_kind == RuntimeKind.SCRIPT:
        # The limits as they are now: a ceiling lowered since the version was published,
        # by the operator or the tenant's admins, still holds.
        limits = sandbox_limits.effective(execution.tenant_id)
        if version.network_allowed and not limits.network:
            return {"status": S.FAILED, "error_kind": ErrorKind.REFUSED, "error": NETWORK_OFF}
        result = run_script(
            version.script,
            execution.arguments,
            timeout_s=version.timeout_s,
            memory_mb=min(version.memory_mb, limits.memory_mb),
            network=version.network_allowed,
            network_policy=network_policy(),
            internal_networks=limits.internal_networks,
            stop=lambda: _cancelled(execution.pk),
        )
        return {
            **_outcome(
                result.status, result.value, result.error_type, result.error, result.traceback
            ),
            "stdout": result.stdout,
            "stderr": result.stderr,
            "output_truncated": result.stdout_truncated or result.stderr_truncated,
            "duration_ms": result.duration_ms,
            "isolation": result.isolation,
            "bounds": result.bounds,
        }
    if version.runtime_kind == RuntimeKind.CALLABLE:
        called = callables.run_callable(
            version.callable_name, execution.arguments, timeout_s=version.timeout_s
        )
        return {
            **_outcome(
                called.status, called.value, called.error_type, called.error, called.traceback
            ),
            "stdout": called.stdout,
            "stderr": called.stderr,
            "output_truncated": called.output_truncated,
            "duration_ms": called.duration_ms,
            "isolation": callables.ISOLATION,
        }
    return {"status": S.FAILED, "error_kind": ErrorKind.REFUSED, "error": DESCRIBED_ONLY}


@functools.cache
def network_policy() -> netpolicy.Policy:
    """What the operator lets network-enabled scripts reach (settings, read once)."""
    return netpolicy.Policy(
        internal=tuple(settings.SANDBOX_INTERNAL_NETWORKS),
        blocked_hosts=tuple(settings.SANDBOX_BLOCKED_HOSTS),
    )


def _cancelled(execution_id: int) -> bool:
    """Whether someone cancelled the run while it was running (asked by the sandbox)."""
    return Execution.objects.filter(pk=execution_id, status=S.CANCELLED).exists()


def _outcome(status: str, value: Any, error_type: str, error: str, tb: str) -> dict[str, Any]:
    if status == "succeeded":
        return {"status": S.SUCCEEDED, "result": value}
    text = f"{error_type}: {error}" if error_type else error
    if tb:
        text = f"{text}\n\n{tb}"
    if status == "cancelled":
        # Only while the row is cancelled already: recording it is refused, which is right.
        return {"status": S.FAILED, "error_kind": ErrorKind.CRASHED, "error": text}
    if status == "timed_out":
        return {"status": S.TIMED_OUT, "error_kind": ErrorKind.TIMED_OUT, "error": text}
    kind = status if status in ErrorKind.values else ErrorKind.CRASHED
    return {"status": S.FAILED, "error_kind": kind, "error": text}
