"""The filter backend for filtersets built for one tenant: it hands them the caller's
tenant (``tenant=``) instead of the request."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.request import Request

from config.api.permissions import api_tenant


class TenantFilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend for filtersets that take ``tenant=`` instead of ``request=``."""

    def get_filterset_kwargs(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> dict[str, Any]:
        return {"data": request.query_params, "queryset": queryset, "tenant": api_tenant(request)}
