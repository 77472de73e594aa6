"""One tool's page: its definition in words, its versions and their diff, and the verbs
on it (publish, roll back, discard a draft, enable, deprecate, archive, ...)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from catalog import sandbox_limits, services
from catalog.accounts.guards import client_ip, role_required
from catalog.accounts.tenancy import TenantRequest
from catalog.definitions.format import content_of, diff, semver_key
from catalog.display import in_words
from catalog.display.slots import slots_for
from catalog.display.tool_health import tool_warnings
from catalog.formats.files import dump_yaml
from catalog.models import (
    REASON_MAX_LENGTH,
    AuditLog,
    Role,
    Tool,
    ToolVersion,
    VersionState,
)
from catalog.permissions import may_change_tool
from catalog.selectors import definition_of, load_content, versions_of, with_content
from catalog.views.audit import audit_rows

AUDIT_SHOWN = 20
REASON_REQUIRED = "Say why in a few words; it goes into the audit log."

# -- forms -------------------------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=REASON_MAX_LENGTH, required=False)


class RequiredReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH, error_messages={"required": REASON_REQUIRED}
    )


class VersionChoiceForm(forms.Form):
    """A form whose version fields accept only the numbers of the tool's versions."""

    version_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, versions: list[ToolVersion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(v.version, v.version) for v in versions]
        for name in self.version_fields:
            self.fields[name] = forms.ChoiceField(
                choices=choices,
                error_messages={"invalid_choice": "this tool has no version %(value)s"},
            )


class RollbackForm(VersionChoiceForm):
    version_fields = ("to_version",)
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH, error_messages={"required": REASON_REQUIRED}
    )


class CompareForm(VersionChoiceForm):
    version_fields = ("a", "b")


class ShowForm(VersionChoiceForm):
    version_fields = ("version",)


# -- state changes ---------------------------------------------------------------------


class StateForm(forms.Form):
    action = forms.ChoiceField(choices=[(k, c.label) for k, c in services.STATE_CHANGES.items()])
    reason = forms.CharField(max_length=REASON_MAX_LENGTH, required=False)


# -- loading -----------------------------------------------------------------------------


def _tool(request: TenantRequest, name: str) -> Tool:
    tools = Tool.objects.for_tenant(request.tenant).select_related(
        "current_version", "head_version"
    )
    return get_object_or_404(tools, name=name)


def _versions(tool: Tool) -> list[ToolVersion]:
    """The tool's versions, newest first, without their content."""
    return list(
        versions_of(tool).only(
            "version",
            "state",
            "parent_id",
            "tool_id",
            "created_at",
            "published_at",
            "created_by__username",
            "published_by__username",
        )
    )


def _refused(request: TenantRequest, error: ValidationError) -> None:
    messages.error(request, "Nothing was changed: " + " ".join(error.messages))


def _back(tool: Tool) -> HttpResponse:
    return redirect("catalog:tool_detail", name=tool.name)


# -- the page ----------------------------------------------------------------------------


def _detail_page(
    request: TenantRequest,
    tool: Tool,
    *,
    shown: ToolVersion | None = None,
    open_dialog: str = "",
    open_form: forms.Form | None = None,
) -> HttpResponse:
    """The page; ``open_dialog`` names a dialog to show again with ``open_form``'s errors."""
    versions = _versions(tool)
    current, head = tool.current_version, tool.head_version
    shown = shown or current or head
    if shown is not None:
        shown.tool = tool
        load_content([shown])
    pending = head if head is not None and head.state == VersionState.DRAFT else None
    # Editors change only the tools they own (or nobody owns): the services refuse the
    # rest, so their buttons are not offered.
    can_change = may_change_tool(request.user, tool, role=request.role)
    context = {
        "can_change": can_change,
        "tool": tool,
        "shown": shown,
        "current": current,
        "pending": pending,
        "versions": versions,
        "compare": _default_pair(versions, pending or current),
        "owners": sorted(u.get_username() for u in tool.owners.all()),
        "warnings": tool_warnings(shown)
        if shown is not None and shown == (current or head)
        else [],
        "audit_rows": audit_rows(
            AuditLog.objects.filter(tool=tool)
            .select_related("tool")
            .order_by("-created_at", "-id")[:AUDIT_SHOWN]
        ),
        "state_actions": _state_actions(tool, request.role, can_change=can_change),
        "rollback_targets": [
            v
            for v in versions
            if v.state == VersionState.PUBLISHED and current is not None and v.pk != current.pk
        ],
        # Drafts older than the current version cannot be published (the service says why).
        "older_drafts": {
            v.version
            for v in versions
            if v.state == VersionState.DRAFT
            and current is not None
            and semver_key(v.version) < semver_key(current.version)
        },
        "slots": slots_for(tool.name),
        "open_dialog": open_dialog,
        "open_form": open_form,
    }
    if shown is not None:
        context |= _readable(shown, sandbox_limits.effective(request.tenant))
    return render(request, "catalog/tool_detail.html", context)


def _state_actions(tool: Tool, role: str, *, can_change: bool) -> list[dict[str, Any]]:
    """The state changes that apply to the tool now and that ``role`` may make; those
    beyond enabling and disabling only when the person may change this tool."""
    return [
        {"action": c, "does": c.does.format(name=tool.name)}
        for c in services.STATE_CHANGES.values()
        if c.applies(tool) and c.allowed(role) and (c.any_tool or can_change)
    ]


