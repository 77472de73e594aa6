"""The first page: the catalog counted, what changed lately, and what needs attention."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from catalog.accounts.guards import role_required
from catalog.accounts.tenancy import TenantRequest
from catalog.display import tool_health
from catalog.models import Role
from catalog.views.audit import audit_rows


@role_required(Role.VIEWER)
@require_GET
def dashboard(request: TenantRequest) -> HttpResponse:
    counts, attention = tool_health.dashboard_figures(request.tenant)
    if counts.is_empty:
        return render(request, "catalog/dashboard.html", {"counts": counts})
    return render(
        request,
        "catalog/dashboard.html",
        {
            "counts": counts,
            "recent_tools": tool_health.recently_changed(request.tenant),
            "recent_audit": audit_rows(tool_health.recent_audit(request.tenant)),
            "attention": attention,
            "attention_summary": [
                (tool_health.WARNING_LABELS[code], n) for code, n in attention.by_code.most_common()
            ],
        },
    )
