"""What the dashboard and the tool page point out: counts of a tenant's tools, and the
warnings of a tool that needs attention.

Each warning is checked twice, in the same terms: in Python over one loaded version
(``tool_warnings``, for the messages) and as SQL over every tool at once (``FLAGS``, to
find and count the tools that need attention without loading them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import reduce
from operator import or_
from typing import Any, NamedTuple

from django.core.cache import cache
from django.db import models
from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q, prefetch_related_objects
from django.db.models.functions import Length, Trim
from django.utils import timezone

from catalog.models import (
    AuditLog,
    Capability,
    Pattern,
    Platform,
    RuntimeKind,
    Tenant,
    Tool,
    ToolStatus,
    ToolVersion,
    VersionState,
)

STALE_DRAFT_DAYS = 7
SHORT_DESCRIPTION = 20  # characters; agents pick tools by their description
ATTENTION_SHOWN = 20


class ToolWarning(NamedTuple):
    """One thing to fix about a tool, with a stable code and a sentence."""

    code: str
    message: str


# -- one tool, in Python -----------------------------------------------------------------


def undescribed_parameters(schema: Any) -> list[str]:
    """Top-level inputs whose description is missing or blank."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return []
    return [
        name
        for name, spec in properties.items()
        if isinstance(spec, dict) and not str(spec.get("description") or "").strip()
    ]


def tool_warnings(version: ToolVersion | None, *, now: datetime | None = None) -> list[ToolWarning]:
    """What needs attention about the tool of ``version``, judged on that version's content.

    Pass the current version, or the head draft of a tool never published. The version's
    tool (with its head version) and capabilities with patterns should be loaded already.
    """
    if version is None:
        return []
    tool, now = version.tool, now or timezone.now()
    found: list[ToolWarning] = []
    if tool.current_version_id is None:
        found.append(ToolWarning("unpublished", "Never published: agents cannot use it yet."))
    if tool.status == ToolStatus.DEPRECATED and tool.enabled:
        found.append(
            ToolWarning("deprecated_enabled", "Deprecated but still enabled: agents still use it.")
        )
    head = tool.head_version
    if head is not None and head.state == VersionState.DRAFT:
        waiting = now - head.created_at
        if waiting > timedelta(days=STALE_DRAFT_DAYS):
            found.append(
                ToolWarning(
                    "stale_draft",
                    f"Draft {head.version} has been waiting {waiting.days} days to be published.",
                )
            )
    if len(version.description.strip()) < SHORT_DESCRIPTION:
        found.append(
            ToolWarning(
                "short_description",
                "The description is very short; agents choose tools by reading it.",
            )
        )
    missing = undescribed_parameters(version.input_schema)
    if missing:
        found.append(
            ToolWarning(
                "undescribed_parameters", "Inputs without a description: " + ", ".join(missing)
            )
        )
    if version.runtime_kind == RuntimeKind.SCRIPT and version.network_allowed:
        found.append(
            ToolWarning("network_script", "Its script may use the network; check that it needs to.")
        )
    found.extend(_capability_warnings(version))
    return found


def _capability_warnings(version: ToolVersion) -> list[ToolWarning]:
    capabilities = list(version.capabilities.all())
    if not capabilities:
        return [
            ToolWarning("no_capabilities", "No capabilities: agents cannot tell when to use it.")
        ]
    no_estimate, unsafe = [], []
    for capability in capabilities:
        for p in capability.patterns.all():
            if not p.time_estimate_ms or not p.cost_estimate:
                what = " and ".join(
                    word
                    for word, value in (("time", p.time_estimate_ms), ("cost", p.cost_estimate))
                    if not value
                )
                no_estimate.append(f"{p.name} (no {what})")
            if not p.production_safe and not p.requires_approval:
                unsafe.append(p.name)
    found = []
    if no_estimate:
        found.append(
            ToolWarning(
                "missing_estimates", "Patterns without an estimate: " + ", ".join(no_estimate)
            )
        )
    if unsafe:
        found.append(
            ToolWarning(
                "unsafe_without_approval",
                "Not safe in production yet runs without approval: " + ", ".join(unsafe),
            )
        )
    return found


# -- every tool, in SQL ------------------------------------------------------------------