def _default_pair(
    versions: list[ToolVersion], focus: ToolVersion | None
) -> tuple[ToolVersion | None, ToolVersion | None]:
    """The two versions the compare form starts with: ``focus`` (the draft waiting, or the
    current version) and its older neighbour, or its newer one when it is the oldest."""
    if focus is None or len(versions) < 2:
        return None, None
    at = next(i for i, v in enumerate(versions) if v.pk == focus.pk)
    if at + 1 < len(versions):
        return versions[at + 1], focus
    return focus, versions[at - 1]


def _readable(version: ToolVersion, allowed: sandbox_limits.Limits | None = None) -> dict[str, Any]:
    return {
        "parameters": in_words.parameter_rows(version.input_schema),
        "outputs": in_words.parameter_rows(version.output_schema),
        "output_type": in_words.type_in_words(version.output_schema),
        "defaults": in_words.mapping_rows(version.defaults),
        "metadata": in_words.mapping_rows(version.metadata),
        "dependencies": in_words.dependency_rows(version.dependencies),
        "runtime": in_words.runtime_in_words(version, allowed),
        "script_lines": in_words.script_lines(version.script),
        "capabilities": in_words.capability_views(version),
    }


@role_required(Role.VIEWER)
@require_GET
def tool_detail(request: TenantRequest, name: str) -> HttpResponse:
    tool = _tool(request, name)
    shown = None
    if "version" in request.GET:
        versions = list(tool.versions.only("version"))
        form = ShowForm(request.GET, versions=versions)
        if form.is_valid():
            shown = get_object_or_404(tool.versions, version=form.cleaned_data["version"])
    return _detail_page(request, tool, shown=shown)


# -- diff --------------------------------------------------------------------------------


@role_required(Role.VIEWER)
@require_GET
def tool_diff(request: TenantRequest, name: str) -> HttpResponse:
    tool = _tool(request, name)
    versions = _versions(tool)
    form = CompareForm(request.GET or None, versions=versions)
    context: dict[str, Any] = {"tool": tool, "form": form, "versions": versions}
    if form.is_valid():
        numbers = [form.cleaned_data["a"], form.cleaned_data["b"]]
        loaded = {
            v.version: v
            for v in with_content(tool.versions.filter(version__in=numbers).select_related("tool"))
        }
        old, new = (definition_of(loaded[n], tool_fields=False) for n in numbers)
        context |= {
            "a": loaded[numbers[0]],
            "b": loaded[numbers[1]],
            "rows": in_words.side_by_side(dump_yaml([old]), dump_yaml([new])),
            "changes": diff(content_of(old), content_of(new)),
        }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "catalog/tool_diff.html#diff-result", context)
    return render(request, "catalog/tool_diff.html", context)


# -- verbs -------------------------------------------------------------------------------


@role_required(Role.EDITOR)
@require_POST
def version_publish(request: TenantRequest, name: str, version: str) -> HttpResponse:
    tool = _tool(request, name)
    target = get_object_or_404(tool.versions, version=version)
    form = RequiredReasonForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, tool, open_dialog=f"publish-{target.version}", open_form=form)
    try:
        services.publish_version(
            target, actor=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request)
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, f"Version {target.version} of {tool.name} is now current.")
    return _back(tool)


@role_required(Role.EDITOR)
@require_POST
def version_discard(request: TenantRequest, name: str, version: str) -> HttpResponse:
    tool = _tool(request, name)
    target = get_object_or_404(tool.versions, version=version)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was changed: the reason is too long.")
        return _back(tool)
    try:
        services.discard_draft(
            target, actor=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request)
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, f"Draft {target.version} of {tool.name} was discarded.")
    return _back(tool)


@role_required(Role.EDITOR)
@require_POST
def tool_rollback(request: TenantRequest, name: str) -> HttpResponse:
    tool = _tool(request, name)
    form = RollbackForm(request.POST, versions=list(tool.versions.only("version")))
    if "to_version" in form.errors:
        messages.error(
            request, "Nothing was changed: " + " ".join(str(e) for e in form.errors["to_version"])
        )
        return _back(tool)
    if not form.is_valid():
        target = form.cleaned_data["to_version"]
        return _detail_page(request, tool, open_dialog=f"rollback-{target}", open_form=form)
    target = tool.versions.get(version=form.cleaned_data["to_version"])
    try:
        services.rollback_tool(
            tool,
            to_version=target,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            ip=client_ip(request),
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, f"{tool.name} is back at version {target.version}.")
    return _back(tool)


@role_required(Role.OPERATOR)
@require_POST
def tool_state(request: TenantRequest, name: str) -> HttpResponse:
    tool = _tool(request, name)
    form = StateForm(request.POST)
    if "action" in form.errors:
        messages.error(request, "Nothing was changed: that is not something a tool can do.")
        return _back(tool)
    if not form.is_valid():
        key = form.cleaned_data["action"]
        return _detail_page(request, tool, open_dialog=f"state-{key}", open_form=form)
    action = services.STATE_CHANGES[form.cleaned_data["action"]]
    if not action.allowed(request.role):
        raise PermissionDenied(f"{action.label} needs the {action.role} role.")
    if not action.applies(tool):
        messages.info(request, f"Nothing to change: {action.label.lower()} does not apply now.")
        return _back(tool)
    try:
        action.service(
            tool, actor=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request)
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, action.does.format(name=tool.name))
    return _back(tool)
