"""What the services that write tools and their versions share: a stale edit, locking a
tool, building and saving version rows, making a version current, tags and owners."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from catalog import revision
from catalog.definitions.format import (
    content_hash,
    content_of,
    diff,
)
from catalog.definitions.problems import DefinitionInvalid
from catalog.definitions.validation import check_definition
from catalog.models import (
    Capability,
    Pattern,
    Tenant,
    Tool,
    ToolTag,
    ToolVersion,
    VersionState,
)
from catalog.permissions import Actor
from catalog.selectors import definition_of

User = get_user_model()


class StaleEdit(Exception):
    """An edit based on a version that is no longer the tool's head."""

    def __init__(self, tool: Tool, base: ToolVersion, head: ToolVersion) -> None:
        self.tool, self.base, self.head = tool, base, head
        self.changed_by = head.created_by.get_username() if head.created_by else "the system"
        if head.state == VersionState.PUBLISHED and head.published_by:
            self.changed_by = head.published_by.get_username()
        self.changes = diff(
            content_of(definition_of(base, tool_fields=False)),
            content_of(definition_of(head, tool_fields=False)),
        )
        fields = ", ".join(sorted({path.split(".")[0].split("[")[0] for path in self.changes}))
        when = timezone.localtime(head.published_at or head.created_at).strftime("%Y-%m-%d %H:%M")
        super().__init__(
            f"'{tool.name}' was changed by {self.changed_by} at {when} since you opened "
            f"version {base.version}: it is now at version {head.version}"
            + (f" (changed: {fields})" if fields else "")
            + ". Reload to see their change, then apply yours again."
        )


def creation_changes(d: dict[str, Any], version: ToolVersion) -> dict[str, Any]:
    """What a new tool's audit row records: its identity and version. The full content
    is kept, immutable, in the version the row names by number and hash."""
    return {
        "version": [None, version.version],
        "content_hash": [None, version.content_hash],
        "platform": [None, d["platform"]],
        "category": [None, d["category"]],
        "description": [None, d["description"]],
    }


def bump_on_commit(tenant: Tenant) -> None:
    transaction.on_commit(lambda: revision.bump(tenant.pk))


def locked(tool: Tool) -> Tool:
    return Tool.objects.select_for_update().get(pk=tool.pk)


# -- building versions from definitions ------------------------------------------------


@dataclass
class VersionRows:
    version: ToolVersion
    capabilities: list[tuple[Capability, list[Pattern]]] = field(default_factory=list)


def version_rows(
    tool: Tool,
    d: dict[str, Any],
    *,
    version: str,
    parent: ToolVersion | None,
    actor: Actor,
    digest: str = "",
) -> VersionRows:
    """Unsaved rows of a version; ``digest`` is the content hash when already known."""
    runtime = d["runtime"]
    rows = VersionRows(
        ToolVersion(
            tool=tool,
            version=version,
            parent=parent,
            description=d["description"],
            platform=d["platform"],
            category=d["category"],
            input_schema=d["input_schema"],
            output_schema=d["output_schema"],
            defaults=d["defaults"],
            dependencies=d["dependencies"],
            metadata=d["metadata"],
            tags=d["tags"],
            runtime_kind=runtime["kind"],
            callable_name=runtime.get("callable", ""),
            script=d["script"],
            timeout_s=runtime["timeout_s"],
            memory_mb=runtime["memory_mb"],
            network_allowed=runtime["network"],
            content_hash=digest or content_hash(d),
            created_by=actor,
        )
    )
    for ci, cap in enumerate(d["capabilities"]):
        capability = Capability(name=cap["name"], description=cap["description"], position=ci)
        patterns = [pattern_row(p, pi) for pi, p in enumerate(cap["patterns"])]
        rows.capabilities.append((capability, patterns))
    return rows


def pattern_row(p: dict[str, Any], position: int) -> Pattern:
    prefs, policy = p["preference_match"], p["policy"]
    return Pattern(
        name=p["name"],
        description=p["description"],
        position=position,
        typical_use_cases=p["typical_use_cases"],
        context_variables=p["context_variables"],
        time_estimate_ms=p["time_estimate_ms"],
        cost_estimate=p["cost_estimate"],
        complexity_score=p["complexity_score"],
        scope=p["scope"],
        completeness=p["completeness"],
        limitations=p["limitations"],
        max_cost=policy["max_cost"],
        requires_approval=policy["requires_approval"],
        production_safe=policy["production_safe"],
        pref_speed=prefs["speed"],
        pref_accuracy=prefs["accuracy"],
        pref_cost=prefs["cost"],
        pref_complexity=prefs["complexity"],
        pref_completeness=prefs["completeness"],
        required_inputs=p["required_inputs"],
        expected_outputs=p["expected_outputs"],
        examples=p["examples"],
    )


def save_versions(all_rows: list[VersionRows]) -> None:
    """Insert versions, then their capabilities, then patterns: three bulk inserts."""
    for rows in all_rows:
        rows.version.tool_id = rows.version.tool.pk
        if rows.version.parent is not None:
            rows.version.parent_id = rows.version.parent.pk
    ToolVersion.objects.bulk_create([r.version for r in all_rows], batch_size=500)
    capabilities = []
    for rows in all_rows:
        for capability, _patterns in rows.capabilities:
            capability.version = rows.version
            capabilities.append(capability)
    Capability.objects.bulk_create(capabilities, batch_size=1000)
    patterns = []
    for rows in all_rows:
        for capability, cap_patterns in rows.capabilities:
            for pattern in cap_patterns:
                pattern.capability = capability
                patterns.append(pattern)
    Pattern.objects.bulk_create(patterns, batch_size=1000)


def make_current(tool: Tool, version: ToolVersion) -> None:
    """Point a tool at a version and mirror the fields lists filter by."""
    tool.current_version = version
    tool.head_version = version
    tool.platform = version.platform
    tool.category = version.category
    tool.description = version.description
    tool.save(
        update_fields=[
            "current_version",
            "head_version",
            "platform",
            "category",
            "description",
            "updated_at",
        ]
    )
    replace_tags([tool], {tool.pk: version.tags})


def replace_tags(tools: Iterable[Tool], tags: dict[int, list[str]]) -> None:
    tools = list(tools)
    ToolTag.objects.filter(tool__in=tools).delete()
    ToolTag.objects.bulk_create(
        [ToolTag(tool=t, tenant_id=t.tenant_id, name=name) for t in tools for name in tags[t.pk]],
        batch_size=1000,
    )


def validated(definition: dict[str, Any]) -> dict[str, Any]:
    """The normalized definition; raises DefinitionInvalid with every problem."""
    errors, normalized = check_definition(definition)
    if normalized is None:
        raise DefinitionInvalid(errors)
    return normalized


def resolve_owners(tenant: Tenant, usernames: Iterable[str]) -> tuple[list[Any], list[str]]:
    """Members of the tenant with these usernames, and the names that matched nobody."""
    wanted = set(usernames)
    if not wanted:
        return [], []
    users = list(
        User.objects.filter(
            **{f"{User.USERNAME_FIELD}__in": wanted}, memberships__tenant=tenant
        ).distinct()
    )
    found = {u.get_username() for u in users}
    return users, sorted(wanted - found)
