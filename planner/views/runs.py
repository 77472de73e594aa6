"""The verbs on a run from the pages: cancelling it, and approving or rejecting it (from
the approval queue or the run's page). The runs list and a run's page are telemetry's
(telemetry/views.py); after a verb these pages redirect there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from catalog.accounts.guards import role_required
from catalog.accounts.tenancy import TenantRequest
from catalog.display.in_words import milliseconds_in_words, pretty_json
from catalog.models import REASON_MAX_LENGTH, Role
from planner import services
from telemetry import selectors
from telemetry.models import Execution, ExecutionStatus
from telemetry.services import TransitionRefused
from telemetry.views import PAGE_SIZE, run_page

S = ExecutionStatus


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


@require_POST
@role_required(Role.OPERATOR)
def run_cancel(request: TenantRequest, run_id: int) -> HttpResponse:
    execution = selectors.run_of(request.tenant, run_id)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The reason is too long: keep it under 1,000 characters.")
        return redirect("telemetry:run_detail", run_id)
    try:
        services.cancel(execution, actor=request.user, reason=form.cleaned_data["reason"])
    except (ValidationError, PermissionDenied) as refused:
        messages.error(request, _refusal(refused, execution, "cancelled"))
    else:
        messages.success(request, f"Run #{execution.pk} was cancelled.")
    return redirect("telemetry:run_detail", run_id)


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
    waiting = selectors.awaiting_approval(request.tenant)
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
    execution = selectors.run_of(request.tenant, run_id)
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
        return _queue(request, failed=item) if from_queue else run_page(request, execution, form)
    if refusal:
        messages.error(request, refusal)
    else:
        messages.success(request, _outcome_words(execution, outcome))
    if from_queue:
        return redirect("planner:approval_queue")
    return redirect("telemetry:run_detail", run_id)


def _outcome_words(execution: Execution, outcome: str) -> str:
    if outcome == "approved":
        return f"Run #{execution.pk} of {execution.tool_name} was approved and is on its way."
    return f"Run #{execution.pk} of {execution.tool_name} was rejected; it will not run."