class UndescribedParameters(models.Func):
    """True when a JSON Schema has a top-level property without a description."""

    output_field = models.BooleanField()

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:  # type: ignore[override]
        raise NotImplementedError(f"UndescribedParameters is not supported on {connection.vendor}")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = (
            "EXISTS (SELECT 1 FROM json_each(%(expressions)s, '$.properties') AS p"
            " WHERE p.type = 'object'"
            " AND TRIM(COALESCE(json_extract(p.value, '$.description'), '')) = '')"
        )
        return super().as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = (
            "EXISTS (SELECT 1 FROM jsonb_each(CASE WHEN jsonb_typeof(%(expressions)s -> "
            "'properties') = 'object' THEN %(expressions)s -> 'properties' ELSE '{}'::jsonb END)"
            " AS p(key, value) WHERE jsonb_typeof(p.value) = 'object'"
            " AND btrim(COALESCE(p.value ->> 'description', '')) = '')"
        )
        return super().as_sql(compiler, connection, template=template, **extra)


# Pattern checks run as one pass over the patterns of current versions, not per tool.
PATTERN_CHECKS = {
    "missing_estimates": Q(time_estimate_ms="") | Q(cost_estimate=""),
    "unsafe_without_approval": Q(production_safe=False, requires_approval=False),
}


def flags(now: datetime) -> dict[str, Any]:
    """The SQL twin of each warning ``tool_warnings`` gives but the pattern ones, by code,
    as conditions on the rows of ``_flaggable``."""
    current = "current_version__"
    return {
        "unpublished": Q(current_version__isnull=True),
        "deprecated_enabled": Q(status=ToolStatus.DEPRECATED, enabled=True),
        "stale_draft": Q(
            head_version__state=VersionState.DRAFT,
            head_version__created_at__lt=now - timedelta(days=STALE_DRAFT_DAYS),
        ),
        "short_description": Q(q_short_description=True),
        "undescribed_parameters": Q(q_undescribed_parameters=True),
        "network_script": Q(
            **{f"{current}runtime_kind": RuntimeKind.SCRIPT, f"{current}network_allowed": True}
        ),
        "no_capabilities": Q(current_version__isnull=False)
        & ~Exists(Capability.objects.filter(version=OuterRef("current_version"))),
    }


def _flaggable(tenant: Tenant) -> models.QuerySet[Tool]:
    """The tenant's live tools with the values the flags compare computed in SQL."""
    return (
        Tool.objects.for_tenant(tenant)
        .live()
        .alias(q_description_length=Length(Trim("description")))
        .alias(
            q_short_description=Q(q_description_length__lt=SHORT_DESCRIPTION),
            q_undescribed_parameters=UndescribedParameters("current_version__input_schema"),
        )
    )


def _pattern_flags(tenant: Tenant) -> dict[int, set[str]]:
    """Tool id → the pattern warnings of its current version, from one query."""
    current = _flaggable(tenant).exclude(current_version=None).values("current_version")
    rows = (
        Pattern.objects.filter(capability__version__in=current)
        .filter(reduce(or_, PATTERN_CHECKS.values()))
        .annotate(**{f"flag_{code}": check for code, check in PATTERN_CHECKS.items()})
        .values_list("capability__version__tool_id", *[f"flag_{c}" for c in PATTERN_CHECKS])
        .distinct()
    )
    found: dict[int, set[str]] = {}
    for tool_id, *raised in rows:
        codes = found.setdefault(tool_id, set())
        codes.update(code for code, on in zip(PATTERN_CHECKS, raised, strict=True) if on)
    return found


@dataclass
class Attention:
    """The tools that need attention: how many, and the first few with their warnings."""

    total: int
    tools: list[tuple[Tool, list[ToolWarning]]]
    by_code: Counter[str]


# Shown first: what could hurt, then what blocks agents, then what helps them choose.
SEVERITY = {
    "network_script": 5,
    "unsafe_without_approval": 5,
    "deprecated_enabled": 4,
    "stale_draft": 3,
    "unpublished": 3,
    "no_capabilities": 2,
    "missing_estimates": 1,
    "undescribed_parameters": 1,
    "short_description": 1,
}


WARNING_LABELS = {
    "network_script": "scripts with network access",
    "unsafe_without_approval": "unsafe patterns that need no approval",
    "deprecated_enabled": "deprecated but enabled",
    "stale_draft": f"drafts waiting over {STALE_DRAFT_DAYS} days",
    "unpublished": "never published",
    "no_capabilities": "no capabilities",
    "missing_estimates": "patterns without estimates",
    "undescribed_parameters": "inputs without a description",
    "short_description": "very short descriptions",
}


