"""Django admin: browse the catalog; changes go through the services and pages, so the
catalog models are read-only here and the audit log can never be edited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from catalog.models import ApiKey, AuditLog, Membership, Tenant, Tool, ToolVersion


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "tenant", "role"]
    list_filter = ["role", "tenant"]


@admin.register(Tool)
class ToolAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "tenant",
        "platform",
        "category",
        "status",
        "enabled",
        "current_version",
    ]
    list_filter = ["tenant", "platform", "status", "enabled"]
    search_fields = ["name", "description"]
    list_select_related = ["tenant", "current_version"]


@admin.register(ToolVersion)
class ToolVersionAdmin(ReadOnlyAdmin):
    list_display = ["tool", "version", "state", "created_at", "published_at"]
    list_filter = ["state", "platform"]
    search_fields = ["tool__name"]
    list_select_related = ["tool"]


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_name", "action", "object_repr", "ip", "tenant"]
    list_filter = ["action", "tenant"]
    search_fields = ["object_repr", "actor_name", "reason"]
    date_hierarchy = "created_at"


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """Keys are created and revoked on the API keys page; only the hash is ever stored."""

    list_display = ["name", "prefix", "tenant", "role", "created_by", "last_used_at", "revoked_at"]
    list_filter = ["tenant", "role"]
    search_fields = ["name", "prefix"]
    exclude = ["secret_hash"]
    list_select_related = ["tenant", "created_by"]
