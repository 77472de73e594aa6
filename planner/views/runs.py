"""The runs list, one run's page (with its live fragment), and the approval queue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from catalog.accounts.guards import role_required
from catalog.accounts.tenancy import TenantRequest
from catalog.display.in_words import milliseconds_in_words
from catalog.models import REASON_MAX_LENGTH, Membership, Role
from planner import services
from telemetry.filtersets import ExecutionFilterSet
from telemetry.models import ErrorKind, Execution, ExecutionStatus
from telemetry.services import TransitionRefused

S = ExecutionStatus
PAGE_SIZE = 50
SUMMARY_CHARS = 90

# Each status: its badge's colour and what it means, in words a person reads.
STATUS_WORDS: dict[str, tuple[str, str]] = {
    S.QUEUED: ("badge-info", "Waiting for a worker to pick it up."),
    S.AWAITING_APPROVAL: (
        "badge-warning",
        "Waiting for an admin to approve it; it will not start until then.",
    ),
    S.RUNNING: ("badge-primary", "A worker is running it now."),
    S.SUCCEEDED: ("badge-success", "It finished and returned a result."),
    S.FAILED: ("badge-danger", "It stopped with an error; the error is shown below."),
    S.TIMED_OUT: ("badge-danger", "It ran longer than the tool's time limit and was stopped."),
    S.CANCELLED: ("badge-neutral", "Someone cancelled it before it finished."),
    S.REJECTED: ("badge-danger", "An admin decided it must not run."),
}

# What an unfinished run is doing, for the list's result column.
WAITING_WORDS: dict[str, str] = {
    S.AWAITING_APPROVAL: "Waiting for an admin",
    S.QUEUED: "Waiting for a worker",
    S.RUNNING: "Running…",
}

# How a run was kept apart from the rest of the machine: label, explanation, and
# whether it is weaker than a script should get.
ISOLATION_WORDS: dict[str, tuple[str, str, bool]] = {
    "bubblewrap": (
        "Sandboxed",
        "The script ran in a locked-down sandbox (bubblewrap): it could not see the "
        "worker's files, other programs or, unless the tool allows it, the network.",
        False,
    ),
    "rlimits-only": (
        "Limits only, no sandbox",
        "The sandbox was not available on this worker, so the script ran with only time "
        "and memory limits: it could read the worker's files and reach the network. "
        "Ask whoever runs Quiver to install bubblewrap on the workers.",
        True,
    ),
    "in-process": (
        "Trusted built-in code",
        "A built-in tool written by Quiver's developers ran inside the worker itself, "
        "not in a sandbox.",
        False,
    ),
}


# -- what the pages say about a run -------------------------------------------------------


# Closer to its estimate than this, a run took about as long as estimated, however small
# the estimate: a 1 ms estimate met by a 72 ms run is not "72 times as long".
NOTICEABLE_MS = 250


def compared_with_estimate(took: float | None, estimate: float | None) -> str:
    """ "longer", "shorter" or "about" as estimated; "" without both times. A run is
    longer (shorter) when off by half the estimate and by a noticeable time."""
    if took is None or estimate is None or estimate < 0:
        return ""
    if abs(took - estimate) < NOTICEABLE_MS:
        return "about"
    if took >= 1.5 * estimate:
        return "longer"
    if took <= 0.67 * estimate:
        return "shorter"
    return "about"


def against_estimate(execution: Execution) -> str:
    """How the time it took compares with the pattern's estimate, in words with a unit."""
    took, estimate = execution.duration_ms, execution.estimated_time_ms
    compared = compared_with_estimate(took, estimate)
    if compared in ("longer", "shorter"):
        assert took is not None and estimate is not None
        return f"{milliseconds_in_words(abs(took - estimate))} {compared} than estimated"
    return "about as estimated" if compared else ""


