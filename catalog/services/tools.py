"""A tool's life: create, edit, publish, roll back, enable, disable, archive, purge."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from catalog import sandbox_limits
from catalog.definitions.format import (
    content_hash,
    content_of,
    diff,
    name_taken,
    semver_key,
    suggest_version,
)
from catalog.definitions.problems import DefinitionInvalid, FieldError
from catalog.definitions.validation import check_definition
from catalog.models import (
    AuditAction,
    Role,
    RuntimeKind,
    Tenant,
    Tool,
    ToolStatus,
    ToolVersion,
    VersionState,
)
from catalog.permissions import Actor, require_role, require_tool_change, role_of
from catalog.selectors import definition_of, with_content
from catalog.services.audit import audit
from catalog.services.versions import (
    StaleEdit,
    bump_on_commit,
    creation_changes,
    locked,
    make_current,
    resolve_owners,
    save_versions,
    validated,
    version_rows,
)

# -- tools -------------------------------------------------------------------------------


@transaction.atomic
def create_tool(
    tenant: Tenant,
    *,
    definition: dict[str, Any],
    actor: Actor,
    reason: str = "",
    ip: str | None = None,
    publish: bool = False,
) -> Tool:
    """A new tool with its first version as a draft (or published at once)."""
    require_role(actor, tenant, Role.EDITOR)
    # Every problem at once: those of the definition, and those it has in this tenant.
    errors, d = check_definition(definition)
    if not isinstance(definition, dict):
        raise DefinitionInvalid(errors)
    errors += problems_in_tenant(tenant, definition)
    if errors or d is None:
        raise DefinitionInvalid(errors)
    owners, _ = resolve_owners(tenant, d["owners"])
    tool = Tool.objects.create(
        tenant=tenant,
        name=d["name"],
        status=d["status"],
        enabled=d["enabled"],
        platform=d["platform"],
        category=d["category"],
        description=d["description"],
    )
    tool.owners.set(owners or ([actor] if actor is not None else []))
    rows = version_rows(
        tool, d, version=definition.get("version") or "1.0.0", parent=None, actor=actor
    )
    save_versions([rows])
    tool.head_version = rows.version
    tool.save(update_fields=["head_version"])
    audit(
        tenant,
        actor=actor,
        action=AuditAction.CREATE,
        obj=tool,
        tool=tool,
        changes=creation_changes(d, rows.version),
        reason=reason,
        ip=ip,
    )
    if publish:
        # Its creator may publish it even when they named other people as its owners.
        _publish(locked(tool), rows.version, actor=actor, reason=reason, ip=ip)
        tool.refresh_from_db()
    bump_on_commit(tenant)
    return tool


def problems_in_tenant(tenant: Tenant, definition: dict[str, Any]) -> list[FieldError]:
    """What keeps a new tool's definition from being saved in this tenant, whatever else
    is wrong with it: a name taken, owners who are not members."""
    errors = []
    name, listed = definition.get("name"), definition.get("owners") or []
    if isinstance(name, str):
        same = Tool.objects.for_tenant(tenant).filter(name__iexact=name).first()
        if same is not None:
            errors.append(FieldError("name", name_taken(name, same.name)))
    usernames = [o for o in listed if isinstance(o, str)] if isinstance(listed, list) else []
    _, unknown = resolve_owners(tenant, usernames)
    if unknown:
        errors.append(
            FieldError("owners", f"no member of this tenant is called {', '.join(unknown)}")
        )
    return errors


def _next_version(tool: Tool, base: ToolVersion, d: dict[str, Any], requested: str | None) -> str:
    existing = list(tool.versions.values_list("version", flat=True))
    if requested:
        if requested in existing:
            raise DefinitionInvalid(
                [FieldError("version", f"{requested} already exists; versions cannot be reused")]
            )
        if semver_key(requested) <= semver_key(base.version):
            raise DefinitionInvalid(
                [FieldError("version", f"must be higher than {base.version}, the version edited")]
            )
        return requested
    highest = max(existing, key=semver_key)
    return suggest_version(highest, definition_of(base, tool_fields=False), d)


@transaction.atomic
def edit_tool(
    tool: Tool,
    *,
    definition: dict[str, Any],
    base_version: ToolVersion,
    actor: Actor,
    reason: str = "",
    ip: str | None = None,
) -> ToolVersion:
    """A new draft version from an edited definition; refused if ``base_version`` is stale."""
    tool = locked(tool)
    require_tool_change(actor, tool)
    if base_version.tool_id != tool.pk:
        raise DefinitionInvalid([FieldError("base_version", "belongs to another tool")])
    if tool.head_version_id != base_version.pk:
        head = with_content(ToolVersion.objects.filter(pk=tool.head_version_id or 0)).get()
        base = with_content(ToolVersion.objects.filter(pk=base_version.pk)).get()
        raise StaleEdit(tool, base, head)
    d = validated({**definition, "name": definition.get("name", tool.name)})
    if d["name"] != tool.name:
        raise DefinitionInvalid([FieldError("name", "cannot be changed by an edit")])
    if content_hash(d) == base_version.content_hash:
        raise DefinitionInvalid(
            [FieldError("", f"nothing changed since version {base_version.version}")]
        )
    base = with_content(ToolVersion.objects.filter(pk=base_version.pk)).get()
    number = _next_version(tool, base, d, definition.get("version"))
    rows = version_rows(tool, d, version=number, parent=base, actor=actor)
    save_versions([rows])
    tool.head_version = rows.version
    tool.save(update_fields=["head_version", "updated_at"])
    audit(
        tool.tenant,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=rows.version,
        tool=tool,
        changes={"version": [base.version, number]}
        | diff(content_of(definition_of(base, tool_fields=False)), content_of(d)),
        reason=reason,
        ip=ip,
    )
    bump_on_commit(tool.tenant)
    return rows.version


@transaction.atomic
def publish_version(
    version: ToolVersion, *, actor: Actor, reason: str = "", ip: str | None = None
) -> ToolVersion:
    """Make a draft the tool's current version."""
    tool = locked(version.tool)
    require_tool_change(actor, tool)
    return _publish(tool, version, actor=actor, reason=reason, ip=ip)


