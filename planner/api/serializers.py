"""The shapes of a request to /api/v1/executions: a run request and a rejection; a run as
it stands is telemetry's shape (telemetry/api/serializers.py)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from catalog.models import REASON_MAX_LENGTH
from planner.services import MAX_WAIT_S
from telemetry.models import Environment


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