SCAN_SECONDS = 300  # how long a scan is reused while no tool changes


def _scan(tenant: Tenant, now: datetime, limit: int) -> tuple[int, Counter[str], list[int]]:
    """How many tools raise each warning, and the ids of the ``limit`` most serious."""
    checks = flags(now)
    rows = (
        _flaggable(tenant)
        .annotate(**{f"flag_{code}": check for code, check in checks.items()})
        .order_by("name")
        .values_list("pk", *[f"flag_{code}" for code in checks])
    )
    by_pattern = _pattern_flags(tenant)
    by_code: Counter[str] = Counter()
    ranked: list[tuple[int, int, int]] = []
    for pk, *raised in rows:
        codes = [code for code, on in zip(checks, raised, strict=True) if on]
        codes.extend(by_pattern.get(pk, ()))
        if codes:
            by_code.update(codes)
            ranked.append((-sum(SEVERITY[c] for c in codes), len(ranked), pk))
    return len(ranked), by_code, [pk for *_, pk in sorted(ranked)[:limit]]


def fingerprint(tenant: Tenant) -> str:
    """A key that changes whenever any of the tenant's tools does: every service that
    changes a tool, its versions or its state saves the tool's ``updated_at``, and
    creating or purging one changes the count. One index-only query."""
    seen = Tool.objects.for_tenant(tenant).aggregate(n=Count("pk"), last=Max("updated_at"))
    last = seen["last"].isoformat() if seen["last"] else "-"
    return f"quiver:catalog:{tenant.pk}:{seen['n']}:{last}"


def needing_attention(tenant: Tenant, *, limit: int = ATTENTION_SHOWN, key: str = "") -> Attention:
    """Every live tool's warnings counted, and the ``limit`` most serious with their
    messages. The scan (two queries over every tool and pattern) is reused for a few
    minutes while no tool changes; the shown tools are loaded fresh in three more."""
    now = timezone.now()
    key = f"{key or fingerprint(tenant)}:attention:{limit}"
    scanned = cache.get(key)
    if scanned is None:
        scanned = _scan(tenant, now, limit)
        cache.set(key, scanned, SCAN_SECONDS)
    total, by_code, shown = scanned
    # Only the columns the warnings read: not the versions' scripts, schemas of outputs,
    # examples and the other JSON that would be decoded for nothing.
    version_columns = ["version", "state", "created_at", "description", "input_schema"]
    version_columns += ["runtime_kind", "network_allowed", "tool_id"]
    tools = (
        Tool.objects.filter(pk__in=shown)
        .select_related("current_version", "head_version")
        .only(
            "name",
            "status",
            "enabled",
            *[f"{v}__{c}" for v in ("current_version", "head_version") for c in version_columns],
        )
    )
    loaded = {tool.pk: tool for tool in tools}
    versions = []
    for tool in loaded.values():
        version = tool.current_version or tool.head_version
        if version is not None:
            version.tool = tool
            versions.append(version)
    pattern_columns = ["name", "capability_id", "position", "time_estimate_ms"]
    pattern_columns += ["cost_estimate", "production_safe", "requires_approval"]
    patterns = Pattern.objects.only(*pattern_columns).order_by("position", "id")
    capabilities = Capability.objects.only("name", "version_id", "position").order_by(
        "position", "id"
    )
    prefetch_related_objects(
        versions,
        Prefetch(
            "capabilities", queryset=capabilities.prefetch_related(Prefetch("patterns", patterns))
        ),
    )
    listed = [
        (t, tool_warnings(t.current_version or t.head_version, now=now))
        for t in (loaded[pk] for pk in shown if pk in loaded)  # a tool may be purged since
    ]
    return Attention(total=total, tools=listed, by_code=by_code)


def warnings_query(tenant: Tenant, code: str) -> models.QuerySet[Tool]:
    """The tenant's live tools that raise one warning."""
    if code in PATTERN_CHECKS:
        patterns = Pattern.objects.filter(capability__version=OuterRef("current_version"))
        return _flaggable(tenant).filter(Exists(patterns.filter(PATTERN_CHECKS[code])))
    return _flaggable(tenant).filter(flags(timezone.now())[code])


