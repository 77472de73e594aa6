"""The audit log: every change in the tenant, filtered by who, what, which tool and when."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from catalog.accounts.guards import role_required
from catalog.accounts.tenancy import TenantRequest
from catalog.display.tool_health import AUDIT_COLUMNS
from catalog.filtersets import AuditFilter
from catalog.models import AuditLog, Membership, Role
from catalog.selectors import audit_entries

PAGE_SIZE = 50
LONG_DIFF = 4  # changes; more are folded into a <details>


@dataclass(frozen=True)
class AuditRow:
    """An entry as the tables show it: with a link to what it changed, when that still exists."""

    entry: AuditLog
    link: str
    long: bool


def object_link(entry: AuditLog) -> str:
    """The page of the tool an entry changed, at the version it names; '' when gone."""
    if entry.tool_id is None or entry.tool is None:
        return ""
    url = reverse("catalog:tool_detail", args=[entry.tool.name])
    if entry.object_type == "toolversion":
        version = entry.object_repr.rsplit(" ", 1)[-1]
        return f"{url}?{urlencode({'version': version})}"
    return url


def audit_rows(entries: Iterable[AuditLog]) -> list[AuditRow]:
    return [AuditRow(e, object_link(e), len(e.changes or {}) > LONG_DIFF) for e in entries]


def _known_users(request: TenantRequest) -> list[str]:
    """Names offered while typing a user: the tenant's members and the system."""
    members = Membership.objects.for_tenant(request.tenant).select_related("user")
    return sorted({m.user.get_username() for m in members} | {"system"})


@role_required(Role.VIEWER)
@require_GET
def audit_list(request: TenantRequest) -> HttpResponse:
    entries = audit_entries(request.tenant).only(*AUDIT_COLUMNS)
    filters = AuditFilter(request.GET, queryset=entries, tenant=request.tenant)
    valid = filters.is_valid()
    page = Paginator(filters.qs if valid else entries.none(), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = [(k, v) for k in request.GET if k != "page" for v in request.GET.getlist(k) if v]
    context: dict[str, Any] = {
        "filters": filters,
        "page_obj": page,
        "rows": audit_rows(page.object_list),
        "query": urlencode(query),
        "filtered": bool(query),
        "known_users": _known_users(request),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "catalog/audit_list.html#audit-results", context)
    return render(request, "catalog/audit_list.html", context)


@role_required(Role.VIEWER)
@require_GET
def audit_detail(request: TenantRequest, entry_id: int) -> HttpResponse:
    entry = get_object_or_404(
        AuditLog.objects.for_tenant(request.tenant).select_related("tool"), pk=entry_id
    )
    return render(
        request,
        "catalog/audit_detail.html",
        {"entry": entry, "link": object_link(entry)},
    )
