"""Django admin: executions are browsed here, never changed; runs change state only
through telemetry's services."""

from __future__ import annotations

from django.contrib import admin

from catalog.admin import ReadOnlyAdmin
from telemetry.models import Execution


@admin.register(Execution)
class ExecutionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "tool_name",
        "tool_version",
        "status",
        "source",
        "environment",
        "caller_name",
        "queued_at",
        "duration_ms",
        "tenant",
    ]
    list_filter = ["status", "source", "environment", "error_kind", "tenant"]
    search_fields = ["tool_name", "caller_name", "idempotency_key", "celery_task_id"]
    list_select_related = ["tool_version", "tenant"]
    date_hierarchy = "queued_at"
    raw_id_fields = ["tool", "tool_version", "pattern", "caller", "api_key", "decided_by"]
