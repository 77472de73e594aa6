"""Who may call an endpoint: a tenant and a role, from the session or from an API key.

Session users get ``request.tenant`` and ``request.role`` from TenantMiddleware; API-key
authentication (config/api/auth.py) sets the same two attributes from the key, so views
and permissions read one place whichever way the caller signed in.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from catalog.models import Role, Tenant


def api_tenant(request: Request) -> Tenant | None:
    return getattr(request._request, "tenant", None)


def api_role(request: Request) -> str | None:
    return getattr(request._request, "role", None)


def role_at_least(role: str) -> type[BasePermission]:
    """A permission class: signed in, working in a tenant, holding ``role`` or higher."""

    class RoleAtLeast(BasePermission):
        message = f"This needs the {role} role."

        def has_permission(self, request: Request, view: Any) -> bool:
            held = api_role(request)
            if not request.user or not request.user.is_authenticated:
                return False
            return (
                api_tenant(request) is not None
                and held is not None
                and (Role.rank(held) >= Role.rank(role))
            )

    RoleAtLeast.__name__ = f"RoleAtLeast{role.title()}"
    return RoleAtLeast