def error_headline(execution: Execution) -> str:
    """The last line of the error (for a traceback, the exception and its message)."""
    lines = [line.strip() for line in execution.error.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _cut(text: str, limit: int = SUMMARY_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def result_summary(execution: Execution) -> str:
    """One line for the list: the result, the error, or what the run is waiting for."""
    status = execution.status
    if status == S.SUCCEEDED:
        value = execution.result
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return _cut(text)
    if status in (S.FAILED, S.TIMED_OUT):
        kind = ErrorKind(execution.error_kind).label if execution.error_kind else "Error"
        headline = error_headline(execution)
        return _cut(f"{kind}: {headline}" if headline else kind)
    if status == S.REJECTED:
        return _cut(f"Rejected: {execution.decision_reason}")
    if status == S.CANCELLED:
        reason = execution.decision_reason
        return _cut(f"Cancelled: {reason}") if reason else "Cancelled"
    return WAITING_WORDS.get(status, "")


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


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
    took, estimate = execution.duration_ms, execution.estimated_time_ms
    return RunRow(
        run=execution,
        url=reverse("planner:run_detail", args=[execution.pk]),
        badge=STATUS_WORDS[execution.status][0],
        took=milliseconds_in_words(took),
        estimate=milliseconds_in_words(estimate),
        slower=compared_with_estimate(took, estimate) == "longer",
        summary=result_summary(execution),
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
        "error_headline": error_headline(execution),
        "error_is_long": "\n" in execution.error.strip(),
        "isolation": isolation,
        "weak_isolation": bool(isolation and isolation[2]),
        "bound_words": [
            (label, execution.bounds[key])
            for key, label in BOUND_LABELS.items()
            if isinstance(execution.bounds, dict) and key in execution.bounds
        ],
    }


# The limits a script's run had, as its page lists them.
BOUND_LABELS = {
    "memory": "Memory",
    "processes": "Processes",
    "files": "Temporary files",
    "network": "Network",
    "system calls": "System calls",
}


# -- forms --------------------------------------------------------------------------------


class CancelForm(forms.Form):
    reason = forms.CharField(required=False, max_length=REASON_MAX_LENGTH)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(required=False, max_length=REASON_MAX_LENGTH)
    back = forms.ChoiceField(choices=[("detail", "detail"), ("queue", "queue")], required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("decision") == "reject" and not cleaned.get("reason", "").strip():
            self.add_error(
                "reason", "Say why you are rejecting this run: the person who asked sees it."
            )
        return cleaned


def _refusal(refused: Exception, execution: Execution, verb: str) -> str:
    """A refused move in plain words."""
    if isinstance(refused, TransitionRefused):
        now = S(refused.current).label.lower()
        return f"Run #{execution.pk} is {now} now, so it can no longer be {verb}."
    if isinstance(refused, ValidationError):
        return " ".join(refused.messages)
    return str(refused) or "You are not allowed to do that."


# -- the runs list ------------------------------------------------------------------------


def _runs(request: TenantRequest) -> QuerySet[Execution]:
    return Execution.objects.for_tenant(request.tenant).select_related("tool_version")


def _run_of(request: TenantRequest, run_id: int) -> Execution:
    return get_object_or_404(_runs(request).select_related("decided_by"), pk=run_id)


def _known_users(request: TenantRequest) -> list[str]:
    members = Membership.objects.for_tenant(request.tenant).select_related("user")
    return sorted({m.user.get_username() for m in members} | {"system"})


@require_GET
@role_required(Role.VIEWER)
def run_list(request: TenantRequest) -> HttpResponse:
    runs = _runs(request).order_by("-queued_at", "-id")
    filters = ExecutionFilterSet(request.GET, queryset=runs)
    valid = filters.is_valid()
    page = Paginator(filters.qs if valid else runs.none(), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [run_row(execution) for execution in page.object_list]
    used = [(key, value) for key, value in filters.form.data.items() if key != "page" and value]
    query = urlencode([(k, v) for k, v in used if k in filters.filters]) if valid else ""
    poll = f"{reverse('planner:run_list')}?{query}{'&' if query else ''}page={page.number}"
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
        response = render(request, f"planner/run_list.html#{partial}", context)
    else:
        context["known_users"] = _known_users(request)
        context["tool_names"] = sorted(set(runs.values_list("tool_name", flat=True).distinct()))
        response = render(request, "planner/run_list.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


# -- one run ------------------------------------------------------------------------------


def _detail(
    request: TenantRequest, execution: Execution, decision: DecisionForm | None = None
) -> HttpResponse:
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
    return render(request, "planner/run_detail.html", context)


@require_GET
@role_required(Role.VIEWER)
def run_detail(request: TenantRequest, run_id: int) -> HttpResponse:
    return _detail(request, _run_of(request, run_id))


@require_GET
@role_required(Role.VIEWER)
def run_live(request: TenantRequest, run_id: int) -> HttpResponse:
    execution = _run_of(request, run_id)
    return render(request, "planner/run_detail.html#run-live", live_context(execution))


@require_POST
@role_required(Role.OPERATOR)
def run_cancel(request: TenantRequest, run_id: int) -> HttpResponse:
    execution = _run_of(request, run_id)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The reason is too long: keep it under 1,000 characters.")
        return redirect("planner:run_detail", run_id)
    try:
        services.cancel(execution, actor=request.user, reason=form.cleaned_data["reason"])
    except (ValidationError, PermissionDenied) as refused:
        messages.error(request, _refusal(refused, execution, "cancelled"))
    else:
        messages.success(request, f"Run #{execution.pk} was cancelled.")
    return redirect("planner:run_detail", run_id)


# -- approvals ----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    """A run in the approval queue, with the form an admin last sent for it (if any)
    and, once decided, what happened."""

    run: Execution
    arguments_json: str
    estimate: str
    form: DecisionForm | None = None
    outcome: str = ""
    refusal: str = ""


def _queue_item(execution: Execution, **extra: Any) -> QueueItem:
    return QueueItem(
        run=execution,
        arguments_json=pretty_json(execution.arguments),
        estimate=milliseconds_in_words(execution.estimated_time_ms),
        **extra,
    )


@require_GET
@role_required(Role.ADMIN)
def approval_queue(request: TenantRequest) -> HttpResponse:
    return _queue(request)


def _queue(request: TenantRequest, failed: QueueItem | None = None) -> HttpResponse:
    waiting = _runs(request).filter(status=S.AWAITING_APPROVAL).order_by("queued_at", "id")
    page = Paginator(waiting, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [
        failed if failed is not None and failed.run.pk == run.pk else _queue_item(run)
        for run in page.object_list
    ]
    return render(
        request, "planner/approval_queue.html", {"page_obj": page, "items": items, "query": ""}
    )


def _decide(execution: Execution, form: DecisionForm, actor: Any) -> Execution:
    """Approve or reject through the planner's services; errors are added to ``form``."""
    reason = form.cleaned_data["reason"].strip()
    if form.cleaned_data["decision"] == "approve":
        return services.approve(execution, actor=actor, reason=reason)
    return services.reject(execution, actor=actor, reason=reason)


@require_POST
@role_required(Role.ADMIN)
def run_decide(request: TenantRequest, run_id: int) -> HttpResponse:
    execution = _run_of(request, run_id)
    form = DecisionForm(request.POST)
    refusal = outcome = ""
    if form.is_valid():
        verb = "approved" if form.cleaned_data["decision"] == "approve" else "rejected"
        try:
            execution = _decide(execution, form, request.user)
            outcome = verb
        except ValidationError as refused:
            if hasattr(refused, "error_dict") and "reason" in refused.error_dict:
                form.add_error("reason", refused.error_dict["reason"])
            else:
                refusal = _refusal(refused, execution, verb)
        except PermissionDenied as refused:
            refusal = _refusal(refused, execution, verb)
    from_queue = request.htmx or form.cleaned_data.get("back") == "queue"
    item = _queue_item(execution, form=form, outcome=outcome, refusal=refusal)
    if request.htmx:
        return render(request, "planner/approval_queue.html#decided", {"item": item})
    if form.errors:
        return _queue(request, failed=item) if from_queue else _detail(request, execution, form)
    if refusal:
        messages.error(request, refusal)
    else:
        messages.success(request, _outcome_words(execution, outcome))
    if from_queue:
        return redirect("planner:approval_queue")
    return redirect("planner:run_detail", run_id)


def _outcome_words(execution: Execution, outcome: str) -> str:
    if outcome == "approved":
        return f"Run #{execution.pk} of {execution.tool_name} was approved and is on its way."
    return f"Run #{execution.pk} of {execution.tool_name} was rejected; it will not run."