def _publish(
    tool: Tool, version: ToolVersion, *, actor: Actor, reason: str, ip: str | None
) -> ToolVersion:
    version = ToolVersion.objects.get(pk=version.pk)
    if version.state != VersionState.DRAFT:
        raise ValidationError(
            {"version": [f"{version.version} is already published; roll back to it instead"]}
        )
    current = tool.current_version
    if current is not None and semver_key(version.version) < semver_key(current.version):
        raise ValidationError(
            {
                "version": [
                    f"{version.version} is older than the current version {current.version}: "
                    "publishing it would take agents back. Edit the current version instead, "
                    "or discard this draft"
                ]
            }
        )
    require_within_limits(actor, tool, version)
    previous = tool.current_version
    version.state = VersionState.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor
    version.save(update_fields=["state", "published_at", "published_by"])
    make_current(tool, version)
    audit(
        tool.tenant,
        actor=actor,
        action=AuditAction.PUBLISH,
        obj=version,
        tool=tool,
        changes={"current_version": [previous.version if previous else None, version.version]},
        reason=reason,
        ip=ip,
    )
    bump_on_commit(tool.tenant)
    return version


def require_within_limits(actor: Actor, tool: Tool, version: ToolVersion) -> None:
    """What a current version asks of the sandbox must be what the tenant allows. Letting a
    script use the network is an admin's decision (an editor may ask for it in a draft,
    only an admin makes such a version current), and neither the network nor more memory
    than the tenant's admins allow can be made current: such a version stays a draft."""
    errors: dict[str, list[str]] = {}
    label = f"{tool.name} {version.version}"
    script = version.runtime_kind == RuntimeKind.SCRIPT
    limits = sandbox_limits.effective(tool.tenant_id) if script else None
    if limits and version.network_allowed and not limits.network:
        errors["runtime.network"] = [
            f"{label} lets its script use the network, which this tenant's admins have "
            "turned off (Settings → Script limits)"
        ]
    elif version.network_allowed and role_of(actor, tool.tenant) != Role.ADMIN:
        errors["runtime.network"] = [
            f"{label} lets its script use the network, so an admin of this tenant must "
            "publish it (save it as a draft for them)"
        ]
    if limits and version.memory_mb > limits.memory_mb:
        errors["runtime.memory_mb"] = [
            f"{label} asks for {version.memory_mb} MB, more than this tenant allows a run "
            f"({limits.memory_mb} MB, Settings → Script limits): lower its memory limit"
        ]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def rollback_tool(
    tool: Tool, *, to_version: ToolVersion, actor: Actor, reason: str = "", ip: str | None = None
) -> Tool:
    """Point the tool's current version back at an earlier published version."""
    tool = locked(tool)
    require_tool_change(actor, tool)
    to_version = ToolVersion.objects.get(pk=to_version.pk)
    if to_version.tool_id != tool.pk:
        raise ValidationError({"to_version": ["belongs to another tool"]})
    if to_version.state != VersionState.PUBLISHED:
        raise ValidationError({"to_version": [f"{to_version.version} was never published"]})
    if to_version.pk == tool.current_version_id:
        raise ValidationError({"to_version": [f"{to_version.version} is already current"]})
    require_within_limits(actor, tool, to_version)
    previous = with_content(ToolVersion.objects.filter(pk=tool.current_version_id or 0)).get()
    target = with_content(ToolVersion.objects.filter(pk=to_version.pk)).get()
    make_current(tool, target)
    audit(
        tool.tenant,
        actor=actor,
        action=AuditAction.ROLLBACK,
        obj=target,
        tool=tool,
        changes={"current_version": [previous.version, target.version]}
        | diff(
            content_of(definition_of(previous, tool_fields=False)),
            content_of(definition_of(target, tool_fields=False)),
        ),
        reason=reason,
        ip=ip,
    )
    bump_on_commit(tool.tenant)
    return tool


