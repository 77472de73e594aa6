"""Filters over a tenant's tools (shared by the HTML list, its export and the REST API) and
over its audit log (shared by the audit page and the API)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django_filters.fields import ChoiceField

from catalog.models import (
    AuditAction,
    AuditLog,
    Capability,
    Pattern,
    Platform,
    Tenant,
    Tool,
    ToolStatus,
    ToolTag,
)

ENABLED_CHOICES = [("yes", "Enabled"), ("no", "Disabled")]
# Archived tools are hidden unless asked for; "hide" is what an empty value means.
ARCHIVED_CHOICES = [
    ("hide", "Hide archived"),
    ("only", "Archived only"),
    ("include", "Include archived"),
]
# The usual ways to write yes and no in a query string (compared ignoring case).
YES_WORDS = ("yes", "true", "1", "on")
NO_WORDS = ("no", "false", "0", "off")


def yes_no_spellings(yes: str = "yes", no: str = "no") -> dict[str, str]:
    """Every spelling of yes and no, mapped to the choice it stands for."""
    return {**dict.fromkeys(YES_WORDS, yes), **dict.fromkeys(NO_WORDS, no)}


class SpelledChoiceField(ChoiceField):
    """A choice that also takes the usual spellings of its values (``true`` for ``yes``),
    ignoring case, and that names every valid value when it refuses one."""

    def __init__(self, *args: Any, spellings: dict[str, str], **kwargs: Any) -> None:
        self.spellings = spellings
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value).strip().lower()
        return self.spellings.get(text, text)

    def validate(self, value: Any) -> None:
        if value and not self.valid_value(value):
            raise ValidationError(self.refusal(), code="invalid_choice")
        super().validate(value)

    def refusal(self) -> str:
        values = [str(value) for value, _ in self.choices if value != ""]
        spelled = [word for word in self.spellings if word not in values]
        words = ", ".join(values[:-1]) + f" or {values[-1]}" if len(values) > 1 else values[0]
        text = f"Not a valid value: use {words}"
        if spelled:
            text += f" ({', '.join(spelled)} also work"
            if self.spellings.get("true") not in (None, "yes"):
                text += f"; true means {self.spellings['true']}"
            text += ")"
        return text + "."


class SpelledChoiceFilter(django_filters.ChoiceFilter):
    """A ChoiceFilter whose values may be written the usual other ways (see SpelledChoiceField)."""

    field_class = SpelledChoiceField


class YesNoFilter(SpelledChoiceFilter):
    """A yes/no filter on a boolean field that takes true/false, 1/0 and on/off too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("choices", ENABLED_CHOICES)
        kwargs.setdefault("spellings", yes_no_spellings())
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in ("yes", "no"):
            return qs.filter(**{self.field_name: value == "yes"})
        return qs


SORT_FIELDS = ("name", "platform", "category", "status", "enabled", "updated_at")


def category_choices(tenant: Tenant) -> list[tuple[str, str]]:
    """The categories the tenant's tools use, by name (one index-only query)."""
    names = (
        Tool.objects.for_tenant(tenant)
        .exclude(category="")
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()
    )
    return [(name, name) for name in names]


def tag_names(tenant: Tenant) -> list[str]:
    """Every tag the tenant's tools carry, by name."""
    return list(
        ToolTag.objects.filter(tenant=tenant)
        .order_by("name")
        .values_list("name", flat=True)
        .distinct()
    )


class ToolOrdering(django_filters.OrderingFilter):
    """Sorting by one column; ties are broken by name so that pages are stable."""

    def filter(self, qs: QuerySet[Tool], value: Any) -> QuerySet[Tool]:
        ordering = [self.get_ordering_value(param) for param in value or [] if param]
        if not any(field.lstrip("-") == "name" for field in ordering):
            ordering.append("name")
        return qs.order_by(*ordering)


