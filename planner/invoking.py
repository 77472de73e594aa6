"""Starting a run: from "run this tool with these arguments" to a queued Execution.

Every way of running a tool (the API, a page's "Try it", a plan step) comes through
``invoke``, which in order:

1. finds the tool version (the tool's current version, or an exact published one) and
   the pattern whose policy and estimates apply (named, or the version's first);
2. checks the arguments against the version's input schema and fills its defaults
   (nothing is recorded when they are wrong);
3. applies the pattern's policy: a tool that is not ``production_safe`` is refused in
   production, a run whose estimated cost is above ``max_cost`` is refused, and
   ``requires_approval`` sends the run to the approval queue instead of the workers;
4. records the Execution (or returns the one an idempotency key already names) and
   queues its task once the transaction commits.

The people's moves that start or stop a recorded run (approve, reject, cancel) are here
too, because approving one also queues it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from catalog.models import (
    ApiKey,
    Pattern,
    Role,
    RuntimeKind,
    Tenant,
    Tool,
    ToolVersion,
    VersionState,
)
from catalog.services.base import Actor, require_role
from planner import sandbox
from planner.arguments import ArgumentsInvalid, prepare_arguments
from planner.tasks import enqueue_execution
from telemetry import services
from telemetry.models import (
    FINAL_STATUSES,
    Environment,
    Execution,
    ExecutionSource,
    ExecutionStatus,
)

# The longest a request may wait for its run to end before it is answered.
MAX_WAIT_S = 30.0
# Between looks at a run that is being waited for: every 2 ms for the first quarter second
# (a trivial run ends in tens of milliseconds; each look is one indexed query), then
# growing to a tenth of a second so a slow run costs few queries.
_FIRST_POLL_S = 0.002
_FAST_POLLING_S = 0.25
_LONGEST_POLL_S = 0.1


class RunRefused(ValidationError):
    """A well-formed request that a rule refuses: the tool is disabled, its pattern is not
    safe for production, or the run would cost more than the pattern allows."""


def invoke(
    tenant: Tenant,
    *,
    caller: Actor,
    tool: str,
    version: str | None = None,
    pattern: str | None = None,
    arguments: Any = None,
    context: Mapping[str, Any] | None = None,
    environment: str = Environment.DEVELOPMENT,
    idempotency_key: str = "",
    source: str = ExecutionSource.API,
    api_key: ApiKey | None = None,
) -> tuple[Execution, bool]:
    """Validate and record a run of ``tool`` and queue it; the run and whether it is new.

    Raises ValidationError keyed by the field at fault (``tool``, ``version``,
    ``pattern``, ``arguments.<path>``, ``context``, ``environment``, ``idempotency_key``),
    RunRefused when policy refuses the run, and PermissionDenied below the operator role.
    A request that fails records nothing and queues nothing.
    """
    require_role(caller, tenant, Role.OPERATOR)
    chosen = resolve_version(tenant, tool, version)
    chosen_pattern = resolve_pattern(chosen, pattern)
    context = dict(context or {})
    try:
        prepared = prepare_arguments(chosen.input_schema, arguments, key=chosen.content_hash)
    except ArgumentsInvalid as exc:
        grouped: dict[str, list[str]] = {}
        for error in exc.errors:
            grouped.setdefault(error.path or "arguments", []).append(error.message)
        raise ValidationError(grouped) from None
    estimate = services.estimate_for(chosen_pattern, context)
    check_policy(chosen_pattern, environment=environment, cost=estimate.cost)
    with transaction.atomic():
        execution, created = services.record_execution(
            chosen,
            arguments=prepared,
            caller=caller,
            source=source,
            context=context,
            environment=environment,
            pattern=chosen_pattern,
            api_key=api_key,
            idempotency_key=idempotency_key,
            estimate=estimate,
        )
        if created and execution.status == ExecutionStatus.QUEUED:
            enqueue_execution(execution)
    return execution, created


def resolve_version(tenant: Tenant, name: str, version: str | None = None) -> ToolVersion:
    """The version a run of tool ``name`` uses: its current version, or the exact published
    ``version``. A tool that is disabled or archived, or that only describes a tool
    running elsewhere, is refused."""
    found = (
        Tool.objects.for_tenant(tenant).filter(name=name).select_related("current_version").first()
    )
    if found is None:
        raise ValidationError({"tool": [f"there is no tool named {name!r}"]})
    if found.archived_at is not None:
        raise RunRefused({"tool": [f"{name} is archived; restore it to run it"]})
    if not found.enabled:
        raise RunRefused({"tool": [f"{name} is disabled; enable it to run it"]})
    if version:
        chosen = found.versions.filter(version=version).first()
        if chosen is None:
            raise ValidationError({"version": [f"{name} has no version {version!r}"]})
        if chosen.state != VersionState.PUBLISHED:
            raise ValidationError(
                {"version": [f"{name} {version} is a draft; publish it before running it"]}
            )
    else:
        chosen = found.current_version
        if chosen is None:
            raise ValidationError({"tool": [f"{name} has no published version to run"]})
    if chosen.runtime_kind == RuntimeKind.NONE:
        raise RunRefused({"tool": [f"{name} is described only: it runs elsewhere, not in Quiver"]})
    if chosen.runtime_kind == RuntimeKind.SCRIPT and (
        refused := sandbox.refusal(network=chosen.network_allowed)
    ):
        raise RunRefused({"tool": [refused]})
    found.tenant = tenant  # saves queries in record_execution
    chosen.tool = found
    return chosen


def patterns_of(version: ToolVersion) -> list[Pattern]:
    """The version's patterns in the order the definition gives them, capability first."""
    return list(
        Pattern.objects.filter(capability__version=version)
        .select_related("capability")
        .order_by("capability__position", "capability__id", "position", "id")
    )


