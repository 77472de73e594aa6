"""The catalog: tenants and roles, tools and their immutable versions, and the audit log."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Now

from catalog.database import json_shape
from catalog.definitions.format import TOOL_NAME


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    OPERATOR = "operator", "Operator"
    VIEWER = "viewer", "Viewer"

    @classmethod
    def rank(cls, role: str) -> int:
        """Higher ranks include every right of the lower ones."""
        return {cls.VIEWER: 0, cls.OPERATOR: 1, cls.EDITOR: 2, cls.ADMIN: 3}[cls(role)]


class Platform(models.TextChoices):
    LINUX = "linux", "Linux"
    WINDOWS = "windows", "Windows"
    NETWORK = "network", "Network"
    SCHEDULER = "scheduler", "Scheduler"
    CUSTOM = "custom", "Custom"


class ToolStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    TESTING = "testing", "Testing"
    DEPRECATED = "deprecated", "Deprecated"
    DISABLED = "disabled", "Disabled"


class RuntimeKind(models.TextChoices):
    NONE = "none", "Described only (runs elsewhere)"
    SCRIPT = "script", "Python script in the sandbox"
    CALLABLE = "callable", "Trusted code registered with @tool"


class VersionState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Tenant(models.Model):
    """An organisation; every catalog row belongs to exactly one."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.slug


class SandboxLimits(models.Model):
    """What a tenant's admins let its scripts have, within what the operator allows the
    whole machine (``catalog.sandbox_limits``): they can narrow those limits, never widen
    them. A tenant without a row has the machine's limits."""

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, primary_key=True, related_name="sandbox_limits"
    )
    # Whether scripts of this tenant may use the network at all.
    network = models.BooleanField(default=True)
    # The operator's internal networks this tenant's scripts may reach; None: all of them.
    internal_networks = models.JSONField(null=True, blank=True)
    # The most memory one run may have, in MB; None: the machine's ceiling.
    max_memory_mb = models.PositiveIntegerField(null=True, blank=True)
    # Counts changes, so that an edit based on an older state is refused.
    revision = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"script limits of {self.tenant.name}"


class MembershipQuerySet(models.QuerySet["Membership"]):
    def for_tenant(self, tenant: Tenant) -> MembershipQuerySet:
        return self.filter(tenant=tenant)


class Membership(models.Model):
    """A user's role in one tenant."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "tenant"], name="membership_unique_user_tenant"
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} as {self.role}"


class ToolQuerySet(models.QuerySet["Tool"]):
    def for_tenant(self, tenant: Tenant) -> ToolQuerySet:
        return self.filter(tenant=tenant)

    def live(self) -> ToolQuerySet:
        """Tools not archived."""
        return self.filter(archived_at__isnull=True)

    def with_current(self) -> ToolQuerySet:
        return self.select_related("current_version")


class Tool(models.Model):
    """A tool's identity within a tenant; its content lives in versions.

    Platform, category, description and tags mirror the current version so that
    lists filter and sort on one indexed table.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="tools")
    name = models.CharField(max_length=64)
    owners = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    enabled = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=ToolStatus.choices, default=ToolStatus.ACTIVE)
    archived_at = models.DateTimeField(null=True, blank=True)
    current_version = models.ForeignKey(
        "ToolVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The version the next edit must be based on: the newest draft, or the
    # current version after a publish or rollback.
    head_version = models.ForeignKey(
        "ToolVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    platform = models.CharField(max_length=16, choices=Platform.choices, blank=True)
    category = models.CharField(max_length=40, blank=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ToolQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="tool_unique_name_per_tenant"),
            # Names keep their case but must differ in more than case: exports are files,
            # and case-insensitive file systems would fold getWeather and getweather.
            models.UniqueConstraint("tenant", Lower("name"), name="tool_unique_name_ignoring_case"),
            models.CheckConstraint(condition=Q(name__regex=TOOL_NAME), name="tool_name_is_legal"),
            models.CheckConstraint(
                condition=Q(status__in=ToolStatus.values), name="tool_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(platform__in=[*Platform.values, ""]), name="tool_platform_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "platform", "name"], name="tool_platform_idx"),
            models.Index(fields=["tenant", "category", "name"], name="tool_category_idx"),
            models.Index(fields=["tenant", "status", "name"], name="tool_status_idx"),
            models.Index(fields=["tenant", "enabled", "name"], name="tool_enabled_idx"),
            models.Index(fields=["tenant", "updated_at"], name="tool_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class ToolTag(models.Model):
    """One tag of a tool's current version, kept as rows so lists filter by an index."""

    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="tag_rows")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tool", "name"], name="tooltag_unique_per_tool"),
        ]
        indexes = [models.Index(fields=["tenant", "name"], name="tooltag_name_idx")]

    def __str__(self) -> str:
        return self.name


