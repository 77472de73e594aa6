"""The shapes of a run as /api/v1/executions answers it: as listed, and with everything
recorded. Telemetry's reads answer with them and so do the planner's verbs (run, cancel,
approve, reject), which is why they sit here and not in telemetry/api/: no app reaches
into another's api/ package."""

from __future__ import annotations

from rest_framework import serializers

from telemetry.models import Execution

# A run as the API answers it, for the schema's examples.
RUN_EXAMPLE = {
    "id": 4711,
    "tool": "disk_usage",
    "version": "1.2.0",
    "pattern": "all_mounts",
    "status": "succeeded",
    "final": True,
    "source": "api",
    "caller": "alice",
    "environment": "development",
    "idempotency_key": "nightly-2025-02-01",
    "arguments": {"threshold_pct": 80},
    "context": {"N": 3},
    "result": {"mounts": [{"path": "/", "used_pct": 41}]},
    "error_kind": "",
    "queued_at": "2025-02-01T02:00:00.010Z",
    "started_at": "2025-02-01T02:00:00.021Z",
    "finished_at": "2025-02-01T02:00:00.043Z",
    "duration_ms": 22,
    "estimated_time_ms": 150.0,
    "estimated_cost": 0.3,
    "isolation": "bubblewrap",
}


class ExecutionSummarySerializer(serializers.ModelSerializer):
    """A run as listed: what ran, how it ended; without its captured output."""

    tool = serializers.CharField(source="tool_name", read_only=True)
    version = serializers.CharField(source="tool_version.version", read_only=True)
    pattern = serializers.CharField(source="pattern_name", read_only=True)
    caller = serializers.CharField(source="caller_name", read_only=True)
    final = serializers.BooleanField(source="is_final", read_only=True)

    class Meta:
        model = Execution
        fields = [
            "id",
            "tool",
            "version",
            "pattern",
            "status",
            "final",
            "source",
            "caller",
            "environment",
            "idempotency_key",
            "arguments",
            "context",
            "result",
            "error_kind",
            "queued_at",
            "started_at",
            "finished_at",
            "duration_ms",
            "estimated_time_ms",
            "estimated_cost",
            "isolation",
        ]
        read_only_fields = fields


class ExecutionSerializer(ExecutionSummarySerializer):
    """A run with everything recorded about it."""

    decided_by = serializers.SerializerMethodField()

    class Meta(ExecutionSummarySerializer.Meta):
        fields = [
            *ExecutionSummarySerializer.Meta.fields,
            "error",
            "stdout",
            "stderr",
            "output_truncated",
            "text_replaced",
            "bounds",
            "worker",
            "attempts",
            "decided_by",
            "decided_at",
            "decision_reason",
        ]
        read_only_fields = fields

    def get_decided_by(self, execution: Execution) -> str | None:
        """Who approved, rejected or cancelled it."""
        return execution.decided_by.get_username() if execution.decided_by else None
