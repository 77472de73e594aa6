"""The audit log's filters: who, what, which tool and when (shared by page and API)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from catalog.models import AuditAction, AuditLog, Tenant, Tool


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class AuditFilterForm(forms.Form):
    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "must be on or after the From date")
        return cleaned


class AuditFilter(django_filters.FilterSet):
    """Filters over one tenant's audit entries: ``queryset`` must be scoped to ``tenant``."""

    user = django_filters.CharFilter(
        method="filter_user",
        label="User",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "user name"}),
    )
    action = django_filters.ChoiceFilter(
        choices=AuditAction.choices, label="Action", empty_label="Any action"
    )
    tool = django_filters.CharFilter(
        method="filter_tool",
        label="Tool",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "tool name"}),
    )
    date_from = django_filters.DateFilter(
        method="filter_from", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        method="filter_to", label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = AuditLog
        form = AuditFilterForm
        fields = ["user", "action", "tool", "date_from", "date_to"]

    def __init__(self, data: Any = None, queryset: Any = None, *, tenant: Tenant) -> None:
        super().__init__(data, queryset)
        self.tenant = tenant

    def filter_user(
        self, queryset: QuerySet[AuditLog], name: str, value: str
    ) -> QuerySet[AuditLog]:
        return queryset.filter(actor_name__iexact=value.strip()) if value.strip() else queryset

    def filter_tool(
        self, queryset: QuerySet[AuditLog], name: str, value: str
    ) -> QuerySet[AuditLog]:
        value = value.strip()
        if not value:
            return queryset
        # The tool's id first (tool names are lower-case slugs, unique in a tenant), so
        # that the (tool, -created_at) index finds its entries.
        tools = Tool.objects.for_tenant(self.tenant).filter(name=value.lower())
        return queryset.filter(tool__in=tools.values("pk"))

    # Days are whole days in the site's time zone, compared as a range so that the
    # (tenant, -created_at) index serves them.
    def filter_from(
        self, queryset: QuerySet[AuditLog], name: str, value: date
    ) -> QuerySet[AuditLog]:
        return queryset.filter(created_at__gte=_start_of(value))

    def filter_to(self, queryset: QuerySet[AuditLog], name: str, value: date) -> QuerySet[AuditLog]:
        return queryset.filter(created_at__lt=_start_of(value + timedelta(days=1)))
