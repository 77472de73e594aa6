"""Starting a run: from "run this tool with these arguments" to a queued Execution.

Every way of running a tool (the API, a page's "Try it", a plan step) comes through
``invoke``, which in order:

1. finds the tool version (the tool's current version, or an exact published one) and
   the pattern whose policy and estimates apply (named, or the version's first);
2. checks the arguments against the version's input schema and fills its defaults
   (nothing is recorded when they are wrong);
3. applies the pattern's policy: a tool that is not ``production_safe`` is refused in
   production, a run whose estimated cost is above ``max_cost`` is refused, and
   ``requires_approval`` sends the run to the approval queue instead of the workers. A
   run pinned to a version other than the current one answers to the strictest of its
   own pattern's policy and the current version's (``governing_patterns``);
4. records the Execution (or returns the one an idempotency key already names) and
   queues its task once the transaction commits.

The people's moves that start or stop a recorded run (approve, reject, cancel) are here
too, because approving one also queues it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from catalog import sandbox_limits
from catalog.definitions import safe_data
from catalog.estimates import cost_in_words, estimate_for
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
from catalog.permissions import Actor, require_role
from catalog.tool_state import DISABLED, state_of
from planner.arguments import ArgumentsInvalid, prepare_arguments
from planner.sandbox import isolation
from planner.tasks import enqueue_execution
from telemetry import services
from telemetry.models import (
    FINAL_STATUSES,
    Environment,
    Execution,
    ExecutionSource,
    ExecutionStatus,
)

NETWORK_OFF = (
    "{name} lets its script use the network, which this tenant's admins have turned off "
    "(Settings → Script limits)"
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
    for field, value in (("arguments", arguments), ("context", context)):
        try:
            safe_data.check(value, field)
        except safe_data.UnsafeData as exc:
            raise ValidationError({exc.path: [exc.message]}) from None
    try:
        prepared = prepare_arguments(chosen.input_schema, arguments, key=chosen.content_hash)
    except ArgumentsInvalid as exc:
        grouped: dict[str, list[str]] = {}
        for error in exc.errors:
            grouped.setdefault(error.path or "arguments", []).append(error.message)
        raise ValidationError(grouped) from None
    estimate = estimate_for(chosen_pattern, context)
    policy = policy_for(chosen, governing_patterns(chosen, chosen_pattern), context)
    check_policy(policy, environment=environment)
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
            requires_approval=policy.requires_approval,
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
    if state_of(found) is DISABLED:
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
    if chosen.runtime_kind == RuntimeKind.SCRIPT:
        if refused := isolation.refusal(network=chosen.network_allowed):
            raise RunRefused({"tool": [refused]})
        if chosen.network_allowed and not sandbox_limits.effective(tenant).network:
            raise RunRefused({"tool": [NETWORK_OFF.format(name=name)]})
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


@dataclass(frozen=True)
class Policy:
    """The rules a run must pass, gathered from every pattern that governs it."""

    requires_approval: bool = False
    # The patterns (as "<version> pattern '<name>'") that refuse production; empty if none.
    unsafe_in: tuple[str, ...] = ()
    # The lowest cost limit and whose it is; None when no governing pattern has one.
    max_cost: float | None = None
    limited_by: str = ""
    # The highest cost estimate of any governing pattern for the run's context; None when
    # none has a cost expression. ``cost_unknown`` when one has but cannot be computed.
    cost: float | None = None
    cost_unknown: bool = False


def governing_patterns(version: ToolVersion, pattern: Pattern | None) -> list[Pattern]:
    """The patterns whose policy governs a run of ``pattern`` of ``version``.

    A run of the tool's current version answers to its own pattern. A run pinned to another
    version also answers to the current version's rules, so pinning an old version never
    escapes an approval, a production ban or a cost limit added since: the current
    version's pattern of the same name (and capability, when there is one), or, when it has
    none of that name, all of its patterns (the strictest of them applies).
    """
    governing = [pattern] if pattern is not None else []
    current_id = version.tool.current_version_id
    if current_id is None or current_id == version.pk:
        return governing
    current_version = ToolVersion.objects.get(pk=current_id)
    current = patterns_of(current_version)
    for p in current:
        p.capability.version = current_version  # named in refusals, without a query each
    if pattern is not None:
        same = [
            p
            for p in current
            if p.name == pattern.name and p.capability.name == pattern.capability.name
        ] or [p for p in current if p.name == pattern.name]
        if same:
            return [*governing, *same]
    return [*governing, *current]


def policy_for(version: ToolVersion, patterns: list[Pattern], context: Mapping[str, Any]) -> Policy:
    """The strictest of the patterns' policies for a run of ``version`` with ``context``:
    approval if any requires it, production refused if any is not safe there, the lowest
    ``max_cost`` against the highest cost estimate."""
    limits = [(p.max_cost, p) for p in patterns if p.max_cost is not None]
    lowest = min(limits, key=lambda limit: limit[0]) if limits else None
    costs, unknown = [], False
    for p in patterns:
        if p.cost_estimate.strip():
            cost = estimate_for(p, context).cost
            unknown = unknown or cost is None
            if cost is not None:
                costs.append(cost)
    return Policy(
        requires_approval=any(p.requires_approval for p in patterns),
        unsafe_in=tuple(_named(p, version) for p in patterns if not p.production_safe),
        max_cost=lowest[0] if lowest else None,
        limited_by=_named(lowest[1], version) if lowest else "",
        cost=max(costs) if costs else None,
        cost_unknown=unknown,
    )


def _named(pattern: Pattern, version: ToolVersion) -> str:
    if pattern.capability.version_id == version.pk:
        return f"pattern {pattern.name!r}"
    return f"pattern {pattern.name!r} of the current version {pattern.capability.version.version}"


def check_policy(policy: Policy, *, environment: str) -> None:
    """Refuse a run the policy does not allow (RunRefused)."""
    if environment == Environment.PRODUCTION and policy.unsafe_in:
        raise RunRefused(
            {
                "environment": [
                    f"{policy.unsafe_in[0]} is not marked safe for production; "
                    "run it in development or staging"
                ]
            }
        )
    if policy.max_cost is None or (policy.cost is None and not policy.cost_unknown):
        return
    if policy.cost_unknown:
        raise RunRefused(
            {
                "context": [
                    f"{policy.limited_by} has a cost limit of {cost_in_words(policy.max_cost)} "
                    "but the "
                    "cost could not be estimated for this context"
                ]
            }
        )
    assert policy.cost is not None
    if policy.cost > policy.max_cost:
        raise RunRefused(
            {
                "context": [
                    f"the estimated cost {policy.cost:g} is above the limit of "
                    f"{cost_in_words(policy.max_cost)} (max_cost) of {policy.limited_by}"
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
