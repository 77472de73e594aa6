"""The shapes of /api/v1/executions: a run request, and a run as it stands."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from catalog.models import REASON_MAX_LENGTH
from planner.services import MAX_WAIT_S
from telemetry.models import Environment, Execution


class RunRequestSerializer(serializers.Serializer):
    """What to run: a tool (its current version, or an exact one) with its arguments."""

    tool = serializers.CharField(max_length=64, help_text="The tool's name.")
    version = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="An exact published version (e.g. `1.2.0`); the current version if empty.",
    )
    pattern = serializers.CharField(
        max_length=130,
        required=False,
        allow_blank=True,
        help_text="Whose estimates and policy apply: `pattern` or `capability/pattern`; "
        "the version's first pattern if empty.",
    )
    arguments = serializers.JSONField(
        required=False,
        default=dict,
        help_text="The tool's arguments, checked against its input schema; defaults fill gaps.",
    )
    context = serializers.DictField(
        required=False,
        default=dict,
        help_text="The pattern's context variables (numbers) for its time and cost estimates.",
    )
    environment = serializers.ChoiceField(
        choices=Environment.choices,
        default=Environment.DEVELOPMENT,
        help_text="Tools whose pattern is not production-safe are refused in `production`.",
    )
    idempotency_key = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Retry-safe: a second request with the same key returns the first run "
        "(the `Idempotency-Key` header works too).",
    )
    wait = serializers.FloatField(
        required=False,
        default=0,
        min_value=0,
        max_value=MAX_WAIT_S,
        help_text=f"Seconds (at most {MAX_WAIT_S:g}) to wait for the run to end before "
        "answering; 0 answers at once with the run queued.",
    )


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH, help_text="Why the run is refused; kept in the audit log."
    )


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


def run_request_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    """The validated request as ``planner.services.invoke``'s keyword arguments."""
    return {
        "tool": data["tool"],
        "version": data.get("version") or None,
        "pattern": data.get("pattern") or None,
        "arguments": data.get("arguments"),
        "context": data.get("context") or {},
        "environment": data["environment"],
        "idempotency_key": data.get("idempotency_key", ""),
    }