def resolve_pattern(version: ToolVersion, name: str | None) -> Pattern | None:
    """The pattern whose estimates and policy apply to a run: the one named (``pattern``
    or ``capability/pattern``), else the version's first; None when it has none."""
    patterns = patterns_of(version)
    if not name:
        return patterns[0] if patterns else None
    capability, _, pattern_name = name.rpartition("/")
    matches = [
        p
        for p in patterns
        if p.name == pattern_name and (not capability or p.capability.name == capability)
    ]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(f"{p.capability.name}/{p.name}" for p in patterns) or "none"
    if matches:
        raise ValidationError(
            {"pattern": [f"{name!r} is in several capabilities; say which: {known}"]}
        )
    raise ValidationError({"pattern": [f"{version} has no pattern {name!r} (it has: {known})"]})


def check_policy(pattern: Pattern | None, *, environment: str, cost: float | None) -> None:
    """Refuse a run the pattern's policy does not allow (RunRefused)."""
    if pattern is None:
        return
    if environment == Environment.PRODUCTION and not pattern.production_safe:
        raise RunRefused(
            {
                "environment": [
                    f"pattern {pattern.name!r} is not marked safe for production; "
                    "run it in development or staging"
                ]
            }
        )
    if pattern.max_cost is None or not pattern.cost_estimate.strip():
        return
    if cost is None:
        raise RunRefused(
            {
                "context": [
                    f"pattern {pattern.name!r} has a cost limit of {pattern.max_cost:g} but its "
                    "cost could not be estimated for this context"
                ]
            }
        )
    if cost > pattern.max_cost:
        raise RunRefused(
            {
                "context": [
                    f"the estimated cost {cost:g} is above pattern {pattern.name!r}'s limit "
                    f"of {pattern.max_cost:g} (max_cost)"
                ]
            }
        )


def wait_for(execution: Execution, timeout_s: float) -> Execution:
    """The run once it has ended, or as it is after ``timeout_s`` (at most MAX_WAIT_S)."""
    started = time.monotonic()
    deadline = started + min(max(timeout_s, 0.0), MAX_WAIT_S)
    pause = _FIRST_POLL_S
    status = execution.status
    while status not in FINAL_STATUSES and status != ExecutionStatus.AWAITING_APPROVAL:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(pause, left))
        if time.monotonic() - started > _FAST_POLLING_S:
            pause = min(pause * 1.5, _LONGEST_POLL_S)
        found = Execution.objects.filter(pk=execution.pk).values_list("status", flat=True)
        status = found.first() or status
    if status == execution.status:
        return execution
    return Execution.objects.select_related("tool_version").get(pk=execution.pk)


@transaction.atomic
def approve(execution: Execution, *, actor: Actor, reason: str = "") -> Execution:
    """Approve a run that awaits approval (admins) and queue it."""
    approved = services.approve_execution(execution, actor=actor, reason=reason)
    enqueue_execution(approved)
    return approved


def reject(execution: Execution, *, actor: Actor, reason: str) -> Execution:
    """Refuse a run that awaits approval (admins), saying why."""
    return services.reject_execution(execution, actor=actor, reason=reason)


def cancel(execution: Execution, *, actor: Actor, reason: str = "") -> Execution:
    """Cancel a run that has not ended (operators). A running script is stopped by its
    worker within a second: the executor watches for the cancellation."""
    return services.cancel_execution(execution, actor=actor, reason=reason)
