"""A test URLconf and helpers for the API's infrastructure tests.

The probe endpoints depend on nothing but authentication, permissions, throttling and
the error handler, so these tests do not depend on the resource endpoints. The key
routes are mounted as in catalog/api/urls.py.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import caches
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework import status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.api import keys
from catalog.models import ApiKey, Role
from catalog.services import create_api_key
from catalog.views import account
from config.api.auth import TenantMember
from config.api.docs import RedocView, SwaggerView
from config.api.permissions import api_role, api_tenant, role_at_least

URLCONF = "tests.catalog.api.probe"
PROBE = "/api/v1/probe"

# What GET /api/v1/probe/raise raises next (set by a test).
next_error: list[BaseException] = []


class Probe(APIView):
    """GET (viewers): who is calling. POST (editors): 201."""

    def get_permissions(self) -> list[Any]:
        role = Role.VIEWER if self.request.method in SAFE_METHODS else Role.EDITOR
        return [role_at_least(role)()]

    def get(self, request: Request) -> Response:
        tenant = api_tenant(request)
        return Response(
            {
                "user": request.user.get_username(),
                "tenant": tenant.slug if tenant else None,
                "role": api_role(request),
                "via": "key" if isinstance(request.auth, ApiKey) else "session",
            }
        )

    def post(self, request: Request) -> Response:
        return Response({"ok": True, "echo": request.data}, status=status.HTTP_201_CREATED)


class Raiser(APIView):
    permission_classes = [TenantMember]

    def get(self, request: Request) -> Response:
        raise next_error.pop()


api_patterns = [
    path("keys", keys.key_list, name="key_list"),
    path("keys/<int:pk>", keys.key_detail, name="key_detail"),
    path("keys/<int:pk>/revoke", keys.key_revoke, name="key_revoke"),
    path("probe", Probe.as_view(), name="probe"),
    path("probe/raise", Raiser.as_view(), name="probe_raise"),
]

urlpatterns = [
    path("login/", account.login_view, name="login"),
    path("logout/", account.logout_view, name="logout"),
    path("tenant/", account.switch_tenant, name="switch_tenant"),
    path("api/v1/", include((api_patterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("catalog.urls")),
]


# -- helpers -------------------------------------------------------------------------------


def make_key(user: Any, tenant: Any, role: str = Role.VIEWER, **kwargs: Any) -> tuple[ApiKey, str]:
    return create_api_key(tenant, name=kwargs.pop("name", "probe"), role=role, actor=user, **kwargs)


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def fresh_cache(settings: Any, name: str) -> None:
    """A cache of the test's own, so throttling counts start from zero."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": name}
    }
    caches["default"].clear()
