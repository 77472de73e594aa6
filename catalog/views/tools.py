"""The tool list: live search, filters, sorting and pages; bulk actions; export."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import push_url

from catalog import services
from catalog.accounts.guards import client_ip, role_required
from catalog.accounts.tenancy import TenantRequest
from catalog.filtersets import ARCHIVED_CHOICES, ENABLED_CHOICES, ToolFilterSet, tag_names
from catalog.models import Platform, Role, Tenant, Tool, ToolStatus
from catalog.selectors import export_definitions
from catalog.views.tool_list import (
    BULK_ACTIONS,
    BulkAction,
    BulkForm,
    ExportForm,
    PageForm,
    actions_for,
    export_chunks,
    page_of,
    sort_columns,
    valid_query,
)


@require_GET
@role_required()
def tool_list(request: TenantRequest) -> HttpResponse:
    filters = ToolFilterSet(request.GET, tenant=request.tenant)
    page = page_of(filters.qs, PageForm(request.GET))
    query = valid_query(filters)
    context = {
        "page_obj": page,
        "query": query.urlencode(),
        "ordering": query.get("ordering", ""),
        "columns": sort_columns(query),
        "filtered": any(key != "ordering" for key in query),
    }
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, "catalog/tool_list.html#tool-rows", context)
        # The address bar shows the filters in use, not every empty field of the form.
        push_url(response, _list_url(_with_page(query.urlencode(), page.number)))
    else:
        context.update(
            values=query.dict(),
            platforms=Platform.choices,
            categories=filters.filters["category"].extra["choices"],
            statuses=ToolStatus.choices,
            enabled_choices=ENABLED_CHOICES,
            archived_choices=ARCHIVED_CHOICES,
            tags=tag_names(request.tenant),
            bulk_actions=actions_for(request.role),
        )
        response = render(request, "catalog/tool_list.html", context)
    # The same URL answers with a fragment or a page: caches must tell them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_POST
@role_required()
def tool_bulk(request: TenantRequest) -> HttpResponseBase:
    form = BulkForm(request.POST)
    form.is_valid()
    action = BULK_ACTIONS.get(form.cleaned_data.get("action", ""))
    if action is not None and Role.rank(request.role) < Role.rank(action.role):
        raise PermissionDenied(f"{action.label} needs the {action.role} role.")
    back = _list_url(form.cleaned_data.get("back", ""))
    if action is None or {"name", "back"} & form.errors.keys():
        for errors in form.errors.values():
            messages.error(request, str(errors[0]))
        return redirect(back)
    names = form.cleaned_data["name"]
    tools = Tool.objects.for_tenant(request.tenant).filter(name__in=names)
    if not tools.exists():
        messages.error(request, "None of the selected tools exist here any more.")
        return redirect(back)
    if action.export_format:
        return _download(request.tenant, tools, action.export_format)
    if not form.cleaned_data.get("confirm") or form.errors:
        return _confirmation(request, form, action, tools, back)
    assert action.change is not None
    try:
        outcome = services.change_states(
            action.change,
            tools,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            ip=client_ip(request),
        )
    except PermissionDenied as refused:
        # One tool the user may not change (another editor's) stops the whole batch.
        messages.error(request, f"Nothing was changed: {refused}")
        return redirect(back)
    messages.success(request, outcome.message(action.change))
    return redirect(back)


@require_GET
@role_required()
def tool_export(request: TenantRequest) -> HttpResponseBase:
    form = ExportForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("; ".join(str(e[0]) for e in form.errors.values()))
    names = form.cleaned_data["name"]
    if names:
        tools = Tool.objects.for_tenant(request.tenant).filter(name__in=names)
    else:
        tools = ToolFilterSet(request.GET, tenant=request.tenant).qs
    return _download(request.tenant, tools, form.cleaned_data["format"] or "yaml")


def _confirmation(
    request: TenantRequest, form: BulkForm, action: BulkAction, tools: QuerySet[Tool], back: str
) -> HttpResponse:
    """What the action will do, tool by tool, with a reason field and a confirm button."""
    change = action.change
    assert change is not None
    chosen = list(tools.only("name", "enabled", "status", "description").order_by("name"))
    found = {tool.name for tool in chosen}
    to_change = [tool for tool in chosen if not change.holds(tool)]
    context = {
        "form": form,
        "action": change,
        "consequence": change.consequence[len(to_change) != 1],
        "to_change": to_change,
        "already": [tool for tool in chosen if change.holds(tool)],
        "missing": [name for name in form.cleaned_data["name"] if name not in found],
        "back": back,
        "back_query": form.cleaned_data.get("back", ""),
    }
    return render(request, "catalog/tool_bulk_confirm.html", context)


def _download(tenant: Tenant, tools: QuerySet[Tool], fmt: str) -> StreamingHttpResponse:
    """The tools' current definitions as one YAML or JSON file, written as it is read."""
    content_type = "application/json" if fmt == "json" else "application/yaml"
    response = StreamingHttpResponse(
        export_chunks(export_definitions(tenant, tools), fmt),
        content_type=f"{content_type}; charset=utf-8",
    )
    filename = f"quiver-{tenant.slug}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _with_page(query: str, number: int) -> str:
    if number == 1:
        return query
    return f"{query}&page={number}" if query else f"page={number}"


def _list_url(query: str) -> str:
    url = reverse("catalog:tool_list")
    return f"{url}?{query}" if query else url
