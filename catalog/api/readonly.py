"""/api/v1/capabilities, /api/v1/patterns and /api/v1/audit: read-only lists over the
tenant's current versions and its audit log, filtered and paginated."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.api import examples
from catalog.api.serializers import (
    AuditEntrySerializer,
    CapabilitySerializer,
    PatternSerializer,
    ToolSummarySerializer,
)
from catalog.filtersets import AuditFilter, CapabilityFilterSet, PatternFilterSet
from catalog.models import AuditLog, Capability, Pattern, Role, Tenant, Tool
from catalog.selectors import audit_entries
from catalog.views.tool_list import rows_of
from config.api.filters import TenantFilterBackend
from config.api.pagination import Pages
from config.api.permissions import api_tenant, role_at_least


class _TenantList(generics.ListAPIView):
    """A paginated list of the caller's tenant; viewers and up."""

    permission_classes = [role_at_least(Role.VIEWER)]
    pagination_class = Pages

    @property
    def tenant(self) -> Tenant:
        tenant = api_tenant(self.request)
        assert tenant is not None  # the permission checked it
        return tenant

    @property
    def describing(self) -> bool:
        """True while the OpenAPI schema is built (no request, no tenant)."""
        return bool(getattr(self, "swagger_fake_view", False))


class CapabilityList(_TenantList):
    serializer_class = CapabilitySerializer
    filterset_class = CapabilityFilterSet

    def get_queryset(self) -> QuerySet[Any]:
        if self.describing:
            return Capability.objects.none()
        return (
            Capability.objects.filter(
                version__tool__tenant=self.tenant,
                version__tool__current_version=F("version"),
                version__tool__archived_at__isnull=True,
            )
            .values("name")
            .annotate(tools=Count("version__tool"))
            .order_by("name")
        )

    @extend_schema(
        summary="List capabilities",
        description="The distinct capabilities of the current versions of the tenant's tools "
        "(archived tools left out), by name, with how many tools have each.",
        examples=[examples.CAPABILITY],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class CapabilityTools(_TenantList):
    serializer_class = ToolSummarySerializer

    def get_queryset(self) -> QuerySet[Tool]:
        if self.describing:
            return Tool.objects.none()
        tools = (
            Tool.objects.for_tenant(self.tenant)
            .live()
            .filter(current_version__capabilities__name=self.kwargs["name"])
            .order_by("name")
        )
        return rows_of(tools)

    @extend_schema(
        summary="Tools with a capability",
        description="The tools whose current version has the capability, by name. No such "
        "capability among the tenant's current versions: 404.",
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH)],
        filters=False,
        examples=[examples.TOOL_LIST],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.get_queryset()
        page = self.paginate_queryset(queryset)
        if not page and not queryset.exists():
            raise Http404("No tool has this capability.")
        return self.get_paginated_response(ToolSummarySerializer(page, many=True).data)


class PatternList(_TenantList):
    serializer_class = PatternSerializer
    filterset_class = PatternFilterSet

    def get_queryset(self) -> QuerySet[Pattern]:
        if self.describing:
            return Pattern.objects.none()
        return (
            Pattern.objects.filter(
                capability__version__tool__tenant=self.tenant,
                capability__version__tool__current_version=F("capability__version"),
                capability__version__tool__archived_at__isnull=True,
            )
            .select_related("capability__version__tool")
            .order_by("capability__version__tool__name", "capability__position", "position", "id")
        )

    @extend_schema(
        summary="List patterns",
        description="Every pattern of every capability of the tenant's current versions, "
        "flat, with its tool, estimates, policy and preferences; by tool and capability.",
        examples=[examples.PATTERN],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class AuditList(_TenantList):
    serializer_class = AuditEntrySerializer
    filterset_class = AuditFilter
    filter_backends = [TenantFilterBackend]

    def get_queryset(self) -> QuerySet[AuditLog]:
        if self.describing:
            return AuditLog.objects.none()
        return audit_entries(self.tenant)

    @extend_schema(
        summary="Read the audit log",
        description="Every change in the tenant, newest first: who, when, from where, what "
        "changed (field by field) and why. Filter by user, action, tool and dates "
        "(YYYY-MM-DD, whole days).",
        examples=[examples.AUDIT_ENTRY],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
