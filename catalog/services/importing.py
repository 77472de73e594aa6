"""Importing definitions all-or-nothing, with a report of what changes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog.definitions import (
    content_hash,
    content_of,
    diff,
    normalize,
    semver_key,
    suggest_version,
)
from catalog.models import (
    AuditAction,
    AuditLog,
    Role,
    Tenant,
    Tool,
    ToolVersion,
    VersionState,
)
from catalog.selectors import definition_of, with_content
from catalog.services.base import (
    Actor,
    audit,
    bump_on_commit,
    replace_tags,
    require_role,
    resolve_owners,
    save_versions,
    version_rows,
)
from catalog.transfer import Problem, Source
from catalog.validation import validate_definition

# -- import ------------------------------------------------------------------------------


@dataclass
class ImportItem:
    """What an import does to one tool: new, changed or unchanged."""

    name: str
    source: str
    action: str
    version: str
    previous_version: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "action": self.action,
            "version": self.version,
            "previous_version": self.previous_version,
            "changes": self.changes,
        }


@dataclass
class ImportReport:
    items: list[ImportItem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, action: str) -> int:
        return sum(1 for item in self.items if item.action == action)

    def summary(self) -> str:
        return (
            f"{self.count('new')} new, {self.count('changed')} changed, "
            f"{self.count('unchanged')} unchanged, {len(self.problems)} problem(s)"
        )


class ImportFailed(Exception):
    """An import with problems; nothing was changed."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        super().__init__(f"Import refused, nothing changed: {report.summary()}")


@dataclass
class _Planned:
    source: Source
    d: dict[str, Any]
    tool: Tool | None
    item: ImportItem
    new_version: str | None = None  # a version to create and make current
    switch_to: int | None = None  # an existing version id to make current
    tool_changes: dict[str, Any] = field(default_factory=dict)


def import_definitions(
    tenant: Tenant,
    sources: list[Source],
    *,
    actor: Actor,
    reason: str = "",
    ip: str | None = None,
    dry_run: bool = False,
    problems: Iterable[Problem] = (),
) -> ImportReport:
    """Apply definitions all-or-nothing: every problem is reported before anything changes.

    The same content is left alone; changed content becomes a new published version.
    With ``dry_run`` the report says what would happen and nothing is written.
    Raises ImportFailed (nothing changed) when any definition has a problem.
    """
    require_role(actor, tenant, Role.EDITOR)
    report = ImportReport(problems=list(problems), dry_run=dry_run)
    checked = _check_sources(sources, report)
    with transaction.atomic():
        plans = _plan_import(tenant, checked, report)
        if not report.ok:
            if dry_run:
                return report
            raise ImportFailed(report)
        if not dry_run:
            _apply_import(tenant, plans, actor=actor, reason=reason, ip=ip)
    return report


def _check_sources(sources: list[Source], report: ImportReport) -> list[tuple[Source, dict]]:
    checked = []
    seen: dict[str, str] = {}
    for source in sources:
        errors = validate_definition(source.data)
        report.problems.extend(Problem(source.label, e.path, e.message) for e in errors)
        if errors:
            continue
        d = normalize(source.data)
        if d["name"] in seen:
            report.problems.append(
                Problem(source.label, "name", f"'{d['name']}' is also defined in {seen[d['name']]}")
            )
            continue
        seen[d["name"]] = source.label
        checked.append((source, d))
    return checked


def _plan_import(
    tenant: Tenant, checked: list[tuple[Source, dict]], report: ImportReport
) -> list[_Planned]:
    names = [d["name"] for _, d in checked]
    existing = {
        tool.name: tool
        for tool in Tool.objects.for_tenant(tenant)
        .filter(name__in=names)
        .select_related("current_version")
        .prefetch_related("owners")
        .select_for_update(of=("self",))
    }
    versions: dict[int, dict[str, tuple[int, str, str]]] = {}
    for row in ToolVersion.objects.filter(tool__in=existing.values()).values_list(
        "tool_id", "version", "id", "content_hash", "state"
    ):
        versions.setdefault(row[0], {})[row[1]] = row[2:]
    owner_names = {name for _, d in checked for name in d["owners"]}
    owners = {u.get_username(): u for u in resolve_owners(tenant, owner_names)[0]}
    plans = []
    for source, d in checked:
        for unknown in sorted(set(d["owners"]) - set(owners)):
            report.warnings.append(
                Problem(source.label, "owners", f"no member called '{unknown}'; left out")
            )
        d["owners"] = sorted(set(d["owners"]) & set(owners))
        tool = existing.get(d["name"])
        plan = (
            _plan_new(source, d)
            if tool is None
            else _plan_existing(source, d, tool, versions.get(tool.pk, {}), report)
        )
        if plan is not None:
            plans.append(plan)
            report.items.append(plan.item)
    return plans


def _plan_new(source: Source, d: dict[str, Any]) -> _Planned:
    number = source.data.get("version") or "1.0.0"
    return _Planned(
        source,
        d,
        None,
        ImportItem(d["name"], source.label, "new", number),
        new_version=number,
    )


