"""The filters of one tenant's runs, one set for the Runs page and GET /api/v1/executions
alike: the same query answers the same runs on both.

A status may be given more than once (``?status=failed&status=timed_out``; the page's
select sends one); the caller is the user name, ignoring case; time is given either as
whole days in the site's time zone (``date_from``, ``date_to``, ``within``: the page's) or
as ISO 8601 times (``queued_after``, ``queued_before``: a program's).
"""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django_filters.fields import IsoDateTimeField

from telemetry.models import Environment, ErrorKind, Execution, ExecutionSource, ExecutionStatus

# "In the last ..." choices and how far back each reaches.
WITHIN = {
    "hour": ("Last hour", datetime.timedelta(hours=1)),
    "day": ("Last 24 hours", datetime.timedelta(days=1)),
    "week": ("Last 7 days", datetime.timedelta(days=7)),
}


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class ExecutionFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "must be on or after the From date")
        return cleaned


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


class OneOrMoreSelect(forms.Select):
    """One choice on the page (with an "any" option first), any number from a link or a
    program: the values are read as a list, and the "any" option sends none."""

    def __init__(self, *args: Any, empty_label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.empty_label = empty_label

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        return [v for v in values if v not in (None, "")]

    def optgroups(self, name: str, value: Any, attrs: dict[str, Any] | None = None) -> Any:
        empty = self.create_option(name, "", self.empty_label, not value, 0, attrs=attrs)
        return [(None, [empty], 0), *super().optgroups(name, value, attrs)]


def _search(placeholder: str) -> forms.TextInput:
    return forms.TextInput(attrs={"type": "search", "placeholder": placeholder})


class ExecutionFilterSet(django_filters.FilterSet):
    """Filters over one tenant's runs: ``queryset`` must already be scoped to the tenant."""

    tool = django_filters.CharFilter(
        method="filter_tool", max_length=64, label="Tool name", widget=_search("any tool")
    )
    version = django_filters.CharFilter(
        field_name="tool_version__version", max_length=64, label="Exact version"
    )
    pattern = django_filters.CharFilter(field_name="pattern_name", max_length=64)
    status = django_filters.MultipleChoiceFilter(
        choices=ExecutionStatus.choices,
        label="Status",
        help_text="One or more (repeat the parameter).",
        widget=OneOrMoreSelect(empty_label="Any status"),
    )
    source = django_filters.ChoiceFilter(
        choices=ExecutionSource.choices, label="Started from", empty_label="Anywhere"
    )
    environment = django_filters.ChoiceFilter(
        choices=Environment.choices, label="Environment", empty_label="Any environment"
    )
    error_kind = django_filters.ChoiceFilter(
        choices=[c for c in ErrorKind.choices if c[0]], label="Error", empty_label="Any or none"
    )
    caller = django_filters.CharFilter(
        method="filter_caller",
        max_length=150,
        label="Who",
        help_text="The user name, ignoring case.",
        widget=_search("anyone"),
    )
    idempotency_key = django_filters.CharFilter(max_length=200)
    within = django_filters.ChoiceFilter(
        method="filter_within",
        choices=[(key, label) for key, (label, _) in WITHIN.items()],
        label="When",
        empty_label="Any time",
    )
    date_from = django_filters.DateFilter(
        method="filter_from",
        label="From",
        help_text="A whole day in the site's time zone.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        method="filter_to",
        label="To",
        help_text="A whole day in the site's time zone, included.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    queued_after = UtcDateTimeFilter(field_name="queued_at", lookup_expr="gte")
    queued_before = UtcDateTimeFilter(field_name="queued_at", lookup_expr="lt")

    class Meta:
        model = Execution
        form = ExecutionFilterForm
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
            "within",
            "date_from",
            "date_to",
            "queued_after",
            "queued_before",
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

    # Ranges over queued_at, so that the (tenant, -queued_at) indexes serve them.
    def filter_within(
        self, queryset: QuerySet[Execution], name: str, value: str
    ) -> QuerySet[Execution]:
        return queryset.filter(queued_at__gte=timezone.now() - WITHIN[value][1])

    def filter_from(
        self, queryset: QuerySet[Execution], name: str, value: datetime.date
    ) -> QuerySet[Execution]:
        return queryset.filter(queued_at__gte=_start_of(value))

    def filter_to(
        self, queryset: QuerySet[Execution], name: str, value: datetime.date
    ) -> QuerySet[Execution]:
        return queryset.filter(queued_at__lt=_start_of(value + datetime.timedelta(days=1)))