# -- counts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BarRow:
    """One bar of a dashboard chart; ``width`` is out of 100."""

    key: str
    label: str
    count: int
    width: float


@dataclass
class CatalogCounts:
    """A tenant's tools counted every way the dashboard shows, from one grouped query."""

    tools: int = 0
    enabled: int = 0
    drafts: int = 0
    archived: int = 0
    by_platform: Counter[str] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)

    @property
    def is_empty(self) -> bool:
        return self.tools == 0 and self.archived == 0

    def platform_bars(self) -> list[BarRow]:
        labels = dict(Platform.choices)
        order = [p for p in Platform.values if self.by_platform[p]]
        order += sorted(k for k in self.by_platform if k not in labels)
        return _bars(self.by_platform, order, lambda k: labels.get(k) or "No platform")

    def status_bars(self) -> list[BarRow]:
        labels = dict(ToolStatus.choices)
        return _bars(self.by_status, list(ToolStatus.values), lambda k: labels.get(k, k))

    def category_bars(self, limit: int = 12) -> list[BarRow]:
        order = [k for k, _ in sorted(self.by_category.items(), key=lambda kv: (-kv[1], kv[0]))]
        return _bars(self.by_category, order[:limit], lambda k: k or "No category")

    @property
    def more_categories(self) -> int:
        return max(0, len(self.by_category) - 12)


def _bars(counts: Counter[str], order: list[str], label: Any) -> list[BarRow]:
    top = max(counts.values(), default=0) or 1
    return [BarRow(k, label(k), counts[k], round(100 * counts[k] / top, 1)) for k in order]


# The head moves off the current version only to a draft (an edit); publishing and
# rolling back bring it back. Compared without joining the versions.
DRAFT_WAITING = Q(head_version__isnull=False) & (
    Q(current_version__isnull=True) | ~Q(head_version=F("current_version"))
)


def catalog_counts(tenant: Tenant) -> CatalogCounts:
    """Live tools by platform, category and status, with the totals; one query."""
    counts = CatalogCounts()
    groups = (
        Tool.objects.for_tenant(tenant)
        .order_by()
        .values("platform", "category", "status", "enabled")
        .annotate(
            archived=Count("pk", filter=Q(archived_at__isnull=False)),
            live=Count("pk", filter=Q(archived_at__isnull=True)),
            drafts=Count("pk", filter=Q(archived_at__isnull=True) & DRAFT_WAITING),
        )
    )
    for g in groups:
        counts.archived += g["archived"]
        live = g["live"]
        if not live:
            continue
        counts.tools += live
        # As catalog.tool_state has it: a disabled status hides a tool like the switch.
        usable = g["enabled"] and g["status"] != ToolStatus.DISABLED
        counts.enabled += live if usable else 0
        counts.drafts += g["drafts"]
        counts.by_platform[g["platform"]] += live
        counts.by_category[g["category"]] += live
        counts.by_status[g["status"]] += live
    return counts


def recently_changed(tenant: Tenant, limit: int = 10) -> list[Tool]:
    """The live tools changed last, without loading their versions' content."""
    return list(
        Tool.objects.for_tenant(tenant)
        .live()
        .select_related("current_version")
        .only("name", "status", "enabled", "archived_at", "updated_at", "current_version__version")
        .order_by("-updated_at", "-pk")[:limit]
    )


# What audit lists show of each entry; the rest of the row is not read.
AUDIT_COLUMNS = (
    "created_at",
    "actor_name",
    "ip",
    "action",
    "object_type",
    "object_repr",
    "changes",
    "reason",
    "tool",
    "tool__name",
)


def recent_audit(tenant: Tenant, limit: int = 10) -> list[AuditLog]:
    return list(
        AuditLog.objects.for_tenant(tenant)
        .select_related("tool")
        .only(*AUDIT_COLUMNS)
        .order_by("-created_at", "-id")[:limit]
    )


def dashboard_figures(tenant: Tenant) -> tuple[CatalogCounts, Attention]:
    """The dashboard's counts and attention list; both reused while no tool changes."""
    key = fingerprint(tenant)
    counts = cache.get(f"{key}:counts")
    if counts is None:
        counts = catalog_counts(tenant)
        cache.set(f"{key}:counts", counts, SCAN_SECONDS)
    if counts.is_empty:
        return counts, Attention(total=0, tools=[], by_code=Counter())
    return counts, needing_attention(tenant, key=key)
