"""Settings → Script limits: what the tenant's scripts may have (admins change it)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from catalog import sandbox_limits
from catalog.accounts.guards import client_ip, role_required
from catalog.accounts.tenancy import TenantRequest
from catalog.models import REASON_MAX_LENGTH, Role, RuntimeKind, SandboxLimits, Tool
from catalog.services import StaleLimits, sandbox_limits_of, set_sandbox_limits

ALL, ONLY = "all", "only"


class ScriptLimitsForm(forms.Form):
    network = forms.BooleanField(
        required=False,
        label="Scripts may use the network",
        help_text="Off: no tool's script reaches any address, and a version that asks for "
        "the network cannot be published.",
    )
    internal = forms.ChoiceField(
        widget=forms.RadioSelect,
        label="Internal networks scripts may reach",
        required=False,
    )
    internal_networks = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"}),
        required=False,
        label="Only these",
        help_text="One network per line, e.g. 10.20.1.0/24; each inside one the server allows.",
    )
    max_memory_mb = forms.IntegerField(
        required=False,
        label="Most memory a run may use (MB)",
        min_value=sandbox_limits.MIN_MEMORY_MB,
    )
    reason = forms.CharField(
        required=False,
        max_length=REASON_MAX_LENGTH,
        label="Why (for the audit log)",
        help_text="Optional.",
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args: Any, machine: sandbox_limits.Limits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        listed = ", ".join(machine.internal_networks)
        self.fields["internal"].choices = [  # type: ignore[attr-defined]
            (ALL, f"Every internal network this server allows ({listed})"),
            (ONLY, "Only the ones listed below (none if the list is empty)"),
        ]
        self.fields["max_memory_mb"].widget.attrs["max"] = machine.memory_mb
        self.fields["max_memory_mb"].help_text = (
            f"Empty: the server's ceiling, {machine.memory_mb} MB. A tool that asks for more "
            "cannot be published, and runs never get more."
        )
        if not machine.internal_networks:
            del self.fields["internal"], self.fields["internal_networks"]

    @classmethod
    def initial_of(cls, row: SandboxLimits) -> dict[str, Any]:
        return {
            "network": row.network,
            "internal": ALL if row.internal_networks is None else ONLY,
            "internal_networks": "\n".join(row.internal_networks or []),
            "max_memory_mb": row.max_memory_mb,
            "revision": row.revision,
        }

    def wanted_networks(self) -> list[str] | None:
        if "internal" not in self.fields or self.cleaned_data.get("internal") != ONLY:
            return None
        lines = self.cleaned_data.get("internal_networks", "").splitlines()
        return [line.strip() for line in lines if line.strip()]


@role_required(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def script_limits(request: TenantRequest) -> HttpResponse:
    row = sandbox_limits_of(request.tenant)
    machine = sandbox_limits.machine()
    if request.method == "POST":
        if request.role != Role.ADMIN:
            raise PermissionDenied("Only an admin of this tenant changes its script limits.")
        form = ScriptLimitsForm(request.POST, machine=machine)
        if form.is_valid() and _save(request, form):
            messages.success(request, "Saved the script limits: they hold for the next run.")
            return redirect("catalog:script_limits")
    else:
        form = ScriptLimitsForm(initial=ScriptLimitsForm.initial_of(row), machine=machine)
    effective = sandbox_limits.narrowed(row)
    scripts = (
        Tool.objects.for_tenant(request.tenant)
        .filter(archived_at__isnull=True, current_version__runtime_kind=RuntimeKind.SCRIPT)
        .order_by("name")
    )
    context = {
        "form": form,
        "limits": row,
        "machine": machine,
        "effective": effective,
        "may_change": request.role == Role.ADMIN,
        # The tools these limits hold back, so an admin sees what a change does.
        "over_memory": list(
            scripts.filter(current_version__memory_mb__gt=effective.memory_mb).values_list(
                "name", flat=True
            )
        ),
        "network_refused": []
        if effective.network
        else list(
            scripts.filter(current_version__network_allowed=True).values_list("name", flat=True)
        ),
    }
    return render(request, "catalog/script_limits.html", context)


def _save(request: TenantRequest, form: ScriptLimitsForm) -> bool:
    """Save the limits; on a problem, put it next to its field and answer False."""
    data = form.cleaned_data
    try:
        set_sandbox_limits(
            request.tenant,
            network=data["network"],
            internal_networks=form.wanted_networks(),
            max_memory_mb=data["max_memory_mb"],
            revision=data["revision"],
            reason=data["reason"],
            actor=request.user,
            ip=client_ip(request),
        )
    except StaleLimits as stale:
        form.add_error(None, stale.messages)
        return False
    except ValidationError as error:
        for path, problems in error.message_dict.items():
            field = path.split("[")[0]
            form.add_error(field if field in form.fields else None, problems)
        return False
    return True
