"""Reads of a tenant's runs, shared by the runs pages, the API and the planner's verbs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Avg, Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from catalog.models import Membership, Tenant, Tool
from telemetry.models import Execution, ExecutionStatus


def runs_of(tenant: Tenant) -> QuerySet[Execution]:
    """The tenant's runs, each with the version it ran (every list of runs shows it)."""
    return Execution.objects.for_tenant(tenant).select_related("tool_version")


def run_of(tenant: Tenant, run_id: int | str) -> Execution:
    """One run of the tenant with who decided it, as its page and the API show it;
    Http404 when the tenant has no such run."""
    return get_object_or_404(runs_of(tenant).select_related("decided_by"), pk=run_id)


def awaiting_approval(tenant: Tenant) -> QuerySet[Execution]:
    """The tenant's runs waiting for an admin's decision, oldest first."""
    waiting = runs_of(tenant).filter(status=ExecutionStatus.AWAITING_APPROVAL)
    return waiting.order_by("queued_at", "id")


def caller_names(tenant: Tenant) -> list[str]:
    """Who may have started a run here, for the runs filter's suggestions: the members'
    user names and "system"."""
    members = Membership.objects.for_tenant(tenant).select_related("user")
    return sorted({m.user.get_username() for m in members} | {"system"})


def tool_names(runs: QuerySet[Execution]) -> list[str]:
    """The names of the tools these runs ran, in order, for the runs filter's suggestions."""
    return sorted(set(runs.values_list("tool_name", flat=True).distinct()))


@dataclass(frozen=True)
class ToolRuns:
    """How one tool has run lately: counts since ``days`` ago and its newest runs."""

    days: int
    total: int
    succeeded: int
    failed: int
    average_ms: float | None
    latest: list[Execution]

    @property
    def success_rate(self) -> int | None:
        """Succeeded out of the finished runs, in whole percent."""
        finished = self.succeeded + self.failed
        return round(100 * self.succeeded / finished) if finished else None


def runs_of_tool(tool: Tool, *, days: int = 30, latest: int = 5) -> ToolRuns:
    """The tool's runs of the last ``days``: counted in one query, and its newest few."""
    # The tool is the tenant's (callers load it through its tenant): its runs are too.
    runs = Execution.objects.filter(tool=tool)
    since = runs.filter(queued_at__gte=timezone.now() - timedelta(days=days))
    failed = [ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT]
    figures = since.aggregate(
        total=Count("id"),
        succeeded=Count("id", filter=Q(status=ExecutionStatus.SUCCEEDED)),
        failed=Count("id", filter=Q(status__in=failed)),
        average_ms=Avg("duration_ms", filter=Q(status=ExecutionStatus.SUCCEEDED)),
    )
    newest = list(runs.select_related("tool_version").order_by("-queued_at", "-id")[:latest])
    return ToolRuns(days=days, latest=newest, **figures)