class ToolVersion(models.Model):
    """An immutable snapshot of a tool's definition; drafts become current by publishing."""

    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=64)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    state = models.CharField(
        max_length=16, choices=VersionState.choices, default=VersionState.DRAFT
    )
    description = models.TextField()
    platform = models.CharField(max_length=16, choices=Platform.choices)
    category = models.CharField(max_length=40)
    input_schema = models.JSONField(default=dict)
    output_schema = models.JSONField(default=dict)
    defaults = models.JSONField(default=dict)
    dependencies = models.JSONField(default=list)
    metadata = models.JSONField(default=dict)
    tags = models.JSONField(default=list)
    runtime_kind = models.CharField(
        max_length=16, choices=RuntimeKind.choices, default=RuntimeKind.NONE
    )
    callable_name = models.CharField(max_length=200, blank=True)
    script = models.TextField(blank=True)
    timeout_s = models.FloatField(default=30)
    memory_mb = models.PositiveIntegerField(default=512)
    network_allowed = models.BooleanField(default=False)
    content_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tool", "version"], name="version_unique_per_tool"),
            models.CheckConstraint(
                condition=Q(version__regex=r"^[0-9]+\.[0-9]+\.[0-9]+"), name="version_is_semver"
            ),
            models.CheckConstraint(condition=Q(timeout_s__gt=0), name="version_timeout_positive"),
            models.CheckConstraint(condition=Q(memory_mb__gte=16), name="version_memory_min"),
            models.CheckConstraint(
                condition=Q(runtime_kind__in=RuntimeKind.values), name="version_runtime_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=VersionState.values), name="version_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(platform__in=Platform.values), name="version_platform_valid"
            ),
            *[
                json_shape(f"version_{field}_is_{kind}", field, kind)
                for field, kind in [
                    ("input_schema", "object"),
                    ("output_schema", "object"),
                    ("defaults", "object"),
                    ("metadata", "object"),
                    ("dependencies", "array"),
                    ("tags", "array"),
                ]
            ],
        ]
        indexes = [models.Index(fields=["tool", "-created_at"], name="version_tool_recent_idx")]

    def __str__(self) -> str:
        return f"{self.tool.name} {self.version}"

    @property
    def is_draft(self) -> bool:
        return self.state == VersionState.DRAFT


class Capability(models.Model):
    """Something a tool version can do; carries the patterns of doing it."""

    version = models.ForeignKey(ToolVersion, on_delete=models.CASCADE, related_name="capabilities")
    name = models.CharField(max_length=64)
    description = models.TextField()
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "name"], name="capability_unique_per_version"
            ),
        ]
        indexes = [models.Index(fields=["name"], name="capability_name_idx")]

    def __str__(self) -> str:
        return self.name


# Pattern fields that hold a score between 0 and 1.
PATTERN_UNIT_FIELDS = (
    "complexity_score",
    "pref_speed",
    "pref_accuracy",
    "pref_cost",
    "pref_complexity",
    "pref_completeness",
)


class Pattern(models.Model):
    """One way of using a capability, with its estimates, policy and preferences."""

    capability = models.ForeignKey(Capability, on_delete=models.CASCADE, related_name="patterns")
    name = models.CharField(max_length=64)
    description = models.TextField()
    position = models.PositiveIntegerField(default=0)
    typical_use_cases = models.JSONField(default=list)
    context_variables = models.JSONField(default=dict)
    time_estimate_ms = models.CharField(max_length=500, blank=True)
    cost_estimate = models.CharField(max_length=500, blank=True)
    complexity_score = models.FloatField(default=0.5)
    scope = models.CharField(max_length=100, blank=True)
    completeness = models.CharField(max_length=100, blank=True)
    limitations = models.JSONField(default=list)
    max_cost = models.FloatField(null=True, blank=True)
    requires_approval = models.BooleanField(default=False)
    production_safe = models.BooleanField(default=True)
    pref_speed = models.FloatField(default=0.5)
    pref_accuracy = models.FloatField(default=0.5)
    pref_cost = models.FloatField(default=0.5)
    pref_complexity = models.FloatField(default=0.5)
    pref_completeness = models.FloatField(default=0.5)
    required_inputs = models.JSONField(default=list)
    expected_outputs = models.JSONField(default=list)
    examples = models.JSONField(default=list)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["capability", "name"], name="pattern_unique_per_cap"),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{field}__gte": 0}) & Q(**{f"{field}__lte": 1}),
                    name=f"pattern_{field}_unit",
                )
                for field in PATTERN_UNIT_FIELDS
            ],
            models.CheckConstraint(
                condition=Q(max_cost__isnull=True) | Q(max_cost__gte=0),
                name="pattern_max_cost_nonnegative",
            ),
            *[
                json_shape(f"pattern_{field}_is_{kind}", field, kind)
                for field, kind in [
                    ("typical_use_cases", "array"),
                    ("context_variables", "object"),
                    ("limitations", "array"),
                    ("required_inputs", "array"),
                    ("expected_outputs", "array"),
                    ("examples", "array"),
                ]
            ],
        ]

    def __str__(self) -> str:
        return self.name


class AuditAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Edited"
    PUBLISH = "publish", "Published"
    ROLLBACK = "rollback", "Rolled back"
    ENABLE = "enable", "Enabled"
    DISABLE = "disable", "Disabled"
    STATUS = "status", "Changed status"
    ARCHIVE = "archive", "Archived"
    RESTORE = "restore", "Restored"
    PURGE = "purge", "Purged"
    DISCARD = "discard", "Discarded draft"
    IMPORT = "import", "Imported"
    MEMBERSHIP = "membership", "Changed membership"
    KEY_CREATE = "key_create", "Created API key"
    KEY_REVOKE = "key_revoke", "Revoked API key"
    APPROVE = "approve", "Approved run"
    REJECT = "reject", "Rejected run"
    CANCEL = "cancel", "Cancelled run"
    SANDBOX_LIMITS = "sandbox_limits", "Changed script limits"


# The longest reason a person may give for a change (the audit log keeps it); every form
# and endpoint that asks for one holds to it.
REASON_MAX_LENGTH = 500


class AuditLogQuerySet(models.QuerySet["AuditLog"]):
    def for_tenant(self, tenant: Tenant) -> AuditLogQuerySet:
        return self.filter(tenant=tenant)


class AuditLog(models.Model):
    """Append-only record of one change: who, when, from where, what, and why."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), db_index=True)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200)
    tool = models.ForeignKey(
        Tool, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    changes = models.JSONField(default=dict)
    reason = models.TextField(blank=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="audit_recent_idx"),
            models.Index(fields=["tenant", "action", "-created_at"], name="audit_action_idx"),
            models.Index(fields=["tool", "-created_at"], name="audit_tool_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=AuditAction.values), name="audit_action_valid"
            ),
            json_shape("audit_changes_is_object", "changes", "object"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name or 'system'} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("Audit entries are append-only.")


# -- API keys ----------------------------------------------------------------------------

API_KEY_SCHEME = "qv"  # tokens read qv_<prefix>_<secret>


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def for_tenant(self, tenant: Tenant) -> ApiKeyQuerySet:
        return self.filter(tenant=tenant)

    def visible_to(self, user: Any, role: str | None) -> ApiKeyQuerySet:
        """Admins see every key of the tenant; everyone else only their own."""
        if role is not None and Role.rank(role) >= Role.rank(Role.ADMIN):
            return self
        return self.filter(created_by=user)


class ApiKey(models.Model):
    """A program's credential in one tenant; acts as its creator, capped at ``role``.

    Only a SHA-256 hash of the secret is stored: the secret is 32 random bytes, so a
    fast hash is enough, and the token is shown once, when the key is created.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    prefix = models.CharField(max_length=32, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="apikey_role_valid"),
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="apikey_recent_idx")]

    def __str__(self) -> str:
        return f"API key {self.name} ({self.masked})"

    @property
    def masked(self) -> str:
        """How a key is shown after creation: its public prefix, never its secret."""
        return f"{API_KEY_SCHEME}_{self.prefix}_…"

    @staticmethod
    def new_token() -> tuple[str, str, str]:
        """A fresh (prefix, secret, token)."""
        prefix, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        return prefix, secret, f"{API_KEY_SCHEME}_{prefix}_{secret}"

    @staticmethod
    def split_token(token: str) -> tuple[str, str] | None:
        """(prefix, secret) of a well-formed token, else None."""
        scheme, _, rest = token.partition("_")
        prefix, _, secret = rest.partition("_")
        if scheme != API_KEY_SCHEME or not prefix or not secret or len(prefix) > 32:
            return None
        return prefix, secret

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_hash, self.hash_secret(secret))

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now: Any) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def effective_role(self, creator_role: str | None) -> str | None:
        """The key's role capped by its creator's current one; None once they left."""
        if creator_role is None:
            return None
        return min(self.role, creator_role, key=Role.rank)