@transaction.atomic
def discard_draft(
    version: ToolVersion, *, actor: Actor, reason: str = "", ip: str | None = None
) -> None:
    """Delete a draft that was never published; the head goes back to the current version."""
    tool = locked(version.tool)
    require_tool_change(actor, tool)
    if version.state != VersionState.DRAFT:
        raise ValidationError({"version": ["only drafts can be discarded"]})
    if tool.head_version_id == version.pk:
        parent_id = version.parent_id if version.parent_id else tool.current_version_id
        tool.head_version_id = parent_id or tool.current_version_id
        tool.save(update_fields=["head_version", "updated_at"])
    if tool.head_version_id is None:
        raise ValidationError({"version": ["the only version of a tool cannot be discarded"]})
    audit(
        tool.tenant,
        actor=actor,
        action=AuditAction.DISCARD,
        obj=version,
        tool=tool,
        changes={"version": [version.version, None]},
        reason=reason,
        ip=ip,
    )
    version.delete()
    bump_on_commit(tool.tenant)


def _set_tool_field(
    tool: Tool,
    *,
    field_name: str,
    value: Any,
    action: str,
    role: str,
    actor: Actor,
    reason: str,
    ip: str | None,
) -> Tool:
    """Set one field of a tool. Operators' changes (enable, disable) apply to any tool;
    the others need the right to change this tool (editors: the tools they own)."""
    require_role(actor, tool.tenant, role)
    with transaction.atomic():
        tool = locked(tool)
        if role != Role.OPERATOR:
            require_tool_change(actor, tool)
        old = getattr(tool, field_name)
        if old == value:
            return tool
        setattr(tool, field_name, value)
        tool.save(update_fields=[field_name, "updated_at"])
        shown = {"archived_at": "archived"}.get(field_name, field_name)
        changes = (
            {shown: [old is not None, value is not None]}
            if field_name == "archived_at"
            else {shown: [old, value]}
        )
        audit(
            tool.tenant,
            actor=actor,
            action=action,
            obj=tool,
            tool=tool,
            changes=changes,
            reason=reason,
            ip=ip,
        )
        bump_on_commit(tool.tenant)
    return tool


