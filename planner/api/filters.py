"""Filters of GET /api/v1/executions."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from telemetry.models import Environment, ErrorKind, Execution, ExecutionSource, ExecutionStatus


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, in UTC: the database need not know its offset (PostgreSQL takes
    offsets up to ±15:59 only), and one past the calendar's ends is an error, not a 500."""

    def to_python(self, value: Any) -> datetime.datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError("is outside the years 1 to 9999 in UTC") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class ExecutionFilterSet(django_filters.FilterSet):
    tool = django_filters.CharFilter(field_name="tool_name", max_length=64, label="Tool name")
    version = django_filters.CharFilter(
        field_name="tool_version__version", max_length=64, label="Exact version"
    )
    pattern = django_filters.CharFilter(field_name="pattern_name", max_length=64)
    status = django_filters.MultipleChoiceFilter(
        choices=ExecutionStatus.choices, help_text="One or more (repeat the parameter)."
    )
    source = django_filters.ChoiceFilter(choices=ExecutionSource.choices)
    environment = django_filters.ChoiceFilter(choices=Environment.choices)
    error_kind = django_filters.ChoiceFilter(choices=ErrorKind.choices[1:])
    caller = django_filters.CharFilter(field_name="caller_name", max_length=150)
    idempotency_key = django_filters.CharFilter(max_length=200)
    queued_after = UtcDateTimeFilter(field_name="queued_at", lookup_expr="gte")
    queued_before = UtcDateTimeFilter(field_name="queued_at", lookup_expr="lt")

    class Meta:
        model = Execution
        fields = [
            "tool",
            "version",
            "pattern",
            "status",
            "source",
            "environment",
            "error_kind",
            "caller",
            "idempotency_key",
            "queued_after",
            "queued_before",
        ]