def _plan_existing(
    source: Source,
    d: dict[str, Any],
    tool: Tool,
    known: dict[str, tuple[int, str, str]],
    report: ImportReport,
) -> _Planned | None:
    current = tool.current_version
    digest = content_hash(d)
    requested = source.data.get("version")
    item = ImportItem(
        d["name"],
        source.label,
        "unchanged",
        current.version if current else "",
        previous_version=current.version if current else None,
    )
    plan = _Planned(source, d, tool, item)
    if requested and requested in known:
        version_id, known_hash, _state = known[requested]
        if known_hash != digest:
            report.problems.append(
                Problem(
                    source.label,
                    "version",
                    f"{requested} already exists with different content; "
                    "give the changed definition a new version",
                )
            )
            return None
        if current is None or version_id != current.pk:
            plan.switch_to = version_id
            item.version = requested
    elif current is None or digest != current.content_hash or requested:
        plan.new_version = requested or suggest_version(
            max(known, key=semver_key), _current_content(tool), d
        )
        item.version = plan.new_version
    if current is not None and (plan.new_version or plan.switch_to):
        item.changes = diff(content_of(_current_content(tool)), content_of(d))
        item.changes["version"] = [current.version, item.version]
    plan.tool_changes = _tool_field_changes(tool, d)
    item.changes.update(plan.tool_changes)
    if plan.new_version or plan.switch_to or plan.tool_changes:
        item.action = "changed"
    return plan


def _current_content(tool: Tool) -> dict[str, Any]:
    cached = getattr(tool, "_current_definition", None)
    if cached is None:
        version = with_content(ToolVersion.objects.filter(pk=tool.current_version_id or 0)).get()
        cached = normalize(definition_of(version, tool_fields=False))
        tool._current_definition = cached  # type: ignore[attr-defined]
    return cached


def _tool_field_changes(tool: Tool, d: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if tool.status != d["status"]:
        changes["status"] = [tool.status, d["status"]]
    if tool.enabled != d["enabled"]:
        changes["enabled"] = [tool.enabled, d["enabled"]]
    if tool.is_archived != d["archived"]:
        changes["archived"] = [tool.is_archived, d["archived"]]
    owners = sorted(u.get_username() for u in tool.owners.all())
    if d["owners"] and owners != d["owners"]:
        changes["owners"] = [owners, d["owners"]]
    return changes


def _apply_import(
    tenant: Tenant, plans: list[_Planned], *, actor: Actor, reason: str, ip: str | None
) -> None:
    now = timezone.now()
    new_tools = [
        Tool(
            tenant=tenant,
            name=p.d["name"],
            status=p.d["status"],
            enabled=p.d["enabled"],
            archived_at=now if p.d["archived"] else None,
        )
        for p in plans
        if p.tool is None
    ]
    Tool.objects.bulk_create(new_tools, batch_size=1000)
    fresh = iter(new_tools)
    for p in plans:
        if p.tool is None:
            p.tool = next(fresh)
            p.tool._new = True  # type: ignore[attr-defined]
    rows = [
        version_rows(p.tool, p.d, version=p.new_version, parent=p.tool.current_version, actor=actor)
        for p in plans
        if p.new_version and p.tool is not None
    ]
    for r in rows:
        r.version.state = VersionState.PUBLISHED
        r.version.published_at = now
        r.version.published_by = actor
    save_versions(rows)
    created = {r.version.tool.pk: r.version for r in rows}
    switched = {
        v.pk: v
        for v in ToolVersion.objects.filter(pk__in=[p.switch_to for p in plans if p.switch_to])
    }
    touched, audits, owner_sets = [], [], []
    for p in plans:
        tool = p.tool
        assert tool is not None
        target = created.get(tool.pk) or switched.get(p.switch_to)  # type: ignore[arg-type]
        if target is None and not p.tool_changes:
            continue
        if target is not None:
            tool.current_version = tool.head_version = target
            tool.platform, tool.category = target.platform, target.category
            tool.description = target.description
        tool.status, tool.enabled = p.d["status"], p.d["enabled"]
        if p.d["archived"] != tool.is_archived:
            tool.archived_at = now if p.d["archived"] else None
        tool.updated_at = now
        touched.append(tool)
        if getattr(tool, "_new", False) or "owners" in p.tool_changes:
            owner_sets.append((tool, p.d["owners"]))
        changes = p.item.changes
        if getattr(tool, "_new", False):
            changes = {key: [None, value] for key, value in content_of(p.d).items()}
            changes["version"] = [None, p.item.version]
        audits.append(
            audit(
                tenant,
                actor=actor,
                action=AuditAction.IMPORT,
                obj=tool,
                tool=tool,
                changes=changes,
                reason=reason or f"import from {p.source.label}",
                ip=ip,
                save=False,
            )
        )
    Tool.objects.bulk_update(
        touched,
        [
            "current_version",
            "head_version",
            "platform",
            "category",
            "description",
            "status",
            "enabled",
            "archived_at",
            "updated_at",
        ],
        batch_size=500,
    )
    tags = {t.pk: t.current_version.tags for t in touched if t.current_version is not None}
    replace_tags([t for t in touched if t.pk in tags], tags)
    _set_owners(owner_sets, tenant, actor)
    AuditLog.objects.bulk_create(audits, batch_size=1000)
    if touched:
        bump_on_commit(tenant)


def _set_owners(owner_sets: list[tuple[Tool, list[str]]], tenant: Tenant, actor: Actor) -> None:
    names = {name for _, owners in owner_sets for name in owners}
    users = {u.get_username(): u for u in resolve_owners(tenant, names)[0]}
    through = Tool.owners.through
    through.objects.filter(tool__in=[t for t, _ in owner_sets]).delete()
    links: list[Any] = []
    for tool, owners in owner_sets:
        chosen = [users[n] for n in owners] or ([actor] if actor is not None else [])
        links.extend(through(tool_id=tool.pk, user_id=u.pk) for u in chosen)
    through.objects.bulk_create(links, batch_size=1000)
