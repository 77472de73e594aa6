"""Filters of the API's own lists (capabilities, patterns), and the filter backend that
hands the caller's tenant to filtersets built for one (the audit log's)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.request import Request

from catalog.api.permissions import api_tenant
from catalog.filtersets import YesNoFilter
from catalog.models import Capability, Pattern


class TenantFilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend for filtersets that take ``tenant=`` instead of ``request=``."""

    def get_filterset_kwargs(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> dict[str, Any]:
        return {"data": request.query_params, "queryset": queryset, "tenant": api_tenant(request)}


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