class ToolFilterSet(django_filters.FilterSet):
    """A tenant's tools by search words, platform, category, status, tag and state.

    Always scoped to one tenant: ``tenant`` or, as the REST API passes it,
    ``request.tenant``. Archived tools are left out unless ``archived`` asks for them.
    """

    q = django_filters.CharFilter(method="search", label="Search", max_length=200)
    platform = django_filters.ChoiceFilter(choices=Platform.choices)
    category = django_filters.ChoiceFilter(choices=[])
    status = django_filters.ChoiceFilter(choices=ToolStatus.choices)
    tag = django_filters.CharFilter(method="with_tag", max_length=40)
    enabled = SpelledChoiceFilter(
        choices=ENABLED_CHOICES, spellings=yes_no_spellings(), method="by_enabled"
    )
    # archived=yes asks for the archived tools only, as enabled=yes does for enabled ones.
    archived = SpelledChoiceFilter(
        choices=ARCHIVED_CHOICES,
        spellings=yes_no_spellings(yes="only", no="hide"),
        method="by_archived",
    )
    ordering = ToolOrdering(fields=SORT_FIELDS)

    class Meta:
        model = Tool
        fields = ["q", "platform", "category", "status", "tag", "enabled", "archived"]

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet[Tool] | None = None,
        *,
        request: Any = None,
        prefix: str | None = None,
        tenant: Tenant | None = None,
    ) -> None:
        tenant = tenant or getattr(request, "tenant", None)
        if tenant is None:
            raise ValueError("ToolFilterSet needs a tenant")
        scoped = Tool.objects.all() if queryset is None else queryset
        # Always bound, so that the archived default applies to an empty query string.
        super().__init__(
            data if data is not None else {},
            scoped.filter(tenant=tenant),
            request=request,
            prefix=prefix,
        )
        self.tenant = tenant
        category = self.filters["category"]
        category.extra["choices"] = category_choices(tenant)
        # A form field made before (and deep-copied from the class's filter, e.g. once
        # the OpenAPI schema was built) would keep its old choices: make it again.
        category.__dict__.pop("_field", None)

    def filter_queryset(self, queryset: QuerySet[Tool]) -> QuerySet[Tool]:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("archived"):
            queryset = queryset.filter(archived_at__isnull=True)
        if not self.form.cleaned_data.get("ordering"):
            queryset = queryset.order_by("name")
        return queryset

    def search(self, queryset: QuerySet[Tool], name: str, value: str) -> QuerySet[Tool]:
        words = value.strip()
        if not words:
            return queryset
        tagged = ToolTag.objects.filter(tenant=self.tenant, name=words.lower()).values("tool_id")
        return queryset.filter(
            Q(name__icontains=words) | Q(description__icontains=words) | Q(pk__in=tagged)
        )

    def with_tag(self, queryset: QuerySet[Tool], name: str, value: str) -> QuerySet[Tool]:
        tag = value.strip().lower()
        if not tag:
            return queryset
        # EXISTS probes the (tool, name) unique index once per candidate tool. A join on
        # (tenant, name) is as fast with planner statistics, but without them (a bulk
        # import before ANALYZE) PostgreSQL nested-looped it: 250 ms instead of 5 ms.
        return queryset.filter(Exists(ToolTag.objects.filter(tool=OuterRef("pk"), name=tag)))

    def by_enabled(self, queryset: QuerySet[Tool], name: str, value: str) -> QuerySet[Tool]:
        return queryset.filter(enabled=value == "yes")

    def by_archived(self, queryset: QuerySet[Tool], name: str, value: str) -> QuerySet[Tool]:
        if value == "only":
            return queryset.filter(archived_at__isnull=False)
        if value == "include":
            return queryset
        return queryset.filter(archived_at__isnull=True)


# The audit log's filters: who, what, which tool and when (shared by page and API).


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


# The API's lists of capabilities and patterns.


class CapabilityFilterSet(django_filters.FilterSet):
    """Capability names (already grouped and counted) by a part of the name."""

    q = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", max_length=64, label="Part of the name"
    )

    class Meta:
        model = Capability
        fields = ["q"]


class PatternFilterSet(django_filters.FilterSet):
    """Patterns of current versions by tool, capability and policy."""

    tool = django_filters.CharFilter(
        field_name="capability__version__tool__name", max_length=64, label="Tool name"
    )
    capability = django_filters.CharFilter(
        field_name="capability__name", max_length=64, label="Capability name"
    )
    requires_approval = YesNoFilter()
    production_safe = YesNoFilter()

    class Meta:
        model = Pattern
        fields = ["tool", "capability", "requires_approval", "production_safe"]
