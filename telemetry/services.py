"""Every change to an Execution: recording a run and moving it through its states.

The states and the moves between them::

    awaiting_approval --approve--> queued --mark_running--> running --finish--> succeeded
            |                        |                         |                failed
          reject                   cancel                   cancel              timed_out
            v                        v                         v
         rejected                cancelled                 cancelled

and the reaper moves a ``running`` run whose worker vanished to ``failed``, and hands a
``queued`` run whose task never reached a worker to the broker again. Each move is
one conditional UPDATE (``WHERE status IN (...)``) inside a transaction that first
locks the row, so two workers, or a worker and a person cancelling, can never both win:
the loser gets ``False`` (``mark_running``) or a ``TransitionRefused``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from catalog.definitions import safe_data
from catalog.estimates import Estimate, estimate_for
from catalog.models import ApiKey, AuditAction, Pattern, Role, Tenant, ToolVersion
from catalog.permissions import Actor, require_role
from catalog.services.audit import audit
from telemetry.models import (
    ERROR_CAP_BYTES,
    STDERR_CAP_BYTES,
    STDOUT_CAP_BYTES,
    Environment,
    ErrorKind,
    Execution,
    ExecutionSource,
    ExecutionStatus,
)

S = ExecutionStatus

# Where each status may move to; anything else is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.AWAITING_APPROVAL: frozenset({S.QUEUED, S.REJECTED, S.CANCELLED}),
    S.QUEUED: frozenset({S.RUNNING, S.CANCELLED}),
    S.RUNNING: frozenset({S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.CANCELLED}),
    S.SUCCEEDED: frozenset(),
    S.FAILED: frozenset(),
    S.TIMED_OUT: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
}

# The outcomes a worker reports when a run ends.
FINISH_STATUSES = frozenset({S.SUCCEEDED, S.FAILED, S.TIMED_OUT})

# How long past its tool version's timeout a running run may go before the reaper
# decides its worker is gone.
REAPER_MARGIN_S = 60.0


class TransitionRefused(ValidationError):
    """A move the state machine does not allow, e.g. finishing a run that was cancelled."""

    def __init__(self, execution: Execution, current: str, target: str) -> None:
        self.execution, self.current, self.target = execution, current, target
        super().__init__(
            {
                "status": [
                    f"{execution} is {S(current).label.lower()}; it cannot become "
                    f"{S(target).label.lower()}"
                ]
            }
        )


# -- recording --------------------------------------------------------------------------


def record_execution(
    version: ToolVersion,
    *,
    arguments: dict[str, Any],
    caller: Actor,
    source: str = ExecutionSource.API,
    context: dict[str, Any] | None = None,
    environment: str = Environment.DEVELOPMENT,
    pattern: Pattern | None = None,
    api_key: ApiKey | None = None,
    idempotency_key: str = "",
    requires_approval: bool | None = None,
    estimate: Estimate | None = None,
) -> tuple[Execution, bool]:
    """A new run, queued (or awaiting approval), and True; or, when the tenant already
    has a run with this idempotency key, that run and False.

    ``arguments`` must already be validated and have their defaults filled.
    ``requires_approval`` defaults to the pattern's policy. Operators and above may run
    tools; ``caller`` None is the system.
    """
    tool = version.tool
    tenant = tool.tenant
    require_role(caller, tenant, Role.OPERATOR)
    context = dict(context or {})
    if not isinstance(arguments, dict):
        raise ValidationError({"arguments": ["must be an object"]})
    if pattern is not None and pattern.capability.version_id != version.pk:
        raise ValidationError({"pattern": [f"'{pattern.name}' is not a pattern of {version}"]})
    if api_key is not None and api_key.tenant_id != tenant.pk:
        raise ValidationError({"api_key": ["belongs to another tenant"]})
    if source not in ExecutionSource.values:
        raise ValidationError({"source": [f"unknown source {source!r}"]})
    if environment not in Environment.values:
        allowed = ", ".join(Environment.values)
        raise ValidationError({"environment": [f"must be one of {allowed}, not {environment!r}"]})
    if len(idempotency_key) > 200:
        raise ValidationError({"idempotency_key": ["must be at most 200 characters"]})
    if idempotency_key:
        existing = _with_key(tenant, idempotency_key)
        if existing is not None:
            return _replayed(existing, version, arguments), False
    if estimate is None:
        estimate = estimate_for(pattern, context)
    if requires_approval is None:
        requires_approval = pattern.requires_approval if pattern is not None else False
    execution = Execution(
        tenant=tenant,
        tool=tool,
        tool_name=tool.name,
        tool_version=version,
        pattern=pattern,
        pattern_name=pattern.name if pattern is not None else "",
        caller=caller,
        caller_name=caller.get_username() if caller is not None else "system",
        api_key=api_key,
        source=source,
        arguments=_json_safe(arguments, "arguments"),
        context=_json_safe(context, "context"),
        environment=environment,
        idempotency_key=idempotency_key,
        status=S.AWAITING_APPROVAL if requires_approval else S.QUEUED,
        # Its task is sent as the row commits; mark_unsent says when that failed.
        sent_at=None if requires_approval else timezone.now(),
        estimated_time_ms=estimate.time_ms,
        estimated_cost=estimate.cost,
    )
    try:
        # With a key, a savepoint, so losing the race below leaves an outer transaction
        # usable; without one there is no race to lose, nor a savepoint to pay for.
        with transaction.atomic(savepoint=bool(idempotency_key)):
            execution.save()
    except IntegrityError:
        if not idempotency_key:
            raise
        # Another request with the same key committed between our look and our insert.
        existing = _with_key(tenant, idempotency_key)
        if existing is None:
            raise
        return _replayed(existing, version, arguments), False
    return execution, True


def _with_key(tenant: Tenant, idempotency_key: str) -> Execution | None:
    return Execution.objects.filter(tenant=tenant, idempotency_key=idempotency_key).first()


def _replayed(existing: Execution, version: ToolVersion, arguments: dict[str, Any]) -> Execution:
    """The run an idempotency key already names, if the retry asks for the same thing."""
    if existing.tool_version_id != version.pk or existing.arguments != _json_safe(
        arguments, "arguments"
    ):
        raise ValidationError(
            {
                "idempotency_key": [
                    f"already used by {existing} with other arguments or another version; "
                    "use a new key for a different request"
                ]
            }
        )
    return existing


# -- sending a run's task ---------------------------------------------------------------


def mark_unsent(execution_id: int) -> None:
    """Record that a queued run's task could not be handed to the broker: the reaper
    sends it again (``claim_unsent``)."""
    Execution.objects.filter(pk=execution_id, status=S.QUEUED).update(sent_at=None)


def claim_unsent(
    *, resend_after_s: float, now: datetime | None = None, limit: int = 1000
) -> list[Execution]:
    """Queued runs to send to the broker again, claimed: those whose task never reached
    it, and those sent more than ``resend_after_s`` ago that no worker has taken (the
    broker lost it: a Redis restarted without persistence, a folder emptied; a backlog
    older than that gets one more message per run, which finds the run taken).

    Each is claimed with one conditional UPDATE of its ``sent_at``, so of several
    reapers at once one sends it; the caller sends each and calls ``mark_unsent`` for
    those it could not. A run sent twice still runs once: ``mark_running`` lets one
    message take it. Each comes with its tool version's ``timeout_s``.
    """
    now = now or timezone.now()
    stale = Q(sent_at__isnull=True) | Q(sent_at__lt=now - timedelta(seconds=resend_after_s))
    candidates = (
        Execution.objects.filter(stale, status=S.QUEUED)
        .select_related("tool_version")
        .only("pk", "sent_at", "tool_version__timeout_s")
        .order_by("queued_at", "pk")[:limit]
    )
    claimed = []
    for execution in candidates:
        same = Execution.objects.filter(pk=execution.pk, status=S.QUEUED)
        same = (
            same.filter(sent_at__isnull=True)
            if execution.sent_at is None
            else same.filter(sent_at=execution.sent_at)
        )
        if same.update(sent_at=now):
            execution.sent_at = now
            claimed.append(execution)
    return claimed


# -- a worker's moves -------------------------------------------------------------------


def mark_running(execution_id: int, *, worker: str, celery_task_id: str = "") -> bool:
    """Claim a queued run for this worker; False when it is gone, cancelled, waiting for
    approval, or another worker took it first (the caller then does nothing)."""
    # One conditional UPDATE: the database lets exactly one claimant match the row
    # while it is still queued; a row lock first would only add a round trip.
    changes: dict[str, Any] = {
        "status": S.RUNNING,
        "started_at": timezone.now(),
        "worker": worker[:200],
        "attempts": F("attempts") + 1,
    }
    if celery_task_id:
        changes["celery_task_id"] = celery_task_id[:255]
    return Execution.objects.filter(pk=execution_id, status=S.QUEUED).update(**changes) == 1


def finish_execution(
    execution_id: int,
    *,
    status: str,
    result: Any = None,
    error: str = "",
    error_kind: str = "",
    stdout: str = "",
    stderr: str = "",
    duration_ms: float | None = None,
    output_truncated: bool = False,
    isolation: str = "",
    bounds: dict[str, str] | None = None,
) -> Execution:
    """Record how a running run ended. Output past the caps is cut and flagged;
    ``duration_ms`` (the measured run time) defaults to the time since it started. A run
    no longer running (cancelled meanwhile, or reaped) is refused with TransitionRefused."""
    if status not in FINISH_STATUSES:
        allowed = ", ".join(sorted(FINISH_STATUSES))
        raise ValidationError({"status": [f"a run finishes as one of {allowed}, not {status!r}"]})
    if error_kind not in ErrorKind.values:
        raise ValidationError({"error_kind": [f"unknown error kind {error_kind!r}"]})
    if status == S.SUCCEEDED and (error or error_kind):
        raise ValidationError({"error": ["a run that succeeded has no error"]})
    (stdout, out_replaced), (stderr, err_replaced), (error, error_replaced) = (
        safe_data.storable_text(text) for text in (stdout, stderr, error)
    )
    replaced = out_replaced or err_replaced or error_replaced
    stdout, cut_out = _cut(stdout, STDOUT_CAP_BYTES)
    stderr, cut_err = _cut(stderr, STDERR_CAP_BYTES)
    error, _ = _cut(error, ERROR_CAP_BYTES)
    result, result_replaced = (
        _storable_json(result, "result") if status == S.SUCCEEDED else (None, False)
    )
    now = timezone.now()
    with transaction.atomic():
        # Only what the move needs: a worker finishes every run, and reading the whole row
        # (its JSON) again costs more than the update. Other fields load when read.
        execution = _locked(execution_id, only=("id", "status", "started_at"))
        if duration_ms is None and execution.started_at is not None:
            duration_ms = _ms_between(execution.started_at, now)
        return _move(
            execution,
            {S.RUNNING},
            status,
            result=result,
            error=error,
            error_kind=error_kind
            or (ErrorKind.TIMED_OUT if status == S.TIMED_OUT else ErrorKind.NONE),
            stdout=stdout,
            stderr=stderr,
            output_truncated=output_truncated or cut_out or cut_err,
            text_replaced=replaced or result_replaced,
            finished_at=now,
            duration_ms=max(0, round(duration_ms)) if duration_ms is not None else None,
            isolation=isolation[:20],
            bounds=bounds or {},
        )


# -- people's moves ---------------------------------------------------------------------


@transaction.atomic
def cancel_execution(execution: Execution, *, actor: Actor, reason: str = "") -> Execution:
    """Cancel a run that has not finished (operators and above); audited.

    Cancelling a running run only records the decision: whoever runs it must stop it
    (revoke the task, kill the sandbox); its later finish is refused.
    """
    require_role(actor, execution.tenant, Role.OPERATOR)
    locked = _locked(execution.pk)
    before = locked.status
    now = timezone.now()
    changes: dict[str, Any] = {"finished_at": now, **_decision(actor, reason, now)}
    if locked.started_at is not None:
        changes["duration_ms"] = _ms_between(locked.started_at, now)
    moved = _move(locked, {S.QUEUED, S.AWAITING_APPROVAL, S.RUNNING}, S.CANCELLED, **changes)
    _audit_decision(moved, actor, AuditAction.CANCEL, before, reason)
    return moved


@transaction.atomic
def approve_execution(execution: Execution, *, actor: Actor, reason: str = "") -> Execution:
    """Let a run that awaits approval go to the queue (admins only); audited. The caller
    queues its task after commit."""
    require_role(actor, execution.tenant, Role.ADMIN)
    locked = _locked(execution.pk)
    now = timezone.now()
    moved = _move(
        locked, {S.AWAITING_APPROVAL}, S.QUEUED, sent_at=now, **_decision(actor, reason, now)
    )
    _audit_decision(moved, actor, AuditAction.APPROVE, S.AWAITING_APPROVAL, reason)
    return moved


@transaction.atomic
def reject_execution(execution: Execution, *, actor: Actor, reason: str) -> Execution:
    """Refuse a run that awaits approval (admins only), saying why; audited."""
    require_role(actor, execution.tenant, Role.ADMIN)
    if not reason.strip():
        raise ValidationError({"reason": ["say why the run is rejected"]})
    locked = _locked(execution.pk)
    now = timezone.now()
    moved = _move(
        locked,
        {S.AWAITING_APPROVAL},
        S.REJECTED,
        finished_at=now,
        error=capped(f"Rejected: {reason}", ERROR_CAP_BYTES)[0],
        error_kind=ErrorKind.REFUSED,
        **_decision(actor, reason, now),
    )
    _audit_decision(moved, actor, AuditAction.REJECT, S.AWAITING_APPROVAL, reason)
    return moved


# -- the reaper -------------------------------------------------------------------------


def reap_lost_executions(
    *, older_than_s: float = REAPER_MARGIN_S, now: datetime | None = None
) -> list[int]:
    """Fail every running run whose worker must have vanished; the ids of those failed.

    A run is lost when it started longer ago than its tool version's timeout plus
    ``older_than_s``: a live worker would have finished or timed it out by then. Safe
    to run at any time, from any number of processes at once (each row moves once).
    Call it periodically, more often than the margin: a thin ``@shared_task`` that calls
    it, scheduled by a Celery beat entry every 30 s (or a loop in the embedded run
    command); a SIGKILLed worker's runs are then failed within timeout + margin + period.
    """
    now = now or timezone.now()
    margin = timedelta(seconds=older_than_s)
    candidates = (
        Execution.objects.filter(status=S.RUNNING, started_at__lt=now - margin)
        .select_related("tool_version")
        .only("pk", "started_at", "worker", "tool_version__timeout_s")
    )
    reaped = []
    for execution in candidates.iterator():
        assert execution.started_at is not None  # the check constraint says so
        deadline = execution.started_at + timedelta(seconds=execution.tool_version.timeout_s)
        if deadline + margin >= now:
            continue
        moved = Execution.objects.filter(pk=execution.pk, status=S.RUNNING).update(
            status=S.FAILED,
            finished_at=now,
            duration_ms=_ms_between(execution.started_at, now),
            error_kind=ErrorKind.WORKER_LOST,
            error=(
                f"The worker running it ({execution.worker or 'unknown'}) stopped answering: "
                f"no result {older_than_s:g} s after its {execution.tool_version.timeout_s:g} s "
                "timeout."
            ),
        )
        if moved:
            reaped.append(execution.pk)
    return reaped


# -- helpers ----------------------------------------------------------------------------


def capped(text: str, limit_bytes: int) -> tuple[str, bool]:
    """The text cut to at most ``limit_bytes`` of UTF-8 (never mid-character), and
    whether anything was cut. NUL characters and lone surrogates, which PostgreSQL text
    cannot hold (nor a page show), are replaced."""
    return _cut(safe_data.replaced(text), limit_bytes)


def _cut(text: str, limit_bytes: int) -> tuple[str, bool]:
    """``capped`` for text whose unstorable characters are replaced already."""
    encoded = text.encode("utf-8", errors="replace")
    if len(encoded) <= limit_bytes:
        return text, False
    return encoded[:limit_bytes].decode("utf-8", errors="ignore"), True


def _json_safe(value: Any, field: str) -> Any:
    return _storable_json(value, field)[0]


def _storable_json(value: Any, field: str) -> tuple[Any, bool]:
    """The value with NUL characters and lone surrogates in its strings replaced (PostgreSQL's
    jsonb refuses ``\\u0000`` and surrogates; SQLite keeps them and no page can show them),
    and whether any was. Values JSON cannot hold (NaN, sets, objects) are refused, keyed by
    ``field``."""
    try:
        dumped = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError({field: [f"is not plain JSON ({exc})"]}) from None
    if "\\u0000" in dumped or "\\ud" in dumped:  # ASCII-escaped: surrogates are \ud800-\udfff
        return safe_data.storable(value)
    return value, False


def _locked(execution_id: int, *, only: Iterable[str] = ()) -> Execution:
    rows = Execution.objects.select_for_update()
    return (rows.only(*only) if only else rows).get(pk=execution_id)


def _move(execution: Execution, allowed: Iterable[str], target: str, **changes: Any) -> Execution:
    """Move a locked run from one of ``allowed`` to ``target`` with one conditional
    UPDATE, or refuse. The condition also guards databases without row locks."""
    allowed = set(allowed)
    if execution.status not in allowed or target not in TRANSITIONS[execution.status]:
        raise TransitionRefused(execution, execution.status, target)
    updated = Execution.objects.filter(pk=execution.pk, status=execution.status).update(
        status=target, **changes
    )
    if updated != 1:
        current = Execution.objects.filter(pk=execution.pk).values_list("status", flat=True)
        raise TransitionRefused(execution, current.first() or execution.status, target)
    for field, value in {"status": target, **changes}.items():
        setattr(execution, field, value)
    return execution


def _decision(actor: Actor, reason: str, now: datetime) -> dict[str, Any]:
    return {"decided_by": actor, "decided_at": now, "decision_reason": reason}


def _audit_decision(
    execution: Execution, actor: Actor, action: str, before: str, reason: str
) -> None:
    audit(
        execution.tenant,
        actor=actor,
        action=action,
        obj=execution,
        tool=execution.tool,
        changes={"status": [before, execution.status]},
        reason=reason,
    )


def _ms_between(start: datetime, end: datetime) -> int:
    return max(0, round((end - start).total_seconds() * 1000))
