"""Reads shared by pages, the API, commands and services."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import F, Prefetch, QuerySet, prefetch_related_objects

from catalog.definitions.format import DEFAULT_RUNTIME
from catalog.models import (
    ApiKey,
    AuditLog,
    Capability,
    Membership,
    Pattern,
    Tenant,
    Tool,
    ToolVersion,
)


def tool_by_name(tenant: Tenant, name: str) -> Tool:
    """A tool of the tenant with its current version in one query; raises DoesNotExist."""
    return Tool.objects.for_tenant(tenant).with_current().get(name=name)


def versions_of(tool: Tool) -> QuerySet[ToolVersion]:
    """The tool's versions, newest first, with who created and published each."""
    return tool.versions.select_related("created_by", "published_by").order_by("-created_at", "-id")


def members_of(tenant: Tenant) -> QuerySet[Membership]:
    """The tenant's members with their logins, by user name."""
    return (
        Membership.objects.for_tenant(tenant)
        .select_related("user")
        .order_by("user__username", "pk")
    )


def api_keys_for(tenant: Tenant, user: Any, role: str | None) -> QuerySet[ApiKey]:
    """The tenant's API keys that ``user`` may see (an admin: all of them), newest first."""
    return (
        ApiKey.objects.for_tenant(tenant)
        .visible_to(user, role)
        .select_related("created_by", "revoked_by")
        .order_by("-created_at", "-id")
    )


def audit_entries(tenant: Tenant) -> QuerySet[AuditLog]:
    """The tenant's audit log, newest first, with the tool each entry is about."""
    return AuditLog.objects.for_tenant(tenant).select_related("tool").order_by("-created_at", "-id")


def current_version_by_name(tenant: Tenant, name: str) -> ToolVersion:
    """The current version of a tool, joined to its tool, in one query."""
    return ToolVersion.objects.select_related("tool").get(
        tool__tenant=tenant, tool__name=name, tool__current_version=F("id")
    )


def content() -> Prefetch:
    """A version's capabilities with their patterns, in the definition's order: the one
    prefetch of a version's content (two queries for any number of versions)."""
    return Prefetch(
        "capabilities",
        queryset=Capability.objects.order_by("position", "id").prefetch_related(
            Prefetch("patterns", queryset=Pattern.objects.order_by("position", "id"))
        ),
    )


def with_content(versions: QuerySet[ToolVersion]) -> QuerySet[ToolVersion]:
    """Versions with their capabilities and patterns prefetched in two more queries."""
    return versions.prefetch_related(content())


def load_content(versions: list[ToolVersion]) -> None:
    """Capabilities and patterns of versions already loaded, in two queries."""
    prefetch_related_objects(versions, content())


def definition_of(version: ToolVersion, *, tool_fields: bool = True) -> dict[str, Any]:
    """The normalized definition a version was made from (what export writes)."""
    d: dict[str, Any] = {"name": version.tool.name, "version": version.version}
    if tool_fields:
        tool = version.tool
        d.update(
            status=tool.status,
            enabled=tool.enabled,
            archived=tool.archived_at is not None,
            owners=sorted(u.get_username() for u in tool.owners.all()),
        )
    d.update(
        description=version.description,
        platform=version.platform,
        category=version.category,
        tags=list(version.tags),
        defaults=version.defaults,
        dependencies=version.dependencies,
        metadata=version.metadata,
        input_schema=version.input_schema,
        output_schema=version.output_schema,
        runtime=_runtime_of(version),
        script=version.script,
        capabilities=[
            {
                "name": capability.name,
                "description": capability.description,
                "patterns": [pattern_definition(p) for p in capability.patterns.all()],
            }
            for capability in version.capabilities.all()
        ],
    )
    return d


def _runtime_of(version: ToolVersion) -> dict[str, Any]:
    runtime: dict[str, Any] = {
        **DEFAULT_RUNTIME,
        "kind": version.runtime_kind,
        "timeout_s": float(version.timeout_s),
        "memory_mb": version.memory_mb,
        "network": version.network_allowed,
    }
    if version.callable_name:
        runtime["callable"] = version.callable_name
    return runtime


def pattern_definition(p: Pattern) -> dict[str, Any]:
    """A pattern as the definition format writes it."""
    return {
        "name": p.name,
        "description": p.description,
        "typical_use_cases": p.typical_use_cases,
        "context_variables": p.context_variables,
        "time_estimate_ms": p.time_estimate_ms,
        "cost_estimate": p.cost_estimate,
        "complexity_score": p.complexity_score,
        "scope": p.scope,
        "completeness": p.completeness,
        "limitations": p.limitations,
        "policy": {
            "max_cost": p.max_cost,
            "requires_approval": p.requires_approval,
            "production_safe": p.production_safe,
        },
        "preference_match": {
            "speed": p.pref_speed,
            "accuracy": p.pref_accuracy,
            "cost": p.pref_cost,
            "complexity": p.pref_complexity,
            "completeness": p.pref_completeness,
        },
        "required_inputs": p.required_inputs,
        "expected_outputs": p.expected_outputs,
        "examples": p.examples,
    }


def capability_outlines(
    version_ids: list[int],
    *,
    capability_fields: tuple[str, ...] = ("name",),
    pattern_fields: tuple[str, ...] = (),
) -> dict[int, list[dict[str, Any]]]:
    """The chosen fields of versions' capabilities, each with its patterns' chosen fields
    (under "patterns"), by version id, in order: two queries, no model instances.

    Patterns are read by their capabilities' ids, not through a join: without planner
    statistics (right after a bulk import) PostgreSQL scanned every pattern for the join.
    """
    outlines: dict[int, list[dict[str, Any]]] = {}
    by_id: dict[int, dict[str, Any]] = {}
    for cap_id, version_id, *values in (
        Capability.objects.filter(version_id__in=version_ids)
        .order_by("position", "id")
        .values_list("id", "version_id", *capability_fields)
    ):
        capability = {**dict(zip(capability_fields, values, strict=True)), "patterns": []}
        outlines.setdefault(version_id, []).append(capability)
        by_id[cap_id] = capability
    for cap_id, *values in (
        Pattern.objects.filter(capability_id__in=list(by_id))
        .order_by("position", "id")
        .values_list("capability_id", *pattern_fields)
    ):
        by_id[cap_id]["patterns"].append(dict(zip(pattern_fields, values, strict=True)))
    return outlines


def export_definitions(
    tenant: Tenant, tools: QuerySet[Tool] | None = None
) -> Iterator[dict[str, Any]]:
    """Definitions of the tenant's published tools (archived ones included), by name.

    Streams in chunks so that exporting ten thousand tools stays in bounded memory.
    """
    tools = Tool.objects.for_tenant(tenant) if tools is None else tools
    versions = with_content(
        ToolVersion.objects.filter(pk__in=tools.values("current_version"))
        .select_related("tool")
        .prefetch_related("tool__owners")
        .order_by("tool__name")
    )
    for version in versions.iterator(chunk_size=500):
        yield definition_of(version)
