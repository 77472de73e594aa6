"""GET /api/v1/executions and /api/v1/executions/<id>: a tenant's runs, filtered with the
Runs page's own filterset, and one run with everything recorded about it.

POST /api/v1/executions (run a tool) is the planner's; config/urls.py serves that one path
with both apps' actions."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import viewsets
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.models import Role, Tenant
from config.api.pagination import Pages
from config.api.permissions import api_tenant, role_at_least
from telemetry import selectors
from telemetry.filtersets import ExecutionFilterSet
from telemetry.models import Execution
from telemetry.serializers import RUN_EXAMPLE, ExecutionSerializer, ExecutionSummarySerializer


# Reading the tenant's runs. (A comment, not a docstring: the schema would take a docstring
# as the description of "Get a run".)
class ExecutionReadViewSet(viewsets.GenericViewSet):
    pagination_class = Pages
    filterset_class = ExecutionFilterSet
    # Which role each action needs; an action not named needs an admin.
    roles: dict[str, str] = {"list": Role.VIEWER, "retrieve": Role.VIEWER}

    def get_permissions(self) -> list[BasePermission]:
        return [role_at_least(self.roles.get(self.action, Role.ADMIN))()]

    def get_serializer_class(self) -> type:
        return ExecutionSummarySerializer if self.action == "list" else ExecutionSerializer

    @property
    def tenant(self) -> Tenant:
        tenant = api_tenant(self.request)
        assert tenant is not None  # the permission checked it
        return tenant

    def get_queryset(self) -> QuerySet[Execution]:
        if api_tenant(self.request) is None:  # only while generating the schema
            return Execution.objects.none()
        runs = selectors.runs_of(self.tenant)
        if self.action == "list":
            return runs.defer("stdout", "stderr", "error")
        return runs.select_related("decided_by")

    @extend_schema(
        summary="List runs",
        description="Your tenant's runs, newest first, without their captured output "
        "(read one run for that).",
        examples=[OpenApiExample("A run", value=RUN_EXAMPLE, response_only=True)],
    )
    def list(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(summary="Get a run", responses={200: ExecutionSerializer})
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self.get_serializer(selectors.run_of(self.tenant, pk)).data)


execution_detail = ExecutionReadViewSet.as_view({"get": "retrieve"})