def enable_tool(tool: Tool, *, actor: Actor, reason: str = "", ip: str | None = None) -> Tool:
    """Let agents use the tool again."""
    return _set_tool_field(
        tool,
        field_name="enabled",
        value=True,
        action=AuditAction.ENABLE,
        role=Role.OPERATOR,
        actor=actor,
        reason=reason,
        ip=ip,
    )


def disable_tool(tool: Tool, *, actor: Actor, reason: str = "", ip: str | None = None) -> Tool:
    """Hide the tool from agents without changing anything else."""
    return _set_tool_field(
        tool,
        field_name="enabled",
        value=False,
        action=AuditAction.DISABLE,
        role=Role.OPERATOR,
        actor=actor,
        reason=reason,
        ip=ip,
    )


def set_tool_status(
    tool: Tool, *, status: str, actor: Actor, reason: str = "", ip: str | None = None
) -> Tool:
    """Move a tool through its lifecycle: active, testing, deprecated, disabled."""
    if status not in ToolStatus.values:
        raise ValidationError({"status": [f"must be one of {', '.join(ToolStatus.values)}"]})
    return _set_tool_field(
        tool,
        field_name="status",
        value=status,
        action=AuditAction.STATUS,
        role=Role.EDITOR,
        actor=actor,
        reason=reason,
        ip=ip,
    )


def deprecate_tool(tool: Tool, *, actor: Actor, reason: str = "", ip: str | None = None) -> Tool:
    """Mark a tool as on its way out; it still runs."""
    return set_tool_status(tool, status=ToolStatus.DEPRECATED, actor=actor, reason=reason, ip=ip)


def archive_tool(tool: Tool, *, actor: Actor, reason: str = "", ip: str | None = None) -> Tool:
    """Delete a tool the recoverable way: hidden everywhere, kept with its history."""
    return _set_tool_field(
        tool,
        field_name="archived_at",
        value=timezone.now(),
        action=AuditAction.ARCHIVE,
        role=Role.EDITOR,
        actor=actor,
        reason=reason,
        ip=ip,
    )


def restore_tool(tool: Tool, *, actor: Actor, reason: str = "", ip: str | None = None) -> Tool:
    """Bring an archived tool back."""
    return _set_tool_field(
        tool,
        field_name="archived_at",
        value=None,
        action=AuditAction.RESTORE,
        role=Role.EDITOR,
        actor=actor,
        reason=reason,
        ip=ip,
    )


@transaction.atomic
def purge_tool(tool: Tool, *, actor: Actor, reason: str = "", ip: str | None = None) -> None:
    """Delete an archived tool and all its versions for good (admins only); audited."""
    require_role(actor, tool.tenant, Role.ADMIN)
    tool = locked(tool)
    if tool.archived_at is None:
        raise ValidationError({"archived": ["archive the tool before purging it"]})
    versions = list(tool.versions.values_list("version", flat=True))
    audit(
        tool.tenant,
        actor=actor,
        action=AuditAction.PURGE,
        obj=tool,
        tool=None,
        changes={"versions": [versions, None]},
        reason=reason,
        ip=ip,
    )
    Tool.objects.filter(pk=tool.pk).update(current_version=None, head_version=None)
    try:
        with transaction.atomic():
            tool.delete()
    except (ProtectedError, RestrictedError) as kept:
        # Records of runs keep the versions they ran (the telemetry app restricts it).
        raise ValidationError(
            {"archived": ["this tool has a run history, so it stays archived; it cannot be purged"]}
        ) from kept
    bump_on_commit(tool.tenant)
