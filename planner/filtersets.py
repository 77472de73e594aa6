"""The runs list's filters: which tool, how it went, where it came from, who and when
(shared by the page and the API)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from telemetry.models import Environment, ErrorKind, Execution, ExecutionSource, ExecutionStatus

# "In the last ..." choices and how far back each reaches.
WITHIN = {
    "hour": ("Last hour", timedelta(hours=1)),
    "day": ("Last 24 hours", timedelta(days=1)),
    "week": ("Last 7 days", timedelta(days=7)),
}


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class ExecutionFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "must be on or after the From date")
        return cleaned


def _search(placeholder: str) -> forms.TextInput:
    return forms.TextInput(attrs={"type": "search", "placeholder": placeholder})


class ExecutionFilterSet(django_filters.FilterSet):
    """Filters over one tenant's runs: ``queryset`` must already be scoped to the tenant."""

    tool = django_filters.CharFilter(method="filter_tool", label="Tool", widget=_search("any tool"))
    status = django_filters.ChoiceFilter(
        choices=ExecutionStatus.choices, label="Status", empty_label="Any status"
    )
    source = django_filters.ChoiceFilter(
        choices=ExecutionSource.choices, label="Started from", empty_label="Anywhere"
    )
    environment = django_filters.ChoiceFilter(
        choices=Environment.choices, label="Environment", empty_label="Any environment"
    )
    caller = django_filters.CharFilter(
        method="filter_caller", label="Who", widget=_search("anyone")
    )
    error_kind = django_filters.ChoiceFilter(
        choices=[c for c in ErrorKind.choices if c[0]],
        label="Error",
        empty_label="Any or none",
    )
    within = django_filters.ChoiceFilter(
        method="filter_within",
        choices=[(key, label) for key, (label, _) in WITHIN.items()],
        label="When",
        empty_label="Any time",
    )
    date_from = django_filters.DateFilter(
        method="filter_from", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        method="filter_to", label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = Execution
        form = ExecutionFilterForm
        fields = [
            "tool",
            "status",
            "source",
            "environment",
            "caller",
            "error_kind",
            "within",
            "date_from",
            "date_to",
        ]

    def filter_tool(
        self, queryset: QuerySet[Execution], name: str, value: str
    ) -> QuerySet[Execution]:
        # Tool names keep their case (getWeather); the name is kept on the run, so runs of
        # a purged tool are still found.
        value = value.strip()
        return queryset.filter(tool_name=value) if value else queryset

    def filter_caller(
        self, queryset: QuerySet[Execution], name: str, value: str
    ) -> QuerySet[Execution]:
        value = value.strip()
        return queryset.filter(caller_name__iexact=value) if value else queryset

    # Ranges over queued_at, so that the (tenant, -queued_at) indexes serve them; days are
    # whole days in the site's time zone.
    def filter_within(
        self, queryset: QuerySet[Execution], name: str, value: str
    ) -> QuerySet[Execution]:
        return queryset.filter(queued_at__gte=timezone.now() - WITHIN[value][1])

    def filter_from(
        self, queryset: QuerySet[Execution], name: str, value: date
    ) -> QuerySet[Execution]:
        return queryset.filter(queued_at__gte=_start_of(value))

    def filter_to(
        self, queryset: QuerySet[Execution], name: str, value: date
    ) -> QuerySet[Execution]:
        return queryset.filter(queued_at__lt=_start_of(value + timedelta(days=1)))
