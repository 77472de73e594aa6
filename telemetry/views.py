"""The runs pages: the runs list, one run's page, and its live fragment.

The verbs on a run (cancel, approve, reject) are the planner's; a run's page shows
their buttons, which post to the planner's URLs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from catalog.accounts.guards import role_required
from catalog.accounts.tenancy import TenantRequest
from catalog.display.in_words import milliseconds_in_words, pretty_json
from catalog.models import Role, Tool
from telemetry import selectors
from telemetry.filtersets import ExecutionFilterSet
from telemetry.in_words import (
    ISOLATION_WORDS,
    STATUS_WORDS,
    against_estimate,
    bound_words,
)
from telemetry.models import ErrorKind, Execution, ExecutionStatus

S = ExecutionStatus
PAGE_SIZE = 50


@dataclass(frozen=True)
class RunRow:
    """One row of the runs list, its words prepared in Python."""

    run: Execution
    url: str
    badge: str
    took: str
    estimate: str
    slower: bool
    summary: str
    failed: bool


def run_row(execution: Execution) -> RunRow:
    return RunRow(
        run=execution,
        url=reverse("telemetry:run_detail", args=[execution.pk]),
        badge=STATUS_WORDS[execution.status][0],
        took=milliseconds_in_words(execution.duration_ms),
        estimate=milliseconds_in_words(execution.estimated_time_ms),
        slower=execution.time_against_estimate == "longer",
        summary=execution.result_summary,
        failed=execution.status in (S.FAILED, S.TIMED_OUT, S.REJECTED),
    )


def live_context(execution: Execution) -> dict[str, Any]:
    """What the live panel shows: status, outcome, output, time and isolation."""
    badge, meaning = STATUS_WORDS[execution.status]
    isolation = ISOLATION_WORDS.get(execution.isolation)
    return {
        "run": execution,
        "badge": badge,
        "meaning": meaning,
        "took": milliseconds_in_words(execution.duration_ms),
        "estimate": milliseconds_in_words(execution.estimated_time_ms),
        "against_estimate": against_estimate(execution),
        "result_json": pretty_json(execution.result) if execution.result is not None else "",
        "error_kind": ErrorKind(execution.error_kind).label if execution.error_kind else "",
        "error_headline": execution.error_headline,
        "error_is_long": "\n" in execution.error.strip(),
        "isolation": isolation,
        "weak_isolation": bool(isolation and isolation[2]),
        "bound_words": bound_words(execution),
    }


# -- the runs list ------------------------------------------------------------------------


@require_GET
@role_required(Role.VIEWER)
def run_list(request: TenantRequest) -> HttpResponse:
    runs = selectors.runs_of(request.tenant).order_by("-queued_at", "-id")
    filters = ExecutionFilterSet(request.GET, queryset=runs)
    valid = filters.is_valid()
    page = Paginator(filters.qs if valid else runs.none(), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [run_row(execution) for execution in page.object_list]
    used = [(key, value) for key, value in filters.form.data.items() if key != "page" and value]
    query = urlencode([(k, v) for k, v in used if k in filters.filters]) if valid else ""
    poll = f"{reverse('telemetry:run_list')}?{query}{'&' if query else ''}page={page.number}"
    context: dict[str, Any] = {
        "filters": filters,
        "page_obj": page,
        "rows": rows,
        "query": query,
        "filtered": bool(query),
        "polling": any(not row.run.is_final for row in rows),
        "poll_url": poll,
    }
    if request.htmx and not request.htmx.history_restore_request:
        partial = "run-rows" if request.htmx.target == "run-rows" else "run-results"
        response = render(request, f"telemetry/run_list.html#{partial}", context)
    else:
        context["known_users"] = selectors.caller_names(request.tenant)
        context["tool_names"] = selectors.tool_names(runs)
        response = render(request, "telemetry/run_list.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


# -- one run ------------------------------------------------------------------------------


def run_page(
    request: TenantRequest, execution: Execution, decision: forms.Form | None = None
) -> HttpResponse:
    """One run's page; ``decision`` is the planner's approve-or-reject form when an
    admin's decision was refused, shown again with its errors."""
    rank = Role.rank(request.role)
    context = {
        **live_context(execution),
        "arguments_json": pretty_json(execution.arguments),
        "context_json": pretty_json(execution.context) if execution.context else "",
        "tool_url": (
            f"{reverse('catalog:tool_detail', args=[execution.tool_name])}?"
            f"{urlencode({'version': execution.tool_version.version})}"
            if execution.tool_id
            else ""
        ),
        "can_cancel": not execution.is_final and rank >= Role.rank(Role.OPERATOR),
        "can_decide": execution.status == S.AWAITING_APPROVAL and rank >= Role.rank(Role.ADMIN),
        "decision": decision,
    }
    return render(request, "telemetry/run_detail.html", context)


@require_GET
@role_required(Role.VIEWER)
def run_detail(request: TenantRequest, run_id: int) -> HttpResponse:
    return run_page(request, selectors.run_of(request.tenant, run_id))


@require_GET
@role_required(Role.VIEWER)
def run_live(request: TenantRequest, run_id: int) -> HttpResponse:
    execution = selectors.run_of(request.tenant, run_id)
    return render(request, "telemetry/run_detail.html#run-live", live_context(execution))


# -- on a tool's page ---------------------------------------------------------------------


@require_GET
@role_required(Role.VIEWER)
def tool_runs(request: TenantRequest, name: str) -> HttpResponse:
    """How the tool runs, on its page (a slot, see catalog.display.slots): its runs of the
    last 30 days counted, and its newest runs."""
    tool = get_object_or_404(Tool.objects.for_tenant(request.tenant), name=name)
    runs = selectors.runs_of_tool(tool)
    context = {
        "tool": tool,
        "runs": runs,
        "rows": [run_row(execution) for execution in runs.latest],
        "average": milliseconds_in_words(runs.average_ms),
        "all_runs": f"{reverse('telemetry:run_list')}?{urlencode({'tool': tool.name})}",
    }
    return render(request, "telemetry/run_list.html#tool-runs", context)
