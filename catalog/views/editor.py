"""The tool editor: creating and editing tools, and the live checks the page calls."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog import services
from catalog.accounts.guards import client_ip, role_required
from catalog.accounts.tenancy import TenantRequest
from catalog.definitions import inference
from catalog.definitions.problems import DefinitionInvalid
from catalog.editor.checks import check_script_text, schema_check_items
from catalog.editor.errors import ErrorItem
from catalog.editor.forms import ExpressionCheckForm, SchemaCheckForm, ScriptForm
from catalog.editor.state import ToolEditor, pattern_block_from_post
from catalog.models import Membership, Role, Tenant, Tool, ToolVersion
from catalog.permissions import may_change_tool
from catalog.selectors import definition_of, with_content

TEMPLATE = "catalog/tool_form.html"
COMMON_CATEGORIES = ["automation", "data", "monitoring", "network", "security", "system", "text"]


@role_required(Role.EDITOR)
def tool_create(request: TenantRequest) -> HttpResponse:
    members = _members(request.tenant)
    if request.method != "POST":
        editor = ToolEditor.from_definition(None, creating=True, members=members)
        return _render(request, editor)
    editor = ToolEditor.from_post(request.POST, creating=True, members=members)
    if editor.is_valid():
        try:
            tool = services.create_tool(
                request.tenant,
                definition=editor.definition(),
                actor=request.user,
                reason=editor.reason,
                ip=client_ip(request),
                publish=editor.action == "publish",
            )
        except ValidationError as exc:
            _add_errors(editor, exc)
        else:
            version = tool.head_version.version if tool.head_version else ""
            if editor.action == "publish":
                messages.success(request, f"Created '{tool.name}' and published version {version}.")
            else:
                messages.success(
                    request,
                    f"Created '{tool.name}' as draft version {version}. "
                    "Publish it when it is ready for agents.",
                )
            return redirect("catalog:tool_detail", name=tool.name)
    else:
        tenant = request.tenant
        editor.add_new_errors(
            editor.other_problems(lambda d: services.problems_in_tenant(tenant, d))
        )
    return _render(request, editor)


@role_required(Role.EDITOR)
def tool_edit(request: TenantRequest, name: str) -> HttpResponse:
    tool = get_object_or_404(Tool.objects.for_tenant(request.tenant), name=name)
    if not may_change_tool(request.user, tool, role=request.role):
        raise PermissionDenied(f"Only the owners of '{tool.name}' or an admin may edit it.")
    if tool.is_archived:
        messages.error(request, f"'{tool.name}' is archived. Restore it before editing it.")
        return redirect("catalog:tool_detail", name=tool.name)
    if request.method != "POST":
        head = with_content(ToolVersion.objects.filter(pk=tool.head_version_id or 0)).get()
        editor = ToolEditor.from_definition(
            definition_of(head), creating=False, base_version=head.version
        )
        return _render(request, editor, tool=tool)
    editor = ToolEditor.from_post(request.POST, creating=False)
    stale = None
    if editor.is_valid():
        try:
            version = _save_edit(request, tool, editor)
        except services.StaleEdit as exc:
            stale = exc
        except ValidationError as exc:
            _add_errors(editor, exc)
        else:
            verb = "Published" if editor.action == "publish" else "Saved draft"
            messages.success(request, f"{verb} version {version.version} of '{tool.name}'.")
            return redirect("catalog:tool_detail", name=tool.name)
    else:
        editor.add_new_errors(editor.other_problems(name=tool.name))
    return _render(request, editor, tool=tool, stale=stale)


def _save_edit(request: TenantRequest, tool: Tool, editor: ToolEditor) -> ToolVersion:
    """A new draft from the editor (published too with "Save and publish"), based on the
    version the page was opened on, or on the newest one when the person chose to put
    theirs on top of someone else's change."""
    data = editor.tool_form.cleaned_data
    base = tool.versions.filter(version=data["base_version"]).first()
    head = tool.head_version
    if data["overwrite_base"] and head is not None and data["overwrite_base"] == head.version:
        base = head
    if base is None:
        raise ValidationError(
            f"The version this page was opened on ({data['base_version'] or 'none'}) no longer "
            "exists. Open the tool again and apply your change to its latest version."
        )
    kwargs: dict[str, Any] = {"actor": request.user, "reason": editor.reason}
    with transaction.atomic():
        version = services.edit_tool(
            tool, definition=editor.definition(), base_version=base, ip=client_ip(request), **kwargs
        )
        if editor.action == "publish":
            services.publish_version(version, ip=client_ip(request), **kwargs)
    return version


def _add_errors(editor: ToolEditor, exc: ValidationError) -> None:
    if isinstance(exc, DefinitionInvalid):
        editor.add_errors(exc.errors)
    else:
        editor.add_validation_error(exc)


def _members(tenant: Tenant) -> list[str]:
    users = Membership.objects.for_tenant(tenant).values_list("user__username", flat=True)
    return sorted(users)


def _render(
    request: TenantRequest,
    editor: ToolEditor,
    *,
    tool: Tool | None = None,
    stale: services.StaleEdit | None = None,
) -> HttpResponse:
    categories = set(COMMON_CATEGORIES) | set(
        Tool.objects.for_tenant(request.tenant).values_list("category", flat=True).distinct()
    )
    context = {
        "editor": editor,
        "form": editor.tool_form,
        "tool": tool,
        "stale": stale,
        "summary": editor.error_summary(),
        "categories": sorted(c for c in categories if c),
    }
    return render(request, TEMPLATE, context)


# -- live checks (htmx) ------------------------------------------------------------------


@require_POST
@role_required(Role.EDITOR)
def check_script(request: TenantRequest) -> HttpResponse:
    form = ScriptForm(request.POST)
    source = form.cleaned_data["script"] if form.is_valid() else ""
    context = {"script_check": check_script_text(source)}
    return render(request, f"{TEMPLATE}#script-check", context)


@require_POST
@role_required(Role.EDITOR)
def infer_inputs(request: TenantRequest) -> HttpResponse:
    form = ScriptForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"error": "The script is too long to read."})
    try:
        found = inference.infer_input_schema(form.cleaned_data["script"])
    except inference.InferenceError as exc:
        return JsonResponse({"error": str(exc)})
    return JsonResponse(
        {"schema": found.schema, "signature": found.signature, "notes": found.notes}
    )


@require_POST
@role_required(Role.EDITOR)
def check_expression(request: TenantRequest) -> HttpResponse:
    form = ExpressionCheckForm({"target": request.htmx.trigger_name or ""})
    check = None
    if form.is_valid():
        target = form.cleaned_data["target"]
        block = pattern_block_from_post(request.POST, target)
        check = block.cost_check if target.endswith("cost_estimate") else block.time_check
    return render(request, f"{TEMPLATE}#expression-value", {"check": check})


@require_POST
@role_required(Role.EDITOR)
def check_schema(request: TenantRequest) -> HttpResponse:
    form = SchemaCheckForm(request.POST)
    which = "output_schema" if "output_schema" in request.POST else "input_schema"
    if form.is_valid():
        items = schema_check_items(form.cleaned_data[which])
    else:
        items = [ErrorItem("", "This schema is too long to check.")]
    return render(request, f"{TEMPLATE}#schema-check", {"schema_check": {"problems": items}})
