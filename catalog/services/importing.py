"""Importing definitions all-or-nothing, with a report of what changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from catalog.definitions.format import (
    content_hash,
    content_of,
    diff,
    name_taken,
    normalize,
    semver_key,
    suggest_version,
)
from catalog.definitions.validation import check_definition
from catalog.formats.files import Problem, Source
from catalog.models import (
    AuditAction,
    AuditLog,
    Role,
    Tenant,
    Tool,
    ToolTag,
    ToolVersion,
    VersionState,
)
from catalog.permissions import Actor, may_change_tool, require_role, role_of
from catalog.selectors import definition_of, with_content
from catalog.services.audit import audit
from catalog.services.versions import (
    bump_on_commit,
    creation_changes,
    make_current,
    replace_tags,
    resolve_owners,
    save_versions,
    version_rows,
)

# -- import ------------------------------------------------------------------------------

# Told how far an import has got: (stage, done, total), stage one of "checking",
# "comparing" or "writing". The web wizard shows it as a progress bar.
Progress = Callable[[str, int, int], None]
WRITE_BATCH = 500  # tools written per round of bulk inserts; progress advances per round


@dataclass
class ImportItem:
    """What an import does to one tool: new, changed, unchanged, or refused (it has a
    problem); ``note`` says anything a person should know, such as a version chosen."""

    name: str
    source: str
    action: str
    version: str
    previous_version: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "action": self.action,
            "version": self.version,
            "previous_version": self.previous_version,
            "changes": self.changes,
            "note": self.note,
        }


@dataclass
class ImportReport:
    """``problems`` refuse the whole import; in a partial import they are ``refused``
    instead: those tools are left out and the others imported."""

    items: list[ImportItem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    partial: bool = False
    renamed: dict[str, str] = field(default_factory=dict)  # source label → why renamed

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, action: str) -> int:
        return sum(1 for item in self.items if item.action == action)

    def summary(self) -> str:
        left_out = f", {self.count('refused')} left out" if self.partial else ""
        return (
            f"{self.count('new')} new, {self.count('changed')} changed, "
            f"{self.count('unchanged')} unchanged{left_out}, {len(self.problems)} problem(s)"
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
    digest: str = ""  # content hash of d, computed once


def import_definitions(
    tenant: Tenant,
    sources: list[Source],
    *,
    actor: Actor,
    reason: str = "",
    ip: str | None = None,
    dry_run: bool = False,
    problems: Iterable[Problem] = (),
    progress: Progress | None = None,
    partial: bool = False,
) -> ImportReport:
    """Apply definitions all-or-nothing: every problem is reported before anything changes.

    The same content is left alone; changed content becomes a new published version.
    With ``dry_run`` the report says what would happen and nothing is written.
    Raises ImportFailed (nothing changed) when any definition has a problem, unless
    ``partial`` was asked for: then the tools with problems are left out (``refused``)
    and the others imported. ``progress``, if given, is called as the stages advance.
    """
    require_role(actor, tenant, Role.EDITOR)
    report = ImportReport(problems=list(problems), dry_run=dry_run, partial=partial)
    _refused_items(report.problems, report)
    tell = progress or _silent
    taken = {
        name.lower(): name
        for name in Tool.objects.for_tenant(tenant).values_list("name", flat=True)
    }
    checked = _check_sources(sources, report, tell, taken)
    with transaction.atomic():
        tell("comparing", 0, len(checked))
        plans = _plan_import(tenant, checked, report)
        _refuse_unowned(plans, actor, role_of(actor, tenant), report)
        if partial:
            plans = _leave_out_refused(plans, report)
        if not report.ok:
            if dry_run:
                return report
            raise ImportFailed(report)
        if not dry_run:
            _apply_import(tenant, plans, actor=actor, reason=reason, ip=ip, progress=tell)
    return report


def _silent(stage: str, done: int, total: int) -> None:
    pass


def _refused_items(problems: list[Problem], report: ImportReport) -> None:
    """Tools refused before they could be read stay in the list, marked refused."""
    listed = {(item.source, item.name) for item in report.items}
    for problem in problems:
        if problem.tool and (problem.file, problem.tool) not in listed:
            listed.add((problem.file, problem.tool))
            report.items.append(ImportItem(problem.tool, problem.file, "refused", ""))


def _check_sources(
    sources: list[Source], report: ImportReport, progress: Progress, taken: dict[str, str]
) -> list[tuple[Source, dict]]:
    """Each definition checked; names compared ignoring case with the others and with
    the tools in ``taken`` (lower-cased name → name)."""
    checked = []
    seen: dict[str, tuple[str, str]] = {}  # lower-cased name → (name, label of its source)
    for number, source in enumerate(sources):
        progress("checking", number, len(sources))
        report.warnings.extend(source.notes)  # what reading a foreign format changed
        errors, d = check_definition(source.data)
        found = [Problem(source.label, e.path, e.message, source.tool) for e in errors]
        if d is not None:
            found += _claim_name(source, d, seen, taken, report)
        if found:
            report.problems.extend(found)
            version = source.data.get("version") if isinstance(source.data, dict) else None
            name = source.tool or "(no name)"
            report.items.append(ImportItem(name, source.label, "refused", str(version or "")))
            continue
        assert d is not None
        seen[d["name"].lower()] = (d["name"], source.label)
        checked.append((source, d))
    progress("checking", len(sources), len(sources))
    return checked


def _claim_name(
    source: Source,
    d: dict[str, Any],
    seen: dict[str, tuple[str, str]],
    taken: dict[str, str],
    report: ImportReport,
) -> list[Problem]:
    """Names are unique ignoring case. A tool read from another system's format whose
    name is used already gets the first free suffix (``_2``, ``_3``...), reported; for
    Quiver's own definitions, where the name is the tool's identity, it is a problem."""
    name = d["name"]
    other_name, other = seen.get(name.lower(), ("", None))
    existing = taken.get(name.lower())
    if other is None and existing in (None, name):
        return []
    if not source.fmt:
        if other is None:
            return [Problem(source.label, "name", name_taken(name, existing or ""), name)]
        if other_name == name:
            return [Problem(source.label, "name", f"'{name}' is also defined in {other}", name)]
        message = f"'{name}' differs only in case from '{other_name}' in {other}"
        return [Problem(source.label, "name", message + ": names must differ in more", name)]
    for number in range(2, 10_000):
        suffix = f"_{number}"
        candidate = name[: 64 - len(suffix)] + suffix
        if candidate.lower() not in seen and taken.get(candidate.lower()) in (None, candidate):
            break
    if other is not None:
        why = f"{other} is called '{other_name}' already"
    else:
        why = f"the tool '{existing}' exists already"
    message = (
        f"'{name}' was imported as '{candidate}': {why}, and names must differ in more than case"
    )
    report.warnings.append(Problem(source.label, "name", message, candidate))
    report.renamed[source.label] = message
    d["name"] = candidate
    return []


def _plan_import(
    tenant: Tenant, checked: list[tuple[Source, dict]], report: ImportReport
) -> list[_Planned]:
    names = [d["name"] for _, d in checked]
    digests = {d["name"]: content_hash(d) for _, d in checked}
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
    # The current content of every tool about to change, for diffs and version bumps.
    # (A tool never published is compared with its newest draft.)
    contents = _current_contents(
        [
            tool.current_version_id or tool.head_version_id
            for source, d in checked
            if (tool := existing.get(d["name"])) is not None
            and (
                tool.current_version is None
                or tool.current_version.content_hash != digests[d["name"]]
                or source.data.get("version") not in (None, tool.current_version.version)
            )
        ]
    )
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
        digest = digests[d["name"]]
        plan = (
            _plan_new(source, d, digest)
            if tool is None
            else _plan_existing(source, d, digest, tool, versions.get(tool.pk, {}), contents)
        )
        # A name rewritten or suffixed is said next to the tool, not only among the warnings.
        renamed = [n.message for n in source.notes if n.path == "name"]
        renamed += [report.renamed[source.label]] if source.label in report.renamed else []
        if renamed and not plan.item.note:
            plan.item.note = "; ".join(renamed)
        plans.append(plan)
        report.items.append(plan.item)
    return plans


def _refuse_unowned(
    plans: list[_Planned], actor: Actor, role: str | None, report: ImportReport
) -> None:
    """Editors change only the tools they own (or that nobody owns), by import too."""
    for plan in plans:
        tool = plan.tool
        if tool is None or plan.item.action != "changed":
            continue
        if not may_change_tool(actor, tool, role=role):
            owners = ", ".join(sorted(u.get_username() for u in tool.owners.all()))
            report.problems.append(
                Problem(
                    plan.source.label,
                    "name",
                    f"'{tool.name}' belongs to {owners}; only its owners or an admin may change it",
                    tool.name,
                )
            )


def _leave_out_refused(plans: list[_Planned], report: ImportReport) -> list[_Planned]:
    """A partial import: every tool with a problem is left out, and its problems are
    reported as refusals instead of refusing the whole import."""
    refused = {(p.file, p.tool) for p in report.problems}
    kept = []
    for plan in plans:
        if (plan.source.label, plan.item.name) in refused:
            plan.item.action = "refused"
        else:
            kept.append(plan)
    report.refused, report.problems = report.problems, []
    return kept


def _plan_new(source: Source, d: dict[str, Any], digest: str) -> _Planned:
    number = source.data.get("version") or "1.0.0"
    return _Planned(
        source,
        d,
        None,
        ImportItem(d["name"], source.label, "new", number),
        new_version=number,
        digest=digest,
    )


def _plan_existing(
    source: Source,
    d: dict[str, Any],
    digest: str,
    tool: Tool,
    known: dict[str, tuple[int, str, str]],
    contents: dict[int, dict[str, Any]],
) -> _Planned:
    current = tool.current_version
    requested = source.data.get("version")
    item = ImportItem(
        d["name"],
        source.label,
        "unchanged",
        current.version if current else "",
        previous_version=current.version if current else None,
    )
    plan = _Planned(source, d, tool, item, digest=digest)
    if requested and requested in known and known[requested][1] != digest:
        # An edited export: it still carries the version it was exported at. It becomes
        # the next version, as an edit in the editor would.
        plan.new_version = suggest_version(max(known, key=semver_key), contents.get(tool.pk, {}), d)
        item.version = plan.new_version
        item.note = (
            f"will be saved as {plan.new_version} (your file said {requested}, "
            "which already exists with other content)"
        )
    elif requested and requested in known:
        version_id, _hash, _state = known[requested]
        if current is None or version_id != current.pk:
            plan.switch_to = version_id
            item.version = requested
    elif current is None or digest != current.content_hash or requested:
        plan.new_version = requested or suggest_version(
            max(known, key=semver_key), contents.get(tool.pk, {}), d
        )
        item.version = plan.new_version
    if current is not None and (plan.new_version or plan.switch_to):
        item.changes = diff(content_of(contents[tool.pk]), content_of(d))
        item.changes["version"] = [current.version, item.version]
    plan.tool_changes = _tool_field_changes(tool, d)
    item.changes.update(plan.tool_changes)
    if plan.new_version or plan.switch_to or plan.tool_changes:
        item.action = "changed"
    return plan


def _current_contents(version_ids: list[int | None]) -> dict[int, dict[str, Any]]:
    """Normalized definitions of these versions by tool id, loaded in batches."""
    ids = [pk for pk in version_ids if pk is not None]
    contents = {}
    for start in range(0, len(ids), 500):
        batch = ToolVersion.objects.filter(pk__in=ids[start : start + 500]).select_related("tool")
        for version in with_content(batch):
            contents[version.tool_id] = normalize(definition_of(version, tool_fields=False))
    return contents


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
    tenant: Tenant,
    plans: list[_Planned],
    *,
    actor: Actor,
    reason: str,
    ip: str | None,
    progress: Progress,
) -> None:
    """Write the plans in rounds of bulk inserts, so that progress can be told."""
    now = timezone.now()
    written = False
    for start in range(0, len(plans), WRITE_BATCH):
        progress("writing", start, len(plans))
        batch = plans[start : start + WRITE_BATCH]
        written |= _write_batch(tenant, batch, actor=actor, reason=reason, ip=ip, now=now)
    progress("writing", len(plans), len(plans))
    if written:
        bump_on_commit(tenant)


def _write_batch(
    tenant: Tenant,
    plans: list[_Planned],
    *,
    actor: Actor,
    reason: str,
    ip: str | None,
    now: Any,
) -> bool:
    """Write one round of plans; returns whether anything changed (an audit row)."""
    new_tools = [
        Tool(
            tenant=tenant,
            name=p.d["name"],
            status=p.d["status"],
            enabled=p.d["enabled"],
            archived_at=now if p.d["archived"] else None,
            platform=p.d["platform"],
            category=p.d["category"],
            description=p.d["description"],
        )
        for p in plans
        if p.tool is None
    ]
    Tool.objects.bulk_create(new_tools, batch_size=1000)
    fresh = iter(new_tools)
    for p in plans:
        if p.tool is None:
            p.tool = next(fresh)
    rows = [
        version_rows(
            p.tool,
            p.d,
            version=p.new_version,
            parent=p.tool.current_version,
            actor=actor,
            digest=p.digest,
        )
        for p in plans
        if p.new_version and p.tool is not None
    ]
    for r in rows:
        r.version.state = VersionState.PUBLISHED
        r.version.published_at = now
        r.version.published_by = actor
    save_versions(rows)
    new_ids = {t.pk for t in new_tools}
    _point_at_versions([r.version for r in rows if r.version.tool.pk in new_ids], now)
    ToolTag.objects.bulk_create(
        [
            ToolTag(tool_id=r.version.tool.pk, tenant=tenant, name=name)
            for r in rows
            if r.version.tool.pk in new_ids
            for name in r.version.tags
        ],
        batch_size=1000,
    )
    created_versions = {r.version.tool.pk: r.version for r in rows}
    changed = _update_existing_tools(plans, created_versions, now)
    _set_owners(
        [(p.tool, p.d["owners"]) for p in plans if p.tool is not None and p.tool.pk in new_ids]
        + [
            (p.tool, p.d["owners"])
            for p in plans
            if p.tool is not None and "owners" in p.tool_changes
        ],
        tenant,
        actor,
    )
    audits = []
    for p in plans:
        assert p.tool is not None
        if p.tool.pk in new_ids:
            changes = creation_changes(p.d, created_versions[p.tool.pk])
        elif p.tool.pk in changed:
            changes = p.item.changes
        else:
            continue
        audits.append(
            audit(
                tenant,
                actor=actor,
                action=AuditAction.IMPORT,
                obj=p.tool,
                tool=p.tool,
                changes=changes,
                reason=reason or f"import from {p.source.label}",
                ip=ip,
                save=False,
            )
        )
    AuditLog.objects.bulk_create(audits, batch_size=1000)
    return bool(audits)


def _point_at_versions(versions: list[ToolVersion], now: Any) -> None:
    """Make these versions current for their tools and mirror their list fields.

    One UPDATE ... FROM per thousand versions, joined on the version ids: set-based, so
    it stays fast at ten thousand tools where bulk_update's CASE per row, or a
    correlated subquery on fresh tables without statistics, did not.
    """
    tool_table = connection.ops.quote_name(Tool._meta.db_table)
    version_table = connection.ops.quote_name(ToolVersion._meta.db_table)
    ids = [v.pk for v in versions]
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 1000):
            batch = ids[start : start + 1000]
            cursor.execute(
                f"UPDATE {tool_table} SET current_version_id = v.id, head_version_id = v.id, "  # noqa: S608
                "platform = v.platform, category = v.category, description = v.description, "
                f"updated_at = %s FROM {version_table} AS v "
                f"WHERE v.tool_id = {tool_table}.id AND v.id IN ({', '.join(['%s'] * len(batch))})",
                [now, *batch],
            )


def _update_existing_tools(
    plans: list[_Planned], created: dict[int, ToolVersion], now: Any
) -> set[int]:
    """Apply new versions, switches and tool-field changes to tools that existed; returns
    the ids of the tools changed."""
    changed = [(p, p.tool) for p in plans if p.tool is not None and p.item.action == "changed"]
    _point_at_versions([created[t.pk] for _, t in changed if t.pk in created], now)
    for p, tool in changed:
        if p.switch_to:
            make_current(tool, ToolVersion.objects.get(pk=p.switch_to))
    # Tool fields: one UPDATE per distinct combination of values.
    groups: dict[tuple[str, bool, bool], list[int]] = {}
    for p, tool in changed:
        if p.tool_changes:
            key = (p.d["status"], p.d["enabled"], p.d["archived"])
            groups.setdefault(key, []).append(tool.pk)
    for (status, enabled, archived), ids in groups.items():
        tools = Tool.objects.filter(pk__in=ids)
        tools.filter(archived_at__isnull=archived).update(archived_at=now if archived else None)
        tools.update(status=status, enabled=enabled, updated_at=now)
    changed_ids = {t.pk for _, t in changed}
    versions = {pk: v for pk, v in created.items() if pk in changed_ids}
    replace_tags(Tool.objects.filter(pk__in=versions), {pk: v.tags for pk, v in versions.items()})
    return changed_ids


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
